"""`duban calendar import FILE [--dry-run]` and `duban calendar show YEAR`: the State Council's
holiday notice recorded in the ledger, and where each of a year's days comes from."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from duban.app.calendar_notices import NoticeUnreadable, import_notice, year_overview
from duban.app.vocabulary import label
from duban.cli.common import (
    AsOpt,
    Fmt,
    FormatOpt,
    echo,
    fail,
    parse_identity,
    parse_year,
    require,
    services,
)
from duban.cli.output import to_json

__all__ = ["calendar_app", "register"]

calendar_app = typer.Typer(
    help="日历：导入国务院办公厅节假日安排通知，查看全年日历",
    no_args_is_help=True,
)

_KINDS = {"holiday": "放假", "workday": "调休上班"}
_ACTIONS = {"record": "已导入", "revise": "已更正", "unchanged": "无变化，未重复导入"}
SHOW_COLUMNS = [("date", "日期"), ("weekday", "星期"), ("kind", "安排"), ("source_label", "来源")]


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"无法读取 {file}：{exc}", 2)


@calendar_app.command("import")
def import_command(
    file: Path,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="试运行：只显示识别出的日期，不写入")
    ] = False,
    as_: AsOpt = "office",
) -> None:
    """导入国务院办公厅节假日安排通知（改革办）：全部导入或全部不导入。"""
    require(as_, "admin")
    text = _read(file)
    try:
        done = import_notice(services(), text, parse_identity(as_), dry_run=dry_run)
    except NoticeUnreadable as exc:
        fail(f"{file.name} {exc.message}（未导入）", 2)
    for day in done.holidays:
        typer.echo(f"{day.isoformat()} 周{'一二三四五六日'[day.weekday()]} 放假")
    for day in done.workdays:
        typer.echo(f"{day.isoformat()} 周{'一二三四五六日'[day.weekday()]} 上班")
    verb = "试运行，未写入" if dry_run else _ACTIONS[done.action]
    typer.echo(
        f"{done.year}年节假日安排：放假 {len(done.holidays)} 天，调休上班 {len(done.workdays)} 天；"
        f"SHA-256 {done.sha256[:12]}；{verb}"
    )


@calendar_app.command("show")
def show_command(year: int, fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    """一年的节假日和调休上班日及其来源（已导入通知、内置节假日数据、配置、周一至周五推算）。"""
    require(as_, "read")
    overview = year_overview(services(), parse_year(year, "YEAR"))
    if fmt is Fmt.json:
        typer.echo(to_json(overview))
        return
    days = overview["days"]
    assert isinstance(days, list)
    # sources by the vocabulary's words (「内置节假日数据」), never the library's name
    rows = [
        {**d, "kind": _KINDS[d["kind"]], "source_label": label("calendar_source", d["source"])}
        for d in days
    ]
    sha = overview["notice_sha256"]
    note = f"（SHA-256 {str(sha)[:12]}）" if sha else ""
    source = label("calendar_source", str(overview["source"]))
    typer.echo(f"{year}年日历来源：{source}{note}")
    if rows:
        echo(rows, fmt, SHOW_COLUMNS)
    else:
        typer.echo("无节假日数据：按周一至周五推算")


def register(app: typer.Typer) -> None:
    app.add_typer(calendar_app, name="calendar")
