"""`duban board`, `duban audit log|verify|head`, `duban rebuild`: the read side on the terminal.

Every command first catches the projections up (incrementally, from their own positions), so
what it shows includes the last stored event. Reads are open to every role (`authorize(...,
"read")`); liaisons see the whole board, read-only. The projections are reached through the
application's read models (`duban.app.reads`), the same the API and the web board use.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from duban.app.evidence import EvidenceFiles
from duban.app.reads import (
    BOARD_COLUMNS,
    LIGHT_LABELS,
    PROJECTIONS,
    BoardQuery,
    ChainHead,
    ReadModels,
    Verification,
)
from duban.app.safe_cells import append_row
from duban.cli.common import AsOpt, Fmt, echo, fail, parse_day, require, services

__all__ = ["register"]

audit_app = typer.Typer(help="审计：审计留痕和防篡改校验", no_args_is_help=True)


class BoardFmt(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class LogFmt(StrEnum):
    table = "table"
    jsonl = "jsonl"


DateOpt = Annotated[str | None, typer.Option(help="日期，如 2024-06-30")]


def register(app: typer.Typer) -> None:
    app.command("board")(board)
    app.command("rebuild")(rebuild)
    app.add_typer(audit_app, name="audit")


# ---- wiring ----------------------------------------------------------------------------------


def _reads() -> ReadModels:
    return ReadModels(services())


def _reader(as_: str) -> None:
    require(as_, "read")


# ---- board -----------------------------------------------------------------------------------


def board(
    unit: Annotated[str | None, typer.Option(help="该单位牵头或配合的任务")] = None,
    group: Annotated[str | None, typer.Option(help="该专责小组的任务")] = None,
    official: Annotated[str | None, typer.Option(help="该领衔领导领衔的任务")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="看板在该日的样子，如 2024-06-30")
    ] = None,
    at_position: Annotated[
        int | None, typer.Option("--at-position", help="第 N 条记录之后的看板")
    ] = None,
    fmt: Annotated[
        BoardFmt, typer.Option("--format", help="格式：table（表格）、json、csv、xlsx")
    ] = BoardFmt.table,
    output: Annotated[Path | None, typer.Option("--output", help="xlsx 的输出文件")] = None,
    as_: AsOpt = "office",
) -> None:
    """任务看板：每项任务一行，附红黄绿灯。"""
    _reader(as_)
    if as_of is not None and at_position is not None:
        fail("--as-of 与 --at-position 只能选一个", 2)
    if fmt is BoardFmt.xlsx and output is None:
        fail("--format xlsx 需要 --output 文件路径", 2)
    reads = _reads()
    query = BoardQuery(unit=unit, group=group, official=official)
    if as_of is not None or at_position is not None:
        on = parse_day(as_of, "--as-of") if as_of else None
        rows = reads.board_as_of(query, on=on, position=at_position)
    else:
        reads.catch_up()  # every view, not only the board: what a read shows is current
        rows = reads.board(query)
    _show_board(rows, fmt, output)
    if fmt is BoardFmt.table and as_of is None and at_position is None:
        from duban.cli.instructions import board_marker  # 批示 (issue 12): unanswered ones

        if marker := board_marker([r["code"] for r in rows]):
            typer.echo(marker)


def _show_board(rows: list[dict[str, Any]], fmt: BoardFmt, output: Path | None) -> None:
    if fmt is BoardFmt.json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    tz = services().config.tz
    flat = [_flat(r, short=fmt is BoardFmt.table, tz=tz) for r in rows]
    if fmt is BoardFmt.xlsx:
        assert output is not None
        _write_xlsx(flat, output)
        typer.echo(f"已写出 {len(flat)} 行到 {output}")
        return
    if fmt is BoardFmt.csv:
        echo(flat, Fmt.csv, BOARD_COLUMNS)
        return
    echo(flat, Fmt.table, TABLE_COLUMNS)
    counts = {label: sum(1 for r in rows if r["light"] == k) for k, label in LIGHT_LABELS.items()}
    typer.echo("，".join(f"{label} {n}" for label, n in counts.items()))


def _flat(row: dict[str, Any], *, short: bool, tz: dt.tzinfo) -> dict[str, Any]:
    milestone = row["next_milestone"]
    flat = dict(row)
    flat.update(
        co_reports_text=co_reports_text(row, tz),
        title=_short(row["title"], 24) if short else row["title"],
        deadline=row["deadline"] or "持续推进",
        next_milestone_text=f"{milestone['name']} {milestone['due']}" if milestone else "",
        recognitions_text="、".join(r["title"] for r in row["recognitions"]),
        light_reasons_text="；".join(row["light_reasons"]),
        escalation_label=row["escalation_label"] or "",
    )
    return flat


def co_reports_text(row: dict[str, Any], tz: dt.tzinfo) -> str:
    """「县财政局 2026-03-12；县教育局 未报送」: each co-unit with the day of its latest report on
    the task (office time), those that never reported said so; "" for a task without co-units."""
    reported = {r["unit"]: r["at"] for r in row.get("co_unit_reports", [])}
    parts = []
    for unit in row["co_units"]:
        at = _moment(reported[unit]) if unit in reported else None
        day = f"{at.astimezone(tz):%Y-%m-%d}" if at is not None else None
        parts.append(f"{unit} {day or ('已报送' if unit in reported else '未报送')}")
    return "；".join(parts)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# The terminal gets the columns that fit a screen; CSV and XLSX get all of BOARD_COLUMNS.
_TABLE_KEYS = (
    "code", "title", "lead_unit", "status_label", "light_label", "deadline",
    "next_milestone_text", "last_report_date", "percent", "escalation_label", "light_reasons_text",
)  # fmt: skip
CO_REPORTS_COLUMN = ("co_reports_text", "配合单位报送")  # issue 12: beside the lead unit


def _table_columns() -> list[tuple[str, str]]:
    columns = []
    for key, header in BOARD_COLUMNS:
        if key in _TABLE_KEYS:
            columns.append((key, header))
        if key == "lead_unit":
            columns.append(CO_REPORTS_COLUMN)
    return columns


TABLE_COLUMNS = _table_columns()

_FILLS = {"green": "C6EFCE", "yellow": "FFEB9C", "red": "FFC7CE", "closed": "D9D9D9"}


def _write_xlsx(rows: list[dict[str, Any]], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "任务看板"
    append_row(sheet, [header for _, header in BOARD_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    light_column = [key for key, _ in BOARD_COLUMNS].index("light_label") + 1
    for row in rows:  # a title starting with "=" stays text (duban.app.safe_cells)
        append_row(sheet, [_xlsx_cell(row.get(key)) for key, _ in BOARD_COLUMNS])
        color = _FILLS[row["light"]]
        sheet.cell(sheet.max_row, light_column).fill = PatternFill("solid", fgColor=color)
    sheet.freeze_panes = "A2"
    book.save(path)


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return value


# ---- audit -----------------------------------------------------------------------------------

LOG_COLUMNS = [("position", "#"), ("at", "时间"), ("tasks_text", "任务"), ("summary", "事项")]
RECORDED_COLUMN = ("recorded_text", "记录时间")
RECORDED_TOLERANCE = dt.timedelta(minutes=1)


def _moment(text: str | None) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


TASKS_SHOWN = 3  # a digest names every task it carries: the 任务 column shows the first few


def tasks_text(codes: list[str]) -> str:
    """The 任务 cell: 「2024-01、2024-02」, or 「2024-01、2024-02、2024-03等82项」 for an entry
    naming many (one such entry used to widen the column for every row of the log)."""
    shown = "、".join(codes[:TASKS_SHOWN])
    return f"{shown}等{len(codes)}项" if len(codes) > TASKS_SHOWN else shown


def recorded_text(at: str | None, recorded_at: str | None, tz: dt.tzinfo) -> str:
    """When the store wrote the entry (office time), if that is more than a minute away from
    the time it states (`at`): a backdated or replayed action; else empty."""
    stated, written = _moment(at), _moment(recorded_at)
    if stated is None or written is None or abs(written - stated) <= RECORDED_TOLERANCE:
        return ""
    return f"{written.astimezone(tz):%Y-%m-%d %H:%M:%S}"


@audit_app.command("log")
def audit_log(
    task: Annotated[str | None, typer.Option("--task", help="只看该任务的留痕（任务编号）")] = None,
    since: DateOpt = None,
    fmt: Annotated[
        LogFmt, typer.Option("--format", help="格式：table（表格）、jsonl")
    ] = LogFmt.table,
    as_: AsOpt = "office",
) -> None:
    """审计留痕：每一条记录，按时间先后，以中文说明（jsonl 格式另附完整数据）。"""
    _reader(as_)
    entries = _reads().audit(task, parse_day(since, "--since") if since else None)
    if fmt is LogFmt.jsonl:
        for entry in entries:
            sys.stdout.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return
    tz = services().config.tz
    for entry in entries:
        entry["tasks_text"] = tasks_text(entry["tasks"])
        entry["recorded_text"] = recorded_text(entry["at"], entry["recorded_at"], tz)
        entry["at"] = (entry["at"] or "")[:19].replace("T", " ")
    shifted = any(entry["recorded_text"] for entry in entries)  # the column only when needed
    columns = [*LOG_COLUMNS[:2], RECORDED_COLUMN, *LOG_COLUMNS[2:]] if shifted else LOG_COLUMNS
    echo(entries, Fmt.table, columns)


@audit_app.command("verify")
def audit_verify(
    head: Annotated[
        str | None, typer.Option("--head", help="要核对的已公布链头，写成「哈希@位置」")
    ] = None,
    as_: AsOpt = "auditor",
) -> None:
    """防篡改校验：按存储的记录重算哈希链，并重算每个附件的哈希；发现被修改、删除、插入或
    调换顺序的记录时指明第一条，发现被改动或丢失的附件时逐个指明，并以状态 1 退出。"""
    _reader(as_)
    reads = _reads()
    result = reads.verify_chain(_parse_head(head) if head else None)
    if not result.intact:  # the events cannot be trusted (nor always read): files not checked
        assert result.breach is not None
        fail(f"校验未通过：{result.breach.message}（已核对 {result.checked} 条）", 1)
    problems = EvidenceFiles(services().ledger).problems()
    for problem in problems:
        typer.echo(f"附件校验未通过：{problem.message}", err=True)
    if problems:
        fail(f"校验未通过：{len(problems)} 个附件与报送时不一致或已丢失", 1)
    _report_intact(result, reads.chain_head())


def _report_intact(result: Verification, head: ChainHead | None) -> None:
    typer.echo(f"校验通过：{result.checked} 条事件与写入时一致")
    if result.unchained:
        typer.echo(f"另有 {result.unchained} 条新事件已接入链")
    if head is not None:
        typer.echo(f"链头 {head}")


def _parse_head(text: str) -> ChainHead:
    digest, _, position = text.partition("@")
    if len(digest) != 64 or not position.isdigit():
        fail("--head 格式为 HASH@POSITION（64 位十六进制@事件序号）", 2)
    return ChainHead(int(position), digest.lower(), 0)


@audit_app.command("head")
def audit_head(
    fmt: Annotated[
        Fmt, typer.Option("--format", help="输出格式：table（表格）、json、csv")
    ] = Fmt.table,
    as_: AsOpt = "office",
) -> None:
    """链头：改革办公布的哈希值和位置（先把链补齐）。"""
    _reader(as_)
    head = _reads().chain_head()
    if head is None:
        fail("尚无事件，链为空", 1)
    data = {"position": head.position, "hash": head.hash, "events": head.events, "head": str(head)}
    if fmt is Fmt.json:
        echo(data, Fmt.json)
    else:
        typer.echo(f"链头 {head}（共 {head.events} 条事件）")


# ---- rebuild ---------------------------------------------------------------------------------


def rebuild(
    which: Annotated[
        str, typer.Argument(help="要重建的视图：" + "、".join((*PROJECTIONS, "all")))
    ] = "all",
    as_: AsOpt = "office",
) -> None:
    """重建：清空视图并重新处理全部记录（进度显示在标准错误输出）。"""
    require(as_, "admin")
    names = list(PROJECTIONS) if which == "all" else [which]
    if not set(names) <= set(PROJECTIONS):
        fail(f"未知的投影 {which!r}（{'、'.join(PROJECTIONS)} 或 all）", 2)
    reads = _reads()
    if "chain" in names:
        _refuse_to_rebase_a_broken_chain(reads)
    for name, position in reads.rebuild(names, progress=True).items():
        typer.echo(f"{name}: 已重建至第 {position} 号事件")


def _refuse_to_rebase_a_broken_chain(reads: ReadModels) -> None:
    """Rebuilding the chain over tampered rows would bless them: verify first."""
    result = reads.verify_chain()
    if not result.intact:
        assert result.breach is not None
        fail(f"链校验未通过，拒绝重建：{result.breach.message}", 1)
