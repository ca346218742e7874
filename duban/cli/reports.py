"""`duban report monthly|quarterly|assessment`: 月分析、季调度、年督考 on the terminal.

One command per report kind of `duban.app.report_kinds` (its period argument, its help). The
reports' view is caught up incrementally first, then the report is built from it (never from
a replay of the history) and written as Markdown, Excel, JSON or HTML.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from duban.app.report_docs import render_text, write_xlsx
from duban.app.report_kinds import REPORT_KINDS, ReportKind, report_context
from duban.app.services import Services
from duban.cli.common import AsOpt, fail, parse_day, parse_year, require, services

__all__ = ["register"]

report_app = typer.Typer(help="报告：月分析、季调度、年督考", no_args_is_help=True)


class ReportFmt(StrEnum):
    md = "md"
    xlsx = "xlsx"
    json = "json"
    html = "html"


FmtOpt = Annotated[ReportFmt, typer.Option("--format", help="格式：md、xlsx、json、html")]
OutputOpt = Annotated[Path | None, typer.Option("--output", help="写入此文件")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="只计入截至该日的记录，如 2024-06-30")]


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")


def _as_of(svc: Services, as_of: str | None) -> dt.date:
    if as_of is not None:
        return parse_day(as_of, "--as-of")
    return svc.ledger.clock().astimezone(svc.config.tz).date()


def _run(
    kind: ReportKind[Any],
    period: Any,
    fmt: ReportFmt,
    output: Path | None,
    as_of: str | None,
    as_: str,
) -> None:
    try:
        chosen = kind.parse(str(period))
    except ValueError as exc:
        fail(str(exc), 2)
    parse_year(int(kind.key(chosen)[:4]), kind.period_name)
    require(as_, "read")
    if fmt is ReportFmt.xlsx and output is None:
        fail("--format xlsx 需要 --output 文件路径", 2)
    svc = services()
    report = kind.build(report_context(svc), chosen, _as_of(svc, as_of))
    if fmt is ReportFmt.xlsx:
        assert output is not None
        write_xlsx(report, output)
        typer.echo(f"已写入 {output}", err=True)
        return
    text = render_text(report, fmt.value)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"已写入 {output}", err=True)


def _command(kind: ReportKind[Any]) -> Callable[..., None]:
    """The command of one report kind: its period argument (named and typed by the kind),
    then the options every report takes."""

    def command(**given: Any) -> None:
        period = given.pop(kind.period_name)
        _run(kind, period, **given)

    keyword = inspect.Parameter.KEYWORD_ONLY
    argument = typer.Argument(help=_PERIOD_HELP.get(kind.name, "期间"))
    period = Annotated[kind.period_type, argument]  # type: ignore[name-defined]
    params = [
        inspect.Parameter(kind.period_name, keyword, annotation=period),
        inspect.Parameter("fmt", keyword, default=ReportFmt.md, annotation=FmtOpt),
        inspect.Parameter("output", keyword, default=None, annotation=OutputOpt),
        inspect.Parameter("as_of", keyword, default=None, annotation=AsOfOpt),
        inspect.Parameter("as_", keyword, default="office", annotation=AsOpt),
    ]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = _SUMMARIES.get(kind.name, "报告")
    command.__name__ = kind.name
    return command


# The help of each kind's command, as the office says it (the kinds' `summary` is English).
_SUMMARIES = {
    "monthly": "月分析：各单位和专责小组的任务、红黄绿灯、报送情况、逾期、督办升级和变更。",
    "quarterly": "季调度：各专责小组和领衔领导的进展、下季度风险、改革试点和典型。",
    "assessment": "年督考：各单位得分、排名及每一项加减分的依据。",
}
_PERIOD_HELP = {
    "monthly": "月份，如 2024-06",
    "quarterly": "季度，如 2024Q2",
    "assessment": "年度，如 2024",
}

for _kind in REPORT_KINDS.values():
    report_app.command(_kind.name)(_command(_kind))
