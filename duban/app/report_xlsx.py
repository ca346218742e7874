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
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from domain.task import STATUS_LABELS
from duban.app.report_kinds import Report, title_of
from duban.app.safe_cells import append_row

__all__ = ["LEDGER_COLUMNS", "ledger_cells", "write_xlsx"]

# The 台账 columns an office prints: (header, width, value of a task row and its 序号).
LEDGER_COLUMNS: list[tuple[str, int, Callable[[dict[str, Any], int], Any]]] = [
    ("序号", 6, lambda r, i: i),
    ("编号", 10, lambda r, i: r["code"]),
    ("改革任务", 48, lambda r, i: r["title"]),
    ("牵头单位", 18, lambda r, i: r["lead_unit"]),
    ("配合单位", 28, lambda r, i: "、".join(r["co_units"])),
    ("领衔领导", 10, lambda r, i: r["official"] or ""),
    ("完成时限", 12, lambda r, i: r["deadline"] or r["deadline_text"]),
    ("当前状态", 10, lambda r, i: r["status_label"]),
    ("红黄绿灯", 8, lambda r, i: r["light_label"]),
    ("进度", 8, lambda r, i: f"{r['percent']}%"),
    ("最近报送", 12, lambda r, i: r["last_report_date"] or ""),
    ("逾期天数", 8, lambda r, i: r["days_overdue"] or ""),
]


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


def _header(sheet: Worksheet, title: str, headers: Sequence[str], widths: Sequence[int]) -> None:
    append_row(sheet, [title])
    sheet["A1"].font = Font(bold=True, size=14)
    append_row(sheet, list(headers))
    for i, width in enumerate(widths):
        cell = sheet.cell(row=2, column=i + 1)
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(i + 1)].width = width
    sheet.freeze_panes = "A3"


def _ledger_sheet(sheet: Worksheet, report: Report, rows: Sequence[dict[str, Any]]) -> None:
    sheet.title = "台账"
    _header(sheet, title_of(report), [c[0] for c in LEDGER_COLUMNS], [c[1] for c in LEDGER_COLUMNS])
    for cells in ledger_cells(rows):
        append_row(sheet, cells)
    for line in sheet.iter_rows(min_row=3, min_col=3, max_col=3):
        line[0].alignment = Alignment(wrap_text=True, vertical="top")


def _summary_sheet(book: Workbook, name: str, key: str, rows: Sequence[dict[str, Any]]) -> None:
    sheet = book.create_sheet("汇总")
    headers = [name, "任务数", "红灯", "黄灯", "绿灯", "已关闭", "逾期", *STATUS_LABELS.values()]
    _header(sheet, "汇总", headers, [24] + [8] * (len(headers) - 1))
    for row in rows:
        lights = [row["by_light"][c] for c in ("red", "yellow", "green", "closed")]
        statuses = [row["by_status"][s] for s in STATUS_LABELS]
        append_row(
            sheet, [row[key] or "（未定）", row["tasks"], *lights, row["overdue"], *statuses]
        )


def _monthly_xlsx(book: Workbook, sheet: Worksheet, r: Report) -> None:
    _ledger_sheet(sheet, r, r["tasks"])
    _summary_sheet(book, "牵头单位", "unit", [*r["units"], {"unit": "合计", **r["totals"]}])
    reports = book.create_sheet("月度报送")
    _header(
        reports,
        f"{r['month']} 月度报送（{r['round_due']}前）",
        ["单位", "编号", "情况", "日期"],
        [24, 10, 14, 12],
    )
    for x in r["reports"]:
        append_row(reports, [x["unit"], x["task_code"], x["outcome_label"], x["day"]])


def _quarterly_xlsx(book: Workbook, sheet: Worksheet, r: Report) -> None:
    sheet.title = "专责小组"
    headers = ["专责小组", "任务数", "已销号", "平均进度%", "红灯", "黄灯", "绿灯"]
    _header(sheet, title_of(r), headers, [36, 8, 8, 10, 8, 8, 8])
    for g in r["groups"]:
        lights = [g["by_light"][c] for c in ("red", "yellow", "green")]
        append_row(sheet, [g["group"], g["tasks"], g["completed"], g["avg_percent"], *lights])
    risk = book.create_sheet("下季度风险")
    _header(
        risk,
        "下季度到期且进度滞后",
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
                t["deadline"],
                t["percent"],
                t["expected_percent"],
            ],
        )
    _summary_sheet(book, "牵头单位", "unit", r["units"])
    _measures_sheet(book, r.get("measures", []))


def _assessment_xlsx(book: Workbook, sheet: Worksheet, r: Report) -> None:
    sheet.title = "排名"
    _header(sheet, title_of(r), ["名次", "单位", "得分", "加分", "扣分"], [6, 28, 10, 10, 10])
    for u in r["units"]:
        if u["rank"] is None:
            append_row(sheet, ["无任务", u["unit"], "", "", ""])
        else:
            append_row(sheet, [u["rank"], u["unit"], u["score"], u["gained"], u["lost"]])
    points = book.create_sheet("得分明细")
    headers = ["单位", "事项", "分值", "编号", "日期", "说明", "事件序号", "事件"]
    _header(points, "得分明细（每一分对应的事件）", headers, [28, 18, 8, 10, 12, 40, 10, 18])
    for u in r["units"]:
        for p in u["points"]:
            append_row(
                points,
                [
                    u["unit"],
                    p["label"],
                    p["points"],
                    p["task_code"],
                    p["day"],
                    p["note"],
                    p["notification_id"],
                    p["event_label"],
                ],
            )
    _measures_sheet(book, r.get("measures", []))


def _measures_sheet(book: Workbook, measures: Sequence[dict[str, Any]]) -> None:
    sheet = book.create_sheet("追责问责")
    headers = ["日期", "编号", "单位", "方式", "事由", "文号"]
    _header(sheet, "追责问责", headers, [12, 10, 24, 10, 40, 24])
    for m in measures:
        append_row(
            sheet,
            [m["day"], m["task_code"], m["unit"], m["kind_label"], m["reason"], m["document_no"]],
        )


_XLSX: dict[str, Callable[[Workbook, Worksheet, Report], None]] = {
    "monthly": _monthly_xlsx,
    "quarterly": _quarterly_xlsx,
    "assessment": _assessment_xlsx,
}
