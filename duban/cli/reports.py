"""`duban report monthly|quarterly|assessment`: 月分析、季调度、年督考 on the terminal.

The reports' view is caught up incrementally first, then the report is built from it (never
from a replay of the history) and written as Markdown, Excel, JSON or HTML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from domain.roles import authorize
from duban.app.report_docs import (
    render_html,
    render_json,
    render_markdown,
    report_context,
    write_xlsx,
)
from duban.app.services import Services
from duban.cli.common import AsOpt, fail, parse_identity, services, user_errors
from projections.reports import (
    ReportContext,
    annual_assessment,
    monthly_analysis,
    parse_month,
    parse_quarter,
    quarterly_dispatch,
)

__all__ = ["register"]

T = TypeVar("T")

report_app = typer.Typer(help="报告: 月分析、季调度、年督考", no_args_is_help=True)


class ReportFmt(StrEnum):
    md = "md"
    xlsx = "xlsx"
    json = "json"
    html = "html"


FmtOpt = Annotated[ReportFmt, typer.Option("--format", help="md | xlsx | json | html")]
OutputOpt = Annotated[Path | None, typer.Option("--output", help="write to this file")]
AsOfOpt = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="only events up to this day"),
]


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")


def _as_of(svc: Services, as_of: dt.datetime | None) -> dt.date:
    return as_of.date() if as_of else svc.ledger.clock().astimezone(svc.config.tz).date()


def _run(
    build: Callable[[ReportContext, dt.date], dict[str, Any]],
    fmt: ReportFmt,
    output: Path | None,
    as_of: dt.datetime | None,
    as_: str,
) -> None:
    with user_errors():
        authorize(parse_identity(as_), "read")
    if fmt is ReportFmt.xlsx and output is None:
        fail("--format xlsx 需要 --output 文件路径", 2)
    svc = services()
    report = build(report_context(svc), _as_of(svc, as_of))
    if fmt is ReportFmt.xlsx:
        assert output is not None
        write_xlsx(report, output)
        typer.echo(f"已写入 {output}", err=True)
        return
    text = {"md": render_markdown, "json": render_json, "html": render_html}[fmt.value](report)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"已写入 {output}", err=True)


def _parsed(parse: Callable[[str], T], text: str) -> T:
    try:
        return parse(text)
    except ValueError as exc:
        fail(str(exc), 2)


@report_app.command("monthly")
def monthly(
    month: Annotated[str, typer.Argument(help="YYYY-MM")],
    fmt: FmtOpt = ReportFmt.md,
    output: OutputOpt = None,
    as_of: AsOfOpt = None,
    as_: AsOpt = "office",
) -> None:
    """月分析: units and groups, lights, report round, overdue, escalations, changes."""
    chosen = _parsed(parse_month, month)
    _run(lambda ctx, day: monthly_analysis(ctx, chosen, day), fmt, output, as_of, as_)


@report_app.command("quarterly")
def quarterly(
    quarter: Annotated[str, typer.Argument(help="YYYYQn")],
    fmt: FmtOpt = ReportFmt.md,
    output: OutputOpt = None,
    as_of: AsOfOpt = None,
    as_: AsOpt = "office",
) -> None:
    """季调度: progress per group and official, risks next quarter, recognitions."""
    year, number = _parsed(parse_quarter, quarter)
    _run(lambda ctx, day: quarterly_dispatch(ctx, year, number, day), fmt, output, as_of, as_)


@report_app.command("assessment")
def assessment(
    year: Annotated[int, typer.Argument(help="YYYY")],
    fmt: FmtOpt = ReportFmt.md,
    output: OutputOpt = None,
    as_of: AsOfOpt = None,
    as_: AsOpt = "office",
) -> None:
    """年督考: each unit's score, the ranking and the events behind every point."""
    _run(lambda ctx, day: annual_assessment(ctx, year, day), fmt, output, as_of, as_)
