"""`duban document list|show|pdf`: the office's numbered 督办单 and 通报 (PRODUCT.md rule 13)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from duban.app.documents import document_text, find_document, list_documents
from duban.cli.common import (
    AsOpt,
    Fmt,
    FormatOpt,
    current_moment,
    echo,
    parse_year,
    require,
    services,
    user_errors,
)

__all__ = ["register"]

document_app = typer.Typer(help="公文：督办单、通报（列表、查看、生成PDF）", no_args_is_help=True)

NumberArg = Annotated[str, typer.Argument(help="文号，如 县改办督〔2026〕12号")]
LIST_COLUMNS = [
    ("number", "文号"),
    ("kind", "文种"),
    ("date", "日期"),
    ("task_code", "任务编号"),
    ("title", "改革任务"),
    ("unit", "牵头单位"),
]


def register(app: typer.Typer) -> None:
    app.add_typer(document_app, name="document")


@document_app.command("list")
def document_list(
    year: Annotated[int | None, typer.Option("--year", help="年度（缺省为今年）")] = None,
    fmt: FormatOpt = Fmt.table,
    as_: AsOpt = "office",
) -> None:
    """本年度的督办单和通报，按文号顺序。"""
    require(as_, "read")
    chosen = parse_year(year, "--year") if year is not None else current_moment().year
    docs = list_documents(services(), chosen)
    if fmt is Fmt.json:
        echo([d.as_dict() for d in docs], fmt)
        return
    if not docs:
        typer.echo(f"{chosen}年没有督办单或通报")
        return
    rows = [
        {
            "number": d.number,
            "kind": d.kind_title,
            "date": f"{d.at:%Y-%m-%d}",
            "task_code": d.task_code,
            "title": d.title,
            "unit": d.unit,
        }
        for d in docs
    ]
    echo(rows, fmt, LIST_COLUMNS)


@document_app.command("show")
def document_show(number: NumberArg, fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    """查看一份公文：文号、类别、日期、任务、督办升级经过和事由。"""
    require(as_, "read")
    with user_errors():
        doc = find_document(services(), number)
    if fmt is Fmt.json:
        echo(doc.as_dict(), fmt)
    else:
        typer.echo(document_text(doc), nl=False)


@document_app.command("pdf")
def document_pdf(
    number: NumberArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="输出文件（缺省为「文号.pdf」）")
    ] = None,
    as_: AsOpt = "office",
) -> None:
    """生成带红头的公文PDF。"""
    from duban.app.document_pdf import document_pdf as render  # reportlab only when asked

    require(as_, "read")
    svc = services()
    with user_errors():
        doc = find_document(svc, number)
    target = output or Path(f"{doc.number}.pdf")
    target.write_bytes(render(doc, svc.config))
    typer.echo(f"已写入 {target}", err=True)
