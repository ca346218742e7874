"""`duban deliver` (one delivery pass over the outbox) and `duban notify test CHANNEL`.

Both print one line per attempt, in Chinese: the chat as a person calls it (「县委编办群」), the
platform (企业微信/钉钉/飞书) and the robot by fingerprint only (a webhook is a credential and is
never printed), the verdict, the HTTP status (「状态码200」) and the platform's error code when
it is not 0. On a failure the platform's own words follow, scrubbed of keys (「平台说明：…」);
`--format json` keeps every field as the platform answered.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from duban.app.delivery_adapters import DeliveryReport, NotifierError, open_deliverer
from duban.app.routing import chat_titles
from duban.app.vocabulary import PLATFORM_LABELS
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
from duban.cli.sweep import chat_heading

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
    names = chat_titles(svc.config)
    for attempt in report.attempts:
        typer.echo(_attempt_line(attempt, names))
    typer.echo(report.summary())


def notify_test(channel: str, fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    """经该群的机器人发送一条测试消息，并显示平台的答复。"""
    require(as_, "admin")
    svc = services()
    if all(c.name != channel for c in svc.config.channels):
        fail(f"配置文件中没有代号为「{channel}」的群", 2)
    try:
        with open_deliverer(svc) as deliverer:
            report = deliverer.send_test(channel, _moment(None))
    except NotifierError as exc:
        fail(f"{channel}: {exc}", 2)
    if fmt is Fmt.json:
        typer.echo(to_json(report.as_dict()))
    else:
        _print_test(channel, report, chat_titles(svc.config))
    if not report.delivered:
        raise typer.Exit(1)


def _print_test(channel: str, report: DeliveryReport, names: dict[str, str]) -> None:
    if not report.attempts:
        chat = chat_heading(channel, names).strip("【】")
        typer.echo(f"{chat}：机器人正限流，{_wait_text(report)}后再试")
    for attempt in report.attempts:
        typer.echo(_attempt_line(attempt, names))
    typer.echo("已送达" if report.delivered else "未送达")


def _wait_text(report: DeliveryReport) -> str:
    if report.next_at is None:
        return "稍"
    return f"{max(report.next_at - report.now.timestamp(), 0):.0f} 秒"


_VERDICTS = {
    "ok": "成功",
    "retry_later": "暂未送达，稍后重试",
    "config": "失败：机器人配置错误",
    "content": "失败：消息内容被拒",
}


def _attempt_line(attempt: dict[str, Any], names: dict[str, str]) -> str:
    """「县委编办群 第1/1部分 企业微信机器人 41418df7…：成功（状态码200）」."""
    chat = chat_heading(attempt["channel"], names).strip("【】")
    platform = PLATFORM_LABELS.get(attempt["platform"], "群")
    answer = []
    if attempt["code"] not in (None, 0):
        answer.append(f"错误码{attempt['code']}")
    if attempt["http_status"] is not None:
        answer.append(f"状态码{attempt['http_status']}")
    elif not attempt["ok"]:
        answer.append("网络连接失败或超时")
    line = (
        f"{chat} 第{attempt['part'] + 1}/{attempt['parts']}部分 {platform}机器人 "
        f"{attempt['robot']}：{_VERDICTS.get(attempt['kind'], '未送达')}"
    )
    line += f"（{'，'.join(answer)}）" if answer else ""
    if not attempt["ok"] and attempt["detail"]:
        line += f"；平台说明：{attempt['detail']}"
    return line


def register(app: typer.Typer) -> None:
    app.command("deliver")(deliver)
    notify_app.command("test")(notify_test)
    app.add_typer(notify_app, name="notify")
