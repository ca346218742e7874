"""`duban instruction issue|list|answer` (领导批示) and `duban accountability record|list`
(追责问责): the rules are the application's (`duban.app.instructions`,
`duban.app.accountability`); these commands only parse, print and exit."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from duban.app.accountability import AccountabilityRegister
from duban.app.instructions import InstructionDesk, open_counts, open_instructions
from duban.app.notices import queue_notices_now
from duban.cli.common import (
    AsOpt,
    Fmt,
    FormatOpt,
    echo,
    parse_day,
    parse_identity,
    parse_year,
    services,
    user_errors,
)

__all__ = ["accountability_app", "instruction_app", "register"]

instruction_app = typer.Typer(
    help="领导批示: issue, list and answer instructions on tasks", no_args_is_help=True
)
accountability_app = typer.Typer(
    help="追责问责: record and list the measures taken against units", no_args_is_help=True
)

CodeArg = Annotated[str, typer.Argument(help="task code (编号), e.g. 2024-07")]
TextOpt = Annotated[str, typer.Option("--text", help="the text (批示内容 / 答复内容)")]

INSTRUCTION_COLUMNS = [
    ("ref", "批示编号"),
    ("task_code", "任务"),
    ("unit", "牵头单位"),
    ("text", "批示内容"),
    ("answer_by", "答复时限"),
    ("state", "状态"),
    ("issued_by_name", "批示人"),
]
MEASURE_COLUMNS = [
    ("date", "日期"),
    ("task_code", "任务"),
    ("unit", "单位"),
    ("kind_label", "方式"),
    ("reason", "事由"),
    ("document_no", "文号"),
]


def _desk() -> InstructionDesk:
    svc = services()
    return InstructionDesk(svc.ledger, svc.config.tz)


def _register() -> AccountabilityRegister:
    svc = services()
    return AccountabilityRegister(svc.ledger, svc.config.tz)


def _state(row: dict[str, Any]) -> str:
    if row["answered"]:
        return "已答复"
    return "逾期未答复" if row["overdue"] else "待答复"


def _shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "answer_by": row["answer_by"] or "—", "state": _state(row)} for row in rows]


# ---- 领导批示 -----------------------------------------------------------------------------------


@instruction_app.command("issue")
def issue(
    code: CodeArg,
    text: TextOpt,
    answer_by: Annotated[
        str | None, typer.Option("--answer-by", help="answer by (YYYY-MM-DD)")
    ] = None,
    fmt: FormatOpt = Fmt.table,
    as_: AsOpt = "office",
) -> None:
    """作出批示 (the task's leading official or the office)."""
    day = parse_day(answer_by, "--answer-by") if answer_by else None
    with user_errors():
        done = _desk().issue(code, text, day, parse_identity(as_))
    queue_notices_now(services())  # the 批示 reaches the lead unit at once
    if fmt is Fmt.json:
        echo(done, fmt)
        return
    due = f"，请牵头单位于{done['answer_by']}前答复" if done["answer_by"] else ""
    typer.echo(f"已录入批示 {done['ref']}（任务 {code}，牵头单位{done['unit']}）{due}")


@instruction_app.command("list")
def list_(
    code: Annotated[str | None, typer.Argument(help="task code; all tasks when left out")] = None,
    fmt: FormatOpt = Fmt.table,
    as_: AsOpt = "office",
) -> None:
    """批示列表 (one task's, or every task's the caller may read)."""
    with user_errors():
        who = parse_identity(as_)
        rows = _desk().of_task(code, who) if code else _desk().listing(who)
    if fmt is Fmt.json:
        echo(rows, fmt)
    elif rows:
        echo(_shown(rows), fmt, INSTRUCTION_COLUMNS)
    else:
        typer.echo("暂无批示")


@instruction_app.command("answer")
def answer(ref: Annotated[str, typer.Argument(help="批示编号, e.g. 2024-01/1")], text: TextOpt,
           fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:  # fmt: skip
    """答复批示 (the lead unit's liaison)."""
    with user_errors():
        done = _desk().answer(ref, text, parse_identity(as_))
    if fmt is Fmt.json:
        echo(done, fmt)
        return
    typer.echo(f"已答复批示 {done['ref']}")


# ---- 追责问责 -----------------------------------------------------------------------------------


@accountability_app.command("record")
def record(
    code: CodeArg,
    unit: Annotated[str, typer.Option("--unit", help="the unit held to account")],
    kind: Annotated[str, typer.Option("--kind", help="约谈 | 通报批评 | 问责")],
    reason: Annotated[str, typer.Option("--reason", help="事由")],
    document: Annotated[str, typer.Option("--document", help="文号")],
    on: Annotated[str | None, typer.Option("--date", help="date (YYYY-MM-DD)")] = None,
    fmt: FormatOpt = Fmt.table,
    as_: AsOpt = "office",
) -> None:
    """登记追责问责措施 (office only)."""
    day = parse_day(on, "--date") if on else None
    with user_errors():
        done = _register().record(code, unit, kind, reason, document, parse_identity(as_), day)
    queue_notices_now(services())  # the measure reaches the unit at once
    if fmt is Fmt.json:
        echo(done, fmt)
        return
    typer.echo(
        f"已登记：{done['date']} 对{done['unit']}予以{done['kind_label']}"
        f"（任务 {code}，文号 {done['document_no']}）"
    )


@accountability_app.command("list")
def list_measures(
    year: Annotated[int | None, typer.Option("--year", help="only this year")] = None,
    fmt: FormatOpt = Fmt.table,
    as_: AsOpt = "office",
) -> None:
    """追责问责登记簿 (oldest first)."""
    chosen = parse_year(year, "--year") if year is not None else None
    with user_errors():
        rows = _register().listing(parse_identity(as_), chosen)
    if fmt is Fmt.json:
        echo(rows, fmt)
    elif rows:
        echo(rows, fmt, MEASURE_COLUMNS)
    else:
        typer.echo("暂无追责问责记录")


def register(app: typer.Typer) -> None:
    app.add_typer(instruction_app, name="instruction")
    app.add_typer(accountability_app, name="accountability")


# ---- what `task show` and `board` add (called from there) --------------------------------------


def open_instruction_lines(code: str) -> list[str]:
    """The task's unanswered 批示, one line each, for `task show` (the task was read already)."""
    svc = services()
    today = svc.ledger.clock().astimezone(svc.config.tz).date()
    lines = []
    for row in open_instructions(svc.ledger, code, today):
        due = f"，答复时限 {row['answer_by']}" if row["answer_by"] else ""
        late = "，已逾期" if row["overdue"] else ""
        lines.append(
            f"待答复批示 {row['ref']}：{row['text']}（{row['issued_by_name']}{due}{late}）"
        )
    return lines


def open_instructions_json(code: str) -> list[dict[str, Any]]:
    svc = services()
    today = svc.ledger.clock().astimezone(svc.config.tz).date()
    return open_instructions(svc.ledger, code, today)


def board_marker(codes: list[str]) -> str | None:
    """One line under the board: the shown tasks with unanswered 批示 and how many."""
    counts = open_counts(services().ledger)
    shown = [f"{code}（{counts[code]}）" for code in codes if counts.get(code)]
    return f"待答复批示：{'、'.join(shown)}" if shown else None
