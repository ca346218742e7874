"""`duban invite`, `duban person add|list|disable`, `duban session list|revoke`: who may sign in
to the web workspace. Office-only (`--as`), like `duban token`."""

from __future__ import annotations

from typing import Annotated

import typer

from duban.app.people import PeopleRegistry
from duban.app.vocabulary import (
    PERSON_STATE_LABELS,
    ROLE_LABELS,
    SESSION_STATE_LABELS,
    SIGNIN_HOW_LABELS,
    moment_text,
)
from duban.cli.common import (
    AsOpt,
    Fmt,
    FormatOpt,
    echo,
    parse_identity,
    services,
    user_errors,
)
from duban.cli.output import to_json
from duban.settings.logs import register_secrets

__all__ = ["register"]

person_app = typer.Typer(help="人员：添加、查看和停用可登录工作台的人员", no_args_is_help=True)
session_app = typer.Typer(help="登录会话：查看和注销工作台的登录", no_args_is_help=True)

PERSON_COLUMNS = [
    ("name", "姓名"),
    ("role", "角色"),
    ("unit", "单位"),
    ("login", "登录名"),
    ("active", "状态"),
    ("has_password", "已设密码"),
]
SESSION_COLUMNS = [
    ("session_id", "编号"),
    ("name", "姓名"),
    ("how", "登录方式"),
    ("opened_at", "登录时间"),
    ("expires_at", "到期时间"),
    ("live", "状态"),
]


def _people() -> PeopleRegistry:
    return PeopleRegistry.of(services())


def invite(
    person: Annotated[
        str, typer.Argument(help="联络员的姓名或手机号、领衔领导的姓名，或添加人员时的登录名")
    ],
    url: Annotated[
        str | None, typer.Option("--url", help="工作台地址（缺省用配置文件中设置的工作台地址）")
    ] = None,
    fmt: FormatOpt = Fmt.table,
    as_: AsOpt = "office",
) -> None:
    """生成一次性登录邀请链接：链接只显示这一次，台账只存其哈希值。"""
    svc = services()
    with user_errors():
        issued = PeopleRegistry.of(svc).invite(person, parse_identity(as_), url)
    register_secrets([issued.link.rsplit("=", 1)[-1]])
    expires = issued.expires_at.astimezone(svc.config.tz)
    if fmt is Fmt.json:
        typer.echo(to_json({**vars(issued), "expires_at": expires}))
        return
    typer.echo(f"{issued.name} 的登录邀请链接（只能使用一次，只显示这一次）：")
    typer.echo(issued.link)
    typer.echo(f"有效期至 {expires:%Y-%m-%d %H:%M}")


def person_add(
    role: Annotated[str, typer.Option("--role", help="角色：office（改革办）、auditor（审计）")],
    name: Annotated[str, typer.Option("--name", help="姓名")],
    login: Annotated[str, typer.Option("--login", help="登录名")],
    reason: Annotated[str, typer.Option("--reason", help="理由")] = "",
    as_: AsOpt = "office",
) -> None:
    """添加改革办工作人员或审计人员（联络员和领衔领导来自配置的名录）。"""
    with user_errors():
        added = _people().add(role, name, login, parse_identity(as_), reason)
    typer.echo(f"已添加{ROLE_LABELS.get(added['role'], '')} {added['name']}，登录名 {login}")
    typer.echo(f"邀请其登录：duban invite {login}")


def person_list(fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    """可登录工作台的全部人员（不显示密码）。"""
    with user_errors():
        rows = _people().people(parse_identity(as_))
    if fmt is not Fmt.json:
        rows = [
            {
                **row,
                "role": ROLE_LABELS.get(row["role"], "其他"),
                "active": PERSON_STATE_LABELS["active" if row["active"] else "disabled"],
                "has_password": "是" if row["has_password"] else "否",
            }
            for row in rows
        ]
    echo(rows, fmt, PERSON_COLUMNS)


def person_disable(
    person: Annotated[str, typer.Argument(help="姓名、手机号或登录名")],
    reason: Annotated[str, typer.Option("--reason", help="停用理由")] = "",
    as_: AsOpt = "office",
) -> None:
    """停用人员：不能再登录，已登录的会话立即失效。"""
    with user_errors():
        done = _people().disable(person, parse_identity(as_), reason)
    typer.echo(f"{done['name']} 已停用，其登录会话已全部注销")


def session_list(fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    """工作台的全部登录会话（不显示会话凭据）。"""
    svc = services()
    with user_errors():
        rows = PeopleRegistry.of(svc).sessions(parse_identity(as_))
    tz = svc.config.tz
    if fmt is not Fmt.json:
        rows = [
            {
                **row,
                "how": SIGNIN_HOW_LABELS.get(row["how"], "其他"),
                "opened_at": moment_text(row["opened_at"].astimezone(tz)),
                "expires_at": moment_text(row["expires_at"].astimezone(tz)),
                "live": SESSION_STATE_LABELS[_state(row)],
            }
            for row in rows
        ]
    echo(rows, fmt, SESSION_COLUMNS)


def _state(row: dict[str, object]) -> str:
    return "live" if row["live"] else ("revoked" if row["revoked"] else "expired")


def session_revoke(
    session_id: Annotated[str, typer.Argument(help="会话编号（见 duban session list）")],
    reason: Annotated[str, typer.Option("--reason", help="注销理由")] = "",
    as_: AsOpt = "office",
) -> None:
    """注销一个登录会话：该浏览器须重新登录。"""
    with user_errors():
        _people().revoke(session_id, parse_identity(as_), reason)
    typer.echo(f"登录会话 {session_id} 已注销")


def register(app: typer.Typer) -> None:
    app.command("invite")(invite)
    person_app.command("add")(person_add)
    person_app.command("list")(person_list)
    person_app.command("disable")(person_disable)
    session_app.command("list")(session_list)
    session_app.command("revoke")(session_revoke)
    app.add_typer(person_app, name="person")
    app.add_typer(session_app, name="session")
