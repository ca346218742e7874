"""`duban sweep [--now] [--dry-run] [--no-deliver]` and `preview_command`, which
duban/cli/scheduler.py attaches as `duban scheduler preview --from DATE --to DATE`."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

import typer

from duban.app.instruction_urging import URGE_KIND
from duban.app.preview import PreviewMessage, preview
from duban.app.routing import UNKNOWN_CHAT, chat_titles
from duban.app.scheduled import JOB_LABELS, run_delivery
from duban.app.sweep import PlannedMessage, SweepReport, sweep
from duban.app.vocabulary import label
from duban.cli.common import (
    AsOpt,
    Fmt,
    FormatOpt,
    fail,
    parse_day,
    parse_moment,
    require,
    services,
)
from duban.cli.output import to_json

__all__ = ["chat_heading", "preview_command", "register", "sweep_command"]

NowOpt = Annotated[
    str | None,
    typer.Option("--now", help="按此时刻扫描，如 2024-10-09T09:00（未写时区按配置的时区）"),
]


def _parse_now(text: str | None) -> dt.datetime:
    svc = services()
    if text is None:
        return svc.ledger.clock().astimezone(svc.config.tz)
    return parse_moment(text, "--now", svc.config.tz)


def chat_heading(channel: str, titles: dict[str, str]) -> str:
    """The chat a message goes to as a person calls it: 「【县委编办群】」, never ``[bb]``
    (`titles`: `duban.app.routing.chat_titles`)."""
    return f"【{titles.get(channel, UNKNOWN_CHAT)}】"


def _message_text(message: PlannedMessage | PreviewMessage, names: dict[str, str]) -> str:
    mentions = " ".join(f"@{m}" for m in message.mention_mobiles)
    head = chat_heading(message.channel, names) + message.title
    head += f"  {mentions}" if mentions else ""
    return "\n".join([head, *message.parts, ""])


def _rung_counts(rungs: dict[str, int]) -> str:
    """「通报×1，今日签收到期×2」: each rung by its Chinese name (a configured rung the
    vocabulary lacks by the name the config gives it), in the report's order."""
    shown = [f"{label('rung', name)}×{count}" for name, count in sorted(rungs.items())]
    return "，".join(shown) or "无"


def _print_report(report: SweepReport, delivered: Any, fmt: Fmt) -> None:
    if fmt is Fmt.json:
        data = asdict(report)
        as_dict = getattr(delivered, "as_dict", None)
        data["delivery"] = as_dict() if callable(as_dict) else None
        typer.echo(to_json(data))
        return
    messages = [*report.messages, *report.urge_messages]
    names = chat_titles(services().config)
    for message in messages:
        typer.echo(_message_text(message, names))
    rungs = _rung_counts(report.rungs)
    verb = "将发出" if report.dry_run else "已排队"
    suffix = "（试运行，未写入）" if report.dry_run else ""
    urges = f"，其中批示催复 {report.instruction_urges} 条" if report.instruction_urges else ""
    typer.echo(
        f"{report.now:%Y-%m-%d %H:%M} {verb}：{rungs}；消息 {len(messages)} 条{urges}{suffix}"
    )
    if delivered is not None:
        summary = getattr(delivered, "summary", None)
        typer.echo(f"投递：{summary() if callable(summary) else delivered}")


def sweep_command(
    now: NowOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="试运行：只显示，不写入")] = False,
    no_deliver: Annotated[
        bool, typer.Option("--no-deliver", help="只排队，不投递（由 duban deliver 投递）")
    ] = False,
    fmt: FormatOpt = Fmt.table,
    as_: AsOpt = "office",
) -> None:
    """催办扫描：发出此刻到期的全部提醒（每条只发一次，每个群一条汇总），然后投递。"""
    require(as_, "admin")
    svc = services()
    moment = _parse_now(now)
    report = sweep(svc, moment, dry_run=dry_run)
    delivered = None if dry_run or no_deliver else run_delivery(svc, moment)
    _print_report(report, delivered, fmt)


def preview_command(
    from_: Annotated[str, typer.Option("--from", help="起始日期，如 2024-06-01")],
    to: Annotated[str, typer.Option("--to", help="截止日期，如 2024-06-30")],
    fmt: FormatOpt = Fmt.table,
    as_: AsOpt = "office",
) -> None:
    """预演：按当前配置，列出起止日期之间将发送的每条消息（不发送），附发送时间
    （仅工作时间）；入队时间与之不同时一并列出。"""
    require(as_, "admin")
    first, last = parse_day(from_, "--from"), parse_day(to, "--to")
    if last < first:
        fail("--to 不能早于 --from", 2)
    messages = preview(services(), first, last)
    if fmt is Fmt.json:
        typer.echo(to_json([{**asdict(m), "held": m.held} for m in messages]))
        return
    names = chat_titles(services().config)
    for message in messages:
        typer.echo(_preview_head(message))
        typer.echo(_message_text(message, names))
    urges = sum(1 for m in messages if m.kind == URGE_KIND)
    among = f"，其中批示催复 {urges} 条" if urges else ""
    typer.echo(f"共 {len(messages)} 条消息{among}（预演，未写入、未发送）")


def _preview_head(message: PreviewMessage) -> str:
    """发送时间 and the job; 入队时间 beside it when the message waits for working time."""
    head = f"发送时间 {message.at:%Y-%m-%d %H:%M}  {JOB_LABELS.get(message.job, '其他任务')}"
    if message.held:
        head += f"  入队时间 {message.queued_at:%Y-%m-%d %H:%M}（非工作时间，顺延至工作时间发送）"
    return head


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_command)
