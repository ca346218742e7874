"""`duban instruction issue|list|answer` (领导批示) and `duban accountability record|list`
(追责问责): the rules are the application's (`duban.app.instructions`,
`duban.app.accountability`); these commands only parse, print and exit."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from duban.app.accountability import AccountabilityRegister
from duban.app.instructions import InstructionDesk, open_counts, open_instructions
from duban.app.notices import queue_notices_now
from duban.app.task_commands import REPORT
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

instruction_app = typer.Typer(help="领导批示：作出、查看和答复对任务的批示", no_args_is_help=True)
accountability_app = typer.Typer(help="追责问责：登记和查看对单位采取的措施", no_args_is_help=True)

CodeArg = Annotated[str, typer.Argument(help="任务编号，如 2024-07")]
TextOpt = Annotated[str, typer.Option("--text", help="批示内容或答复内容")]

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
        str | None, typer.Option("--answer-by", help="答复期限，如 2024-06-30")
    ] = None,
    fmt: FormatOpt = Fmt.table,
    as_: AsOpt = "office",
) -> None:
    """作出批示（任务的领衔领导或改革办）。"""
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
    code: Annotated[str | None, typer.Argument(help="任务编号；不写则列出全部任务")] = None,
    fmt: FormatOpt = Fmt.table,
    as_: AsOpt = "office",
) -> None:
    """批示列表（一项任务的，或本人可查看的全部任务的）。"""
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
def answer(ref: Annotated[str, typer.Argument(help="批示编号，如 2024-01/1")], text: TextOpt,
           fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:  # fmt: skip
    """答复批示（牵头单位联络员）。"""
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
    unit: Annotated[str, typer.Option("--unit", help="被问责单位")],
    kind: Annotated[str, typer.Option("--kind", help="措施：约谈、通报批评、问责")],
    reason: Annotated[str, typer.Option("--reason", help="事由")],
    document: Annotated[str, typer.Option("--document", help="文号")],
    on: Annotated[str | None, typer.Option("--date", help="日期，如 2024-06-30")] = None,
    fmt: FormatOpt = Fmt.table,
    as_: AsOpt = "office",
) -> None:
    """登记追责问责措施（改革办）。"""
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
    year: Annotated[int | None, typer.Option("--year", help="只看该年度")] = None,
    fmt: FormatOpt = Fmt.table,
    as_: AsOpt = "office",
) -> None:
    """追责问责登记簿（按时间先后）。"""
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


# ---- what `task report`, `task show` and `board` add (called from there) ----------------------


def report_answering(code: str, as_: str, answers: list[str], fields: dict[str, Any]) -> None:
    """`task report … --answers REF`: the report answers those 批示 (or `all` open ones), in
    one transaction; the report's success text with the refs answered."""
    svc = services()
    with user_errors():
        who = parse_identity(as_)
        body = REPORT.parse(**fields)
        done = _desk().report(code, body, answers, who)
    queue_notices_now(svc)
    typer.echo(done)


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
