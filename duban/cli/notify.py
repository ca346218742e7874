"""`duban deliver` (one delivery pass over the outbox) and `duban notify test CHANNEL`.

Both print what the platforms answered — kind, code and their message, scrubbed of keys — and
the robots by fingerprint only: a webhook is a credential and is never printed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from duban.app.delivery_adapters import DeliveryReport, NotifierError, open_deliverer
from duban.cli.common import (
    AsOpt,
    Fmt,
    FormatOpt,
    current_moment,
    fail,
    parse_moment,
    require,
    services,
)
from duban.cli.output import to_json

__all__ = ["notify_app", "register"]

notify_app = typer.Typer(help="群机器人：测试某个群的机器人", no_args_is_help=True)

NowOpt = Annotated[
    str | None,
    typer.Option("--now", help="按此时刻投递，如 2024-10-09T09:00（未写时区按配置的时区）"),
]


def _moment(now: str | None) -> dt.datetime:
    tz = services().config.tz
    if now is None:
        return current_moment()
    return parse_moment(now, "--now", tz)


def deliver(now: NowOpt = None, fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    """投递：发送所有到点的待发消息（在各平台机器人的限流范围内）。"""
    require(as_, "admin")
    svc = services()
    moment = _moment(now)
    with open_deliverer(svc) as deliverer:
        report = deliverer.run_once(moment)
    if fmt is Fmt.json:
        typer.echo(to_json(report.as_dict()))
        return
    for attempt in report.attempts:
        typer.echo(_attempt_line(attempt))
    typer.echo(report.summary())


def notify_test(channel: str, fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    """经该群的机器人发送一条测试消息，并显示平台的答复。"""
    require(as_, "admin")
    svc = services()
    if all(c.name != channel for c in svc.config.channels):
        fail(f"没有名为 {channel} 的群聊（channels）", 2)
    try:
        with open_deliverer(svc) as deliverer:
            report = deliverer.send_test(channel, _moment(None))
    except NotifierError as exc:
        fail(f"{channel}: {exc}", 2)
    if fmt is Fmt.json:
        typer.echo(to_json(report.as_dict()))
    else:
        _print_test(channel, report)
    if not report.delivered:
        raise typer.Exit(1)


def _print_test(channel: str, report: DeliveryReport) -> None:
    if not report.attempts:
        typer.echo(f"{channel}: 机器人正限流，{_wait_text(report)}后再试")
    for attempt in report.attempts:
        typer.echo(_attempt_line(attempt))
    typer.echo("已送达" if report.delivered else "未送达")


def _wait_text(report: DeliveryReport) -> str:
    if report.next_at is None:
        return "稍"
    return f"{max(report.next_at - report.now.timestamp(), 0):.0f} 秒"


def _attempt_line(attempt: dict[str, Any]) -> str:
    verdict = "成功" if attempt["ok"] else attempt["kind"]
    code = attempt["code"] if attempt["code"] is not None else "-"
    status = attempt["http_status"] if attempt["http_status"] is not None else "-"
    return (
        f"{attempt['channel']} 第{attempt['part'] + 1}/{attempt['parts']}部分 "
        f"{attempt['platform']} 机器人 {attempt['robot']}: {verdict} "
        f"code={code} HTTP={status} {attempt['detail']}"
    )


def register(app: typer.Typer) -> None:
    app.command("deliver")(deliver)
    notify_app.command("test")(notify_test)
    app.add_typer(notify_app, name="notify")
