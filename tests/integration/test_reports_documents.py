"""The reports as office documents (issue 14): official titles under the issuing office, dates
as 「2024年7月31日」 in Markdown, HTML, Excel and the PDF made of it (ISO stays in JSON), lights as
words or coloured cells (no emoji), zero as 0, one overdue figure (working days, the board's),
the Excel 台账's columns and print setup, and the config's order of units and officials.

Built on the scripted year of `test_reports_year`, with the example config's office, units and
officials (examples/duban.toml)."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from domain.directory import in_config_order
from duban.app.reads import unit_summaries
from duban.app.report_docs import render_html, render_json, render_markdown, write_xlsx
from duban.app.report_kinds import title_of
from duban.settings.config import load_config
from projections.board import rows_of
from projections.report_annual import annual_assessment
from projections.report_monthly import monthly_analysis
from projections.report_quarterly import quarterly_dispatch
from projections.reports import ReportContext
from tests.integration.test_reports_formats import libreoffice_convert, needs_libreoffice
from tests.integration.test_reports_year import CAL, Year, context, year

__all__ = ["year"]

EXAMPLE = load_config(Path(__file__).resolve().parents[2] / "examples" / "duban.toml")
UNITS = tuple(u.name for u in EXAMPLE.units)
OFFICIALS = tuple((o.name, o.title) for o in EXAMPLE.officials)
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
EMOJI = ("🔴", "🟡", "🟢", "⚪")


def office_context(y: Year) -> ReportContext:
    base = context(y.ledger)
    return ReportContext(
        base.store, CAL, 5, base.rules, units=UNITS, office="县委改革办", officials=OFFICIALS
    )


def _reports(y: Year) -> dict[str, dict[str, Any]]:
    ctx = office_context(y)
    return {
        "monthly": monthly_analysis(ctx, "2024-07"),
        "quarterly": quarterly_dispatch(ctx, 2024, 4),
        "assessment": annual_assessment(ctx, 2024, dt.date(2024, 12, 31)),
    }


def _cells(path: Path) -> list[str]:
    book = load_workbook(path)
    return [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row]


def _html_text(page: str) -> str:
    """The page's text (tags and the style sheet dropped)."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", page, flags=re.S))


# ---- titles, heading, dates ------------------------------------------------------------------


def test_titles_are_the_official_ones(year: Year) -> None:
    reports = _reports(year)
    assert title_of(reports["monthly"]) == "2024年7月全面深化改革工作分析"
    assert title_of(reports["quarterly"]) == "2024年第四季度改革工作调度"
    assert title_of(reports["assessment"]) == "2024年度全面深化改革督查考核结果"


def test_markdown_has_the_office_title_and_chinese_dates(year: Year) -> None:
    for report in _reports(year).values():
        text = render_markdown(report)
        lines = text.splitlines()
        assert lines[0] == "**县委改革办**"
        assert lines[1] == f"## {title_of(report)}"
        assert re.fullmatch(r"（截至2024年\d+月\d+日）", lines[2])
        assert not ISO_DAY.search(text), ISO_DAY.findall(text)[:3]
        assert not any(e in text for e in EMOJI)
        assert "+0" not in text
        assert "-0 " not in text
        assert "督办类" not in text


def test_html_has_the_office_title_and_chinese_dates(year: Year) -> None:
    for report in _reports(year).values():
        page = render_html(report)
        assert '<p class="office">县委改革办</p>' in page
        assert f"<h1>{title_of(report)}</h1>" in page
        text = _html_text(page)
        assert not ISO_DAY.search(text), ISO_DAY.findall(text)[:3]
        assert not any(e in page for e in EMOJI)
    monthly = render_html(_reports(year)["monthly"])
    assert '<td class="light-red">红灯</td>' in monthly
    assert '<td class="light-closed">已办结</td>' in monthly


def test_json_keeps_iso_dates_and_codes(year: Year) -> None:
    data = json.loads(render_json(_reports(year)["monthly"]))
    assert data["day"] == "2024-07-31"
    assert data["office"] == "县委改革办"
    assert {o["deadline"] for o in data["overdue"]} == {"2024-06-30"}


def test_excel_has_the_office_title_and_chinese_dates(year: Year, tmp_path: Path) -> None:
    for name, report in _reports(year).items():
        path = tmp_path / f"{name}.xlsx"
        write_xlsx(report, path)
        book = load_workbook(path)
        for sheet in book:
            assert sheet["A1"].value == "县委改革办"
            assert str(sheet["A2"].value).startswith(title_of(report))
        cells = _cells(path)
        assert not any(ISO_DAY.search(c) for c in cells), [c for c in cells if ISO_DAY.search(c)]
        assert not any(e in c for c in cells for e in EMOJI)


# ---- words, not codes ------------------------------------------------------------------------


def test_words_as_an_office_writes_them(year: Year) -> None:
    reports = _reports(year)
    monthly = render_markdown(reports["monthly"])
    assert "红灯3 黄灯" in monthly  # lights as words
    assert "县人力资源和社会保障局：1项" in monthly
    assert "督办3次" in monthly
    quarterly = render_markdown(quarterly_dispatch(office_context(year), 2024, 3))
    assert "改革试点（国家级）" in quarterly  # 2024-10, a national pilot
    assert "改革典型（省级）" in quarterly
    assert "（national）" not in quarterly
    annual = render_markdown(reports["assessment"])
    assert "扣分0）" in annual or "加分0，" in annual  # a zero is 0, not +0
    assert not re.search(r"[+-]0(?![.\d])", annual)


# ---- one overdue figure ------------------------------------------------------------------------


def test_one_task_is_overdue_by_the_same_working_days_on_board_report_and_ledger(
    year: Year, tmp_path: Path
) -> None:
    ctx = office_context(year)
    day = dt.date(2024, 7, 31)
    board = {r["code"]: r for r in rows_of(ctx.store.tasks_at_month_end("2024-07"), day, CAL)}
    shown = re.search(r"已逾期(\d+)个工作日", "".join(board["2024-06"]["light_reasons"]))
    assert shown is not None
    on_board = int(shown.group(1))
    report = monthly_analysis(ctx, "2024-07")
    in_report = {o["code"]: o["days_overdue"] for o in report["overdue"]}["2024-06"]
    path = tmp_path / "m.xlsx"
    write_xlsx(report, path)
    sheet = load_workbook(path)["台账"]
    headers = [c.value for c in sheet[3]]
    ledger = {
        r[1]: r[headers.index("逾期工作日")] for r in sheet.iter_rows(min_row=4, values_only=True)
    }
    assert on_board == in_report == ledger["2024-06"] == 23  # July 2024's working days
    assert f"逾期{on_board}个工作日" in render_markdown(report)


# ---- the Excel 台账 ---------------------------------------------------------------------------


def test_the_ledger_columns_and_print_setup(year: Year, tmp_path: Path) -> None:
    report = _reports(year)["monthly"]
    path = tmp_path / "m.xlsx"
    write_xlsx(report, path)
    sheet = load_workbook(path)["台账"]
    headers = [c.value for c in sheet[3]]
    for column in ("进展情况", "阶段节点", "最近报送日期", "领衔领导", "配合单位"):
        assert column in headers
    rows = {
        r[1]: dict(zip(headers, r, strict=True))
        for r in sheet.iter_rows(min_row=4, values_only=True)
    }
    first = rows["2024-01"]
    assert first["进展情况"] == "按计划推进"
    assert first["最近报送日期"] == "2024年7月8日"  # July's round is due on 07-08
    assert first["阶段节点"] == (
        "完成2024年重点项目谋划清单 2024年3月31日（已逾期）\n"
        "完成专项债券项目申报 2024年6月30日（已逾期）"
    )
    assert str(first["领衔领导"]).endswith(report["tasks"][0]["official"])
    assert (
        first["领衔领导"] == report["tasks"][0]["official_label"] != report["tasks"][0]["official"]
    )
    assert rows["2024-05"]["配合单位"] == "县财政局、县人力资源和社会保障局"
    assert rows["2024-05"]["红黄绿灯"] == "已办结"
    assert sheet.freeze_panes == "A4"
    assert sheet.print_title_rows == "$3:$3"  # as openpyxl reads it back
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9  # A4
    assert sheet.column_dimensions["C"].width == 40
    light = headers.index("红黄绿灯") + 1
    red = next(r for r in range(4, sheet.max_row + 1) if sheet.cell(r, 2).value == "2024-06")
    assert sheet.cell(red, light).fill.fgColor.rgb.endswith("FFC7CE")


@needs_libreoffice
def test_the_pdf_of_the_ledger_reads_as_a_document(year: Year, tmp_path: Path) -> None:
    path = tmp_path / "monthly.xlsx"
    write_xlsx(_reports(year)["monthly"], path)
    libreoffice_convert([path], "pdf", tmp_path / "pdf", tmp_path)
    pdf = tmp_path / "pdf" / "monthly.pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "县委改革办" in text
    assert "全面深化改革工作分析" in text
    assert "2024年7月31日" in text
    assert not ISO_DAY.search(text)
    assert not any(e in text for e in EMOJI)


# ---- the config's order ------------------------------------------------------------------------


def test_units_and_officials_follow_the_config(year: Year) -> None:
    reports = _reports(year)
    monthly_units = [u["unit"] for u in reports["monthly"]["units"]]
    assert monthly_units == [u for u in UNITS if u in monthly_units]
    assert monthly_units != sorted(monthly_units)
    quarterly = reports["quarterly"]
    assert [u["unit"] for u in quarterly["units"]] == [
        u for u in UNITS if u in {x["unit"] for x in quarterly["units"]}
    ]
    names = [o["official"] for o in quarterly["officials"]]
    assert names == [n for n, _ in OFFICIALS if n in names]
    titles = dict(OFFICIALS)
    assert all(o["official_label"] == f"{titles[o['official']]}{o['official']}"
               for o in quarterly["officials"])  # fmt: skip
    text = render_markdown(quarterly)
    shown = [text.index(f"- {titles[n]}{n}：") for n in names]
    assert shown == sorted(shown)
    # the assessment: equal scores keep the config's order, the 无任务 units too
    units = reports["assessment"]["units"]
    by_score: dict[float, list[str]] = {}
    for u in units:
        if u["rank"] is not None:
            by_score.setdefault(u["score"], []).append(u["unit"])
    assert any(len(v) > 1 for v in by_score.values())
    for tied in by_score.values():
        assert tied == [u for u in UNITS if u in tied]


def test_the_ordering_helper() -> None:
    order = ["县发展和改革局", "县财政局", "工业园区管委会"]
    names = ["工业园区管委会", "县人力资源和社会保障局", "县财政局", "县财政局", "县发展和改革局"]
    assert in_config_order(names, order) == [
        "县发展和改革局", "县财政局", "工业园区管委会", "县人力资源和社会保障局",
    ]  # fmt: skip
    rows = [{"lead_unit": n, "light": "green", "percent": 0} for n in names]
    assert [s.unit for s in unit_summaries(rows, order)] == in_config_order(names, order)


@pytest.mark.parametrize("kind", ["monthly", "quarterly", "assessment"])
def test_every_document_names_the_office_from_the_config(year: Year, kind: str) -> None:
    base = office_context(year)
    ctx = ReportContext(base.store, CAL, 5, base.rules, units=UNITS, office="某县委改革办")
    report = {
        "monthly": lambda: monthly_analysis(ctx, "2024-07"),
        "quarterly": lambda: quarterly_dispatch(ctx, 2024, 3),
        "assessment": lambda: annual_assessment(ctx, 2024, dt.date(2024, 12, 31)),
    }[kind]()
    assert render_markdown(report).startswith("**某县委改革办**")
    assert '<p class="office">某县委改革办</p>' in render_html(report)
