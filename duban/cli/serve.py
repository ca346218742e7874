"""`duban serve` (the HTTP API and the web board) and `duban token issue|revoke|list`.

The scheduler plugs into `serve` through the composition root: `duban.bootstrap.scheduler_service`
returns an object with `start()` and `stop()` that `serve` starts with the app and stops on
shutdown, unless `--no-scheduler` is given.

With `$DUBAN_NOW` set (see `duban.cli.common.env_clock`) every request reads and records that
moment instead of the machine's clock, and the banner says so; the scheduler still fires by the
machine's clock.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
from types import FrameType
from typing import Annotated

import typer
import uvicorn

from duban.api import Background, create_app
from duban.app.access import TokenRegistry
from duban.app.calendar_follow import CalendarFollower
from duban.app.services import Services
from duban.app.vocabulary import ROLE_LABELS
from duban.bootstrap import scheduler_service
from duban.cli.common import (
    NOW_ENV,
    AsOpt,
    Fmt,
    FormatOpt,
    current_moment,
    echo,
    parse_identity,
    services,
    user_errors,
)
from duban.cli.http_server import uvicorn_config
from duban.cli.output import to_json
from duban.settings.logs import register_secrets

__all__ = ["register"]

token_app = typer.Typer(help="访问令牌：签发、吊销和查看接口（API）令牌", no_args_is_help=True)

TOKEN_COLUMNS = [
    ("token_id", "编号"),
    ("role", "角色"),
    ("name", "名称"),
    ("unit", "单位"),
    ("issued_at", "签发时间"),
    ("revoked_at", "吊销时间"),
]


class _GracefulServer(uvicorn.Server):
    """Finishes in-flight requests on SIGINT/SIGTERM, then returns instead of re-raising."""

    stopped_by: str | None = None
    banner = ""  # printed once listening, "{port}" replaced by the bound one (`--port 0`)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.servers and self.servers[0].sockets:
            bound = self.servers[0].sockets[0].getsockname()[1]
            typer.echo(self.banner.replace("{port}", str(bound)))

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stopped_by = signal.Signals(sig).name
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True


def scheduler_services(svc: Services, enabled: bool) -> list[Background]:
    """The calendar follower (imported holiday notices reach the running server) and the
    composition root's scheduler, unless `--no-scheduler` turned it off."""
    follower = CalendarFollower(svc)
    return [follower, scheduler_service(svc)] if enabled else [follower]


def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="监听端口（0 表示任选空闲端口）")] = 8000,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="只提供服务，不启动定时任务")
    ] = False,
) -> None:
    """启动服务：接口（/api/v1）和只读网页看板（/），直到按 Ctrl-C 或收到停止信号。"""
    svc = services()
    if svc.config.web.public_url is None:
        typer.echo(NO_PUBLIC_URL, err=True)  # once, at start: messages carry no task links
    background = scheduler_services(svc, enabled=not no_scheduler)
    app = create_app(svc, background)
    server = _GracefulServer(uvicorn_config(app, host, port, svc.config.http))
    scheduler = "" if no_scheduler else "，含提醒调度（已有调度进程时自动让出）"
    api = "（接口 /api/v1，接口说明 /openapi.json）"
    server.banner = f"督办服务: http://{host}:{{port}}/  {api}{scheduler}{_pinned_clock()}"
    _freeze_what_start_up_built()
    try:
        server.run()
    finally:
        svc.ledger.close()
    if server.stopped_by:
        typer.echo(f"已停止（{_STOP_REASONS.get(server.stopped_by, '收到停止信号')}）")


def _freeze_what_start_up_built() -> None:
    """Everything built so far (modules, config, the app, the projections caught up at start)
    lives as long as the server: `gc.freeze` moves it out of the collector's generations, so a
    full collection no longer walks it. Measured: a full collection during a report burst took
    85–117 ms with the start-up objects in it and ~4 ms without (docs/performance.md)."""
    gc.collect()
    gc.freeze()


NO_PUBLIC_URL = "未设置 [web] public_url：群消息中不附任务链接"
"""What `serve` tells the office at start when messages cannot link to the workspace."""

_STOP_REASONS = {"SIGTERM": "收到终止信号", "SIGINT": "收到中断信号"}
"""How `serve` says why it stopped (the signal's name stays in the log)."""


def _pinned_clock() -> str:
    """「；时钟固定为 …」 when `$DUBAN_NOW` holds the clock still, else nothing."""
    if not os.environ.get(NOW_ENV, "").strip():
        return ""
    return f"；时钟固定为 {current_moment():%Y-%m-%d %H:%M:%S%z}（环境变量 {NOW_ENV}）"


def _tokens() -> TokenRegistry:
    return TokenRegistry.of(services())


def token_issue(
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="角色：office（改革办）、liaison（联络员）、official（领衔领导）、auditor（审计）",
        ),
    ],
    unit: Annotated[str | None, typer.Option("--unit", help="联络员所在单位")] = None,
    name: Annotated[str | None, typer.Option("--name", help="持有人姓名（领衔领导必填）")] = None,
    reason: Annotated[str, typer.Option("--reason", help="签发理由")] = "",
    quiet: Annotated[bool, typer.Option("--quiet", help="只显示令牌本身")] = False,
    fmt: FormatOpt = Fmt.table,
    as_: AsOpt = "office",
) -> None:
    """签发绑定角色（及单位）的令牌：只显示这一次，台账只存其哈希值。"""
    with user_errors():
        issued = _tokens().issue(role, name, unit, parse_identity(as_), reason)
    register_secrets([issued.token])
    if quiet:
        typer.echo(issued.token)
    elif fmt is Fmt.json:
        typer.echo(to_json(vars(issued)))
    else:
        typer.echo("访问令牌（只显示这一次，请妥善保存；台账只保存其哈希）：")
        typer.echo(issued.token)
        bound = f"，单位 {issued.unit}" if issued.unit else ""
        role = ROLE_LABELS.get(issued.role, issued.role)
        typer.echo(f"编号 {issued.token_id}，角色 {role}，名称 {issued.name}{bound}")
        typer.echo(f"吊销：duban token revoke {issued.token_id}")


def token_revoke(
    token_id: Annotated[str, typer.Argument(help="令牌编号（不是令牌本身）")],
    reason: Annotated[str, typer.Option("--reason", help="吊销理由")] = "",
    as_: AsOpt = "office",
) -> None:
    """吊销令牌：此后凡持该令牌的请求一律拒绝。"""
    with user_errors():
        _tokens().revoke(token_id, parse_identity(as_), reason)
    typer.echo(f"令牌 {token_id} 已吊销")


def token_list(fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    """已签发的全部令牌、其绑定的角色和单位、是否已吊销（不显示令牌本身）。"""
    with user_errors():
        rows = _tokens().tokens(parse_identity(as_))
    if fmt is not Fmt.json:  # the role by its Chinese name; its code stays in --format json
        rows = [{**row, "role": ROLE_LABELS.get(row["role"], "其他")} for row in rows]
    echo(rows, fmt, TOKEN_COLUMNS)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    token_app.command("issue")(token_issue)
    token_app.command("revoke")(token_revoke)
    token_app.command("list")(token_list)
    app.add_typer(token_app, name="token")
