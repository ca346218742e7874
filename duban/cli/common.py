"""What every `duban` command module shares: the app, the services, identities and output.

Command modules (`duban.cli`, and those listed in `COMMAND_MODULES`) import from here and add
their commands with a `register(app)` function, so that each part of the system keeps its own
commands beside it without one file growing without end.

Errors a person can act on end as one line on stderr and an exit code chosen by class
(`EXIT_CODES`, most specific first); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from duban.app.dates import check_year, in_range, out_of_range_message
from duban.app.errors import ApplicationError, DomainError, InvalidTokenRequest
from duban.app.roles import ROLES, Action, Identity, authorize
from duban.app.services import Services
from duban.app.validation_messages import translate
from duban.app.vocabulary import FIELD_LABELS
from duban.bootstrap import bootstrap
from duban.cli.chinese import ChineseGroup
from duban.cli.output import render_csv, render_table, to_json
from duban.settings.config import ConfigError, load_config, resolve_config_path
from duban.settings.logs import configure_logging

__all__ = [
    "EXIT_CODES",
    "NOW_ENV",
    "ROLE_NAMES",
    "AsOpt",
    "Fmt",
    "FormatOpt",
    "app",
    "close_services",
    "current_moment",
    "echo",
    "env_clock",
    "fail",
    "parse_day",
    "parse_identity",
    "parse_moment",
    "parse_year",
    "require",
    "services",
    "user_errors",
]

_D = TypeVar("_D", bound=dt.date)

app = typer.Typer(
    help="督办：县委改革办的改革任务督办台账（交办、签收、报送、催办、销号、报告）",
    no_args_is_help=True,
    cls=ChineseGroup,  # help pages and usage errors in Chinese (duban.cli.chinese)
    rich_markup_mode=None,  # plain help: the Chinese formatter writes every page
)


class Fmt(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class _State:
    config: str | None = None
    services: Services | None = None


_state = _State()

ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config", help="配置文件（缺省时用环境变量 DUBAN_CONFIG，再缺省用 ./duban.toml）"
    ),
]
AsOpt = Annotated[
    str,
    typer.Option(
        "--as",
        help=(
            "办理人：office[:姓名]（改革办）、liaison:单位/姓名（联络员）、"
            "official:姓名（领衔领导）、auditor:姓名（审计人员）；角色也可写中文，"
            "如 联络员:县财政局/李娜"
        ),
    ),
]
FormatOpt = Annotated[Fmt, typer.Option("--format", help="输出格式：table（表格）、json、csv")]


@app.callback()
def _main(
    config: ConfigOpt = None,
    log_level: Annotated[
        str, typer.Option(envvar="DUBAN_LOG_LEVEL", help="日志级别：DEBUG、INFO、WARNING、ERROR")
    ] = "WARNING",
    log_json: Annotated[
        bool | None,
        typer.Option(
            "--log-json/--log-text",
            envvar="DUBAN_LOG_JSON",
            help=(
                "日志写成每行一条 JSON（标准错误输出不是终端时的默认）；"
                "--log-text：只写中文提示（在终端上的默认）"
            ),
            show_default=False,
        ),
    ] = None,
) -> None:
    _state.config = config
    configure_logging(log_level, json=log_json)


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def services() -> Services:
    """The services every command works with, on the one clock of `env_clock`."""
    if _state.services is None:
        with user_errors():
            config = load_config(resolve_config_path(_state.config))
        clock = env_clock(config.tz)
        with user_errors():
            _state.services = bootstrap(config, clock)
    return _state.services


def close_services() -> None:
    """Close the services' store (its PostgreSQL connection pool) as the command ends. Left to
    the garbage collector at interpreter exit, the pool's close waits on worker threads that
    Python 3.13 has already stopped: every command on PostgreSQL took some 20 s longer."""
    svc, _state.services = _state.services, None
    if svc is not None:
        svc.ledger.close()  # idempotent: `duban serve` and the scheduler close theirs first


# ---- the clock ----------------------------------------------------------------------------

NOW_ENV = "DUBAN_NOW"  # a fixed moment for every command (and `duban serve`): tests, rehearsals


def env_clock(tz: dt.tzinfo) -> Callable[[], dt.datetime] | None:
    """The clock of this process: the moment `$DUBAN_NOW` names (ISO 8601; in `tz` unless it
    names its zone), held still; None (the machine's clock, in `tz`) when it is unset or empty.
    A `--now` option still overrides it for its command. A bad value: one line and exit 2."""
    text = os.environ.get(NOW_ENV, "").strip()
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        fail(f"环境变量 {NOW_ENV}：不是有效的日期时间「{text}」，请写成如 2024-10-09T09:00", 2)
    fixed = _in_range(moment if moment.tzinfo else moment.replace(tzinfo=tz), f"环境变量 {NOW_ENV}")
    return lambda: fixed


def current_moment() -> dt.datetime:
    """Now, on the services' clock (`$DUBAN_NOW` if set), in the config's zone."""
    svc = services()
    return svc.ledger.clock().astimezone(svc.config.tz)


def _coded(exc: Any) -> str:
    """The error's Chinese message (its code stays in the API's `error` and in the logs)."""
    return str(exc.message)


def _fields(exc: Any) -> str:
    """pydantic's errors in Chinese, each named by its field (「完成进度不能大于100」)."""
    return "；".join(p["message"] for p in translate(exc.errors(), FIELD_LABELS))


# (error class, exit code, the line it prints): the first class the error is an instance of.
EXIT_CODES: tuple[tuple[type[Exception], int, Callable[[Any], str]], ...] = (
    (ConfigError, 2, str),  # the config cannot be used: named key by key
    (ValidationError, 2, _fields),  # the input is invalid: named field by field
    (InvalidTokenRequest, 2, _coded),  # no token for that role, unit or person
    (DomainError, 1, _coded),  # the task's state (or the role) does not allow it
    (ApplicationError, 1, _coded),  # another writer got there first, …
)
_CAUGHT = tuple(cls for cls, _, _ in EXIT_CODES)


@contextmanager
def user_errors() -> Iterator[None]:
    """Errors a person can act on become one readable line and their exit code."""
    try:
        yield
    except _CAUGHT as exc:
        code, line = next((code, line) for cls, code, line in EXIT_CODES if isinstance(exc, cls))
        fail(line(exc), code)


def parse_day(text: str, option: str) -> dt.date:
    """A day typed as YYYY-MM-DD, in the product's date range; else one line and exit 2."""
    try:
        day = dt.datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        fail(f"{option}：不是有效的日期「{text}」，请写成 YYYY-MM-DD，如 2024-06-30", 2)
    return _in_range(day, option)


def parse_moment(text: str, option: str, tz: dt.tzinfo) -> dt.datetime:
    """A moment typed in ISO 8601 (2024-10-09, 2024-10-09T09:00, …+08:00), in `tz` unless it
    names its zone, in the product's date range; else one line and exit 2."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"{option}：不是有效的日期时间「{text}」，请写成如 2024-10-09T09:00", 2)
    return _in_range(moment if moment.tzinfo else moment.replace(tzinfo=tz), option)


def parse_year(year: int, option: str) -> int:
    """A year given on the command line, within the product's date range; else exit 2."""
    try:
        return check_year(year)
    except DomainError as exc:
        fail(f"{option}：{exc.message}", 2)


def _in_range(day: _D, option: str) -> _D:
    if not in_range(day):
        fail(out_of_range_message(day, option), 2)
    return day


# The roles `--as` also takes by their Chinese names (「--as 联络员:县财政局/李娜」).
ROLE_NAMES: dict[str, str] = {
    "改革办": "office",
    "县委改革办": "office",
    "联络员": "liaison",
    "单位联络员": "liaison",
    "领导": "official",
    "领衔领导": "official",
    "审计": "auditor",
    "审计人员": "auditor",
}
_ROLE_CHOICES = (
    "office[:姓名]（改革办）、liaison:单位/姓名（联络员）、official:姓名（领导）、"
    "auditor:姓名（审计），角色也可写中文，如 联络员:县财政局/李娜"
)


def parse_identity(text: str) -> Identity:
    """`--as ROLE[:…]`, the role by its code (office, liaison, official, auditor) or its
    Chinese name (改革办, 联络员, 领导, 审计); else one line naming the choices and exit 2."""
    typed, _, rest = text.partition(":")
    role = ROLE_NAMES.get(typed.strip(), typed)
    if role not in ROLES:
        fail(f"--as：无法识别的角色，应为 {_ROLE_CHOICES}", 2)
    if role == "liaison":
        unit, _, name = rest.partition("/")
        if not unit:
            fail("--as liaison:单位/姓名：请写明单位", 2)
        return Identity(role="liaison", name=name or "联络员", unit=unit)
    return Identity(role=role, name=rest or {"office": "改革办"}.get(role, role))


def require(as_: str, action: Action) -> Identity:
    """The acting identity, if it may perform `action`; else a one-line refusal (exit 1)."""
    who = parse_identity(as_)
    with user_errors():
        authorize(who, action)
    return who


def echo(data: Any, fmt: Fmt, columns: list[tuple[str, str]] | None = None) -> None:
    rows = data if isinstance(data, list) else [data]
    if fmt is Fmt.json:
        typer.echo(to_json(data))
    elif fmt is Fmt.csv and columns:
        sys.stdout.write(render_csv(rows, columns))
    elif columns:
        typer.echo(render_table(rows, columns))
    else:
        for key, value in data.items():
            typer.echo(f"{key}: {value}")
