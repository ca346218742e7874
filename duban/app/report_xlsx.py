"""Reports as Excel workbooks: the 台账 (one row per task, `LEDGER_COLUMNS`, which the HTML
page shows too) and a 汇总 sheet; for the assessment, the ranking (无任务 units unranked) and
every point with its event; the quarter's or year's 追责问责 measures. Every row goes through
`duban.app.safe_cells.append_row`: a name or title that starts with "=" is text, never a
formula."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from domain.task import STATUS_LABELS
from duban.app.report_kinds import Report, title_of
from duban.app.report_words import LIGHT_WORDS, cn_date, dated_line, milestones_text
from duban.app.safe_cells import append_row

__all__ = [
    "HEADER_ROWS",
    "LEDGER_COLUMNS",
    "LIGHT_FILLS",
    "ledger_cells",
    "write_ledger",
    "write_xlsx",
]

# The 台账 columns an office prints: (header, width, value of a task row and its 序号).
LEDGER_COLUMNS: list[tuple[str, int, Callable[[dict[str, Any], int], Any]]] = [
    ("序号", 6, lambda r, i: i),
    ("编号", 10, lambda r, i: r["code"]),
    ("改革任务", 40, lambda r, i: r["title"]),
    ("牵头单位", 16, lambda r, i: r["lead_unit"]),
    ("配合单位", 22, lambda r, i: "、".join(r["co_units"])),
    ("领衔领导", 18, lambda r, i: r.get("official_label") or r["official"] or ""),
    ("完成时限", 14, lambda r, i: cn_date(r["deadline"]) or r["deadline_text"] or "持续推进"),
    ("阶段节点", 30, lambda r, i: milestones_text(r.get("milestones", []), "\n")),
    ("进展情况", 40, lambda r, i: r.get("last_report_text") or ""),
    ("进度", 7, lambda r, i: f"{r['percent']}%"),
    ("最近报送日期", 14, lambda r, i: cn_date(r["last_report_date"])),
    ("当前状态", 9, lambda r, i: r["status_label"]),
    ("红黄绿灯", 8, lambda r, i: LIGHT_WORDS[r["light"]]),
    ("逾期工作日", 8, lambda r, i: r["days_overdue"]),
]
_WRAPPED = ("改革任务", "配合单位", "领衔领导", "阶段节点", "进展情况")
# The light column's fill (the words stay: a printout in black and white still reads).
LIGHT_FILLS = {"red": "FFC7CE", "yellow": "FFEB9C", "green": "C6EFCE", "closed": "D9D9D9"}
HEADER_ROWS = 3  # the issuing office, the title with its day, the column headers


def ledger_cells(rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """The 台账's cells, one list per task row (numbered from 1)."""
    return [[value(row, i) for _, _, value in LEDGER_COLUMNS] for i, row in enumerate(rows, 1)]


def write_xlsx(report: Report, path: Path) -> None:
    """The report as an Excel workbook at `path` (see the module docstring)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    _XLSX[report["kind"]](book, sheet, report)
    book.save(path)


def write_ledger(
    rows: Sequence[dict[str, Any]], path: Path, *, office: str, title: str, dated: str
) -> None:
    """A workbook of the 台账 alone (the board's export): `rows` are task rows
    (`projections.reports.task_row`)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    _ledger(sheet, office, f"{title}{dated}", rows)
    book.save(path)


def _header(
    sheet: Worksheet, office: str, title: str, headers: Sequence[str], widths: Sequence[int]
) -> None:
    """The issuing office, the title, the column headers (frozen, repeated on every printed
    page), the widths, and the page: A4 landscape, fitted to the page's width."""
    last = get_column_letter(max(len(headers), 1))
    append_row(sheet, [office])
    append_row(sheet, [title])
    append_row(sheet, list(headers))
    sheet.merge_cells(f"A1:{last}1")
    sheet.merge_cells(f"A2:{last}2")
    sheet["A1"].font = Font(bold=True, size=12)
    sheet["A2"].font = Font(bold=True, size=16)
    sheet["A2"].alignment = Alignment(horizontal="center")
    for i, width in enumerate(widths):
        cell = sheet.cell(row=HEADER_ROWS, column=i + 1)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(i + 1)].width = width
    sheet.freeze_panes = f"A{HEADER_ROWS + 1}"
    sheet.print_title_rows = f"{HEADER_ROWS}:{HEADER_ROWS}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.horizontalCentered = True


def _title(report: Report, what: str = "") -> str:
    return f"{title_of(report)}{what}{dated_line(report)}"


def _ledger(sheet: Worksheet, office: str, title: str, rows: Sequence[dict[str, Any]]) -> None:
    sheet.title = "台账"
    _header(sheet, office, title, [c[0] for c in LEDGER_COLUMNS], [c[1] for c in LEDGER_COLUMNS])
    wrapped = [i + 1 for i, c in enumerate(LEDGER_COLUMNS) if c[0] in _WRAPPED]
    light_column = [c[0] for c in LEDGER_COLUMNS].index("红黄绿灯") + 1
    for row, cells in zip(rows, ledger_cells(rows), strict=True):
        append_row(sheet, cells)
        line = sheet.max_row
        for column in wrapped:
            sheet.cell(line, column).alignment = Alignment(wrap_text=True, vertical="top")
        fill = PatternFill("solid", fgColor=LIGHT_FILLS[row["light"]])
        sheet.cell(line, light_column).fill = fill


def _ledger_sheet(sheet: Worksheet, report: Report, rows: Sequence[dict[str, Any]]) -> None:
    _ledger(sheet, report["office"], _title(report, "台账"), rows)


def _summary_sheet(
    book: Workbook, report: Report, name: str, key: str, rows: Sequence[dict[str, Any]]
) -> None:
    sheet = book.create_sheet("汇总")
    headers = [name, "任务数", *LIGHT_WORDS.values(), "逾期", *STATUS_LABELS.values()]
    _header(
        sheet, report["office"], _title(report, "汇总"), headers, [24] + [8] * (len(headers) - 1)
    )
    for row in rows:
        lights = [row["by_light"][c] for c in LIGHT_WORDS]
        statuses = [row["by_status"][s] for s in STATUS_LABELS]
        append_row(
            sheet, [row[key] or "（未定）", row["tasks"], *lights, row["overdue"], *statuses]
        )


def _monthly_xlsx(book: Workbook, sheet: Worksheet, r: Report) -> None:
    _ledger_sheet(sheet, r, r["tasks"])
    _summary_sheet(book, r, "牵头单位", "unit", [*r["units"], {"unit": "合计", **r["totals"]}])
    reports = book.create_sheet("月度报送")
    _header(
        reports,
        r["office"],
        f"{_title(r, '月度报送情况')}（{cn_date(r['round_due'])}前报送）",
        ["单位", "编号", "情况", "日期"],
        [24, 10, 16, 16],
    )
    for x in r["reports"]:
        append_row(reports, [x["unit"], x["task_code"], x["outcome_label"], cn_date(x["day"])])


def _quarterly_xlsx(book: Workbook, sheet: Worksheet, r: Report) -> None:
    sheet.title = "专责小组"
    headers = ["专责小组", "任务数", "已销号", "平均进度%", "红灯", "黄灯", "绿灯"]
    _header(sheet, r["office"], _title(r), headers, [36, 8, 8, 10, 8, 8, 8])
    for g in r["groups"]:
        lights = [g["by_light"][c] for c in ("red", "yellow", "green")]
        append_row(sheet, [g["group"], g["tasks"], g["completed"], g["avg_percent"], *lights])
    risk = book.create_sheet("下季度风险")
    _header(
        risk,
        r["office"],
        _title(r, "：下季度到期且进度滞后的任务"),
        ["编号", "改革任务", "牵头单位", "完成时限", "进度%", "应达%"],
        [10, 48, 18, 12, 8, 8],
    )
    for t in r["at_risk"]:
        append_row(
            risk,
            [
                t["code"],
                t["title"],
                t["lead_unit"],
                cn_date(t["deadline"]),
                t["percent"],
                t["expected_percent"],
            ],
        )
    _summary_sheet(book, r, "牵头单位", "unit", r["units"])
    _measures_sheet(book, r)


def _assessment_xlsx(book: Workbook, sheet: Worksheet, r: Report) -> None:
    sheet.title = "排名"
    _header(
        sheet, r["office"], _title(r), ["名次", "单位", "得分", "加分", "扣分"], [6, 28, 10, 10, 10]
    )
    for u in r["units"]:
        if u["rank"] is None:
            append_row(sheet, ["无任务", u["unit"], "", "", ""])
        else:
            append_row(sheet, [u["rank"], u["unit"], u["score"], u["gained"], u["lost"]])
    points = book.create_sheet("得分明细")
    headers = ["单位", "事项", "分值", "编号", "日期", "说明", "事件序号", "事件"]
    _header(points, r["office"], _title(r, "得分明细"), headers, [28, 18, 8, 10, 16, 40, 10, 18])
    for u in r["units"]:
        for p in u["points"]:
            append_row(
                points,
                [
                    u["unit"],
                    p["label"],
                    p["points"],
                    p["task_code"],
                    cn_date(p["day"]),
                    p["note"],
                    p["notification_id"],
                    p["event_label"],
                ],
            )
    _measures_sheet(book, r)


def _measures_sheet(book: Workbook, r: Report) -> None:
    sheet = book.create_sheet("追责问责")
    headers = ["日期", "编号", "单位", "方式", "事由", "文号"]
    _header(sheet, r["office"], _title(r, "追责问责情况"), headers, [16, 10, 24, 10, 40, 24])
    for m in r.get("measures", []):
        day = cn_date(m["day"])
        append_row(
            sheet, [day, m["task_code"], m["unit"], m["kind_label"], m["reason"], m["document_no"]]
        )


_XLSX: dict[str, Callable[[Workbook, Worksheet, Report], None]] = {
    "monthly": _monthly_xlsx,
    "quarterly": _quarterly_xlsx,
    "assessment": _assessment_xlsx,
}
