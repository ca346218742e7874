"""The reports of `projections.reports` as the office reads them: Markdown for the group chats
(split to each platform's size limit), the Excel 台账, JSON and HTML with inline SVG charts.

Public surface: `render_json`, `render_markdown`, `markdown_parts`, `write_xlsx`,
`render_html`. Every renderer takes the report dict a builder returned.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from duban.app.services import Services
from notifiers.limits import split_for_platform
from projections.assessment import open_reports
from projections.reports import ReportContext
from projections.runner import catch_up

__all__ = [
    "LEDGER_COLUMNS",
    "markdown_parts",
    "render_html",
    "render_json",
    "render_markdown",
    "report_context",
    "write_xlsx",
]

Report = dict[str, Any]


def report_context(svc: Services) -> ReportContext:
    """The reports' view of the store, caught up, with the config's calendar and rules."""
    store = open_reports(svc.ledger.recorder.datastore)  # type: ignore[attr-defined]
    catch_up(svc.ledger, store.projection)
    return ReportContext(
        store, svc.calendar, svc.config.report_round.due_working_days, svc.config.assessment
    )


TITLES = {"monthly": "月分析", "quarterly": "季调度", "assessment": "年督考"}
LIGHT_ICONS = {"red": "🔴", "yellow": "🟡", "green": "🟢", "closed": "⚪"}
STATUS_NAMES = {
    "assigned": "已交办",
    "claimed": "推进中",
    "submitted": "待销号",
    "completed": "已销号",
    "cancelled": "已撤销",
}
LIGHT_NAMES = {"red": "红灯", "yellow": "黄灯", "green": "绿灯", "closed": "已关闭"}

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


def title_of(report: Report) -> str:
    period = report.get("month") or report.get("quarter") or report.get("year")
    return f"{period} {TITLES[report['kind']]}（截至 {report['day']}）"


# ---- JSON ------------------------------------------------------------------------------------


def render_json(report: Report) -> str:
    """The report as stable, indented JSON (keys as the builders name them)."""
    return json.dumps(report, ensure_ascii=False, indent=2, sort_keys=False)


# ---- Markdown --------------------------------------------------------------------------------


def render_markdown(report: Report) -> str:
    lines = [f"## {title_of(report)}", ""]
    lines += _MARKDOWN[report["kind"]](report)
    return "\n".join(lines).rstrip() + "\n"


def markdown_parts(report: Report, platform: str) -> list[str]:
    """The Markdown cut into numbered parts that each fit `platform`'s message limit, with room
    for the title the message is posted under."""
    return list(split_for_platform(platform, render_markdown(report), title_of(report)))


def _section(title: str, items: list[str]) -> list[str]:
    return ["", f"### {title}", *(items or ["- 无"])]


def _counts(tally: dict[str, Any]) -> str:
    lights = tally["by_light"]
    return (
        f"{tally['tasks']}项：🔴{lights['red']} 🟡{lights['yellow']} 🟢{lights['green']} "
        f"⚪{lights['closed']}，逾期{tally['overdue']}"
    )


def _reports_text(counts: dict[str, int]) -> str:
    return (
        f"按时{counts['on_time']} 迟报{counts['report_late']} 漏报{counts['report_missing']}"
        f" 未到期{counts['pending']}"
    )


def _monthly_md(r: Report) -> list[str]:
    totals = r["totals"]
    lines = [
        f"**总体** {_counts(totals)}；本月报送（{r['round_due']}前）："
        f"{_reports_text(totals['reports'])}",
        "",
        "### 各牵头单位",
    ]
    lines += [
        f"- {u['unit']}：{_counts(u)}；报送 {_reports_text(u['reports'])}；"
        f"督办类{u['escalations']}次"
        for u in r["units"]
    ]
    lines += ["", "### 各专责小组"] + [f"- {g['group']}：{_counts(g)}" for g in r["groups"]]
    lines += _section(
        "逾期任务",
        [
            f"- {o['code']} {o['lead_unit']} 时限{o['deadline']} "
            f"逾期{o['days_overdue']}天 进度{o['percent']}%"
            for o in r["overdue"]
        ],
    )
    lines += _section(
        "本月督办",
        [f"- {e['day']} {e['task_code']} {e['unit']} {e['rung_label']}" for e in r["escalations"]],
    )
    lines += _section(
        "本月销号",
        [f"- {c['day']} {c['task_code']} {c['unit']} {c['how_label']}" for c in r["closed"]],
    )
    ch = r["changes"]
    delta = "，".join(f"{LIGHT_NAMES[k]}{v:+d}" for k, v in ch["by_light_delta"].items())
    lines += ["", f"### 较{ch['previous_month']}变化", f"- {delta}"]
    lines += [
        f"- {c['code']}：{c['status_label_from']}→{c['status_label']}，"
        f"{c['light_label_from']}→{c['light_label']}，{c['percent_from']}%→{c['percent']}%"
        for c in ch["tasks"]
    ]
    plans = r["plans"]["counts"]
    lines += [
        "",
        "### 前置初审",
        f"- 已报送{plans['submitted']} 审核中{plans['in_review']} "
        f"已通过{plans['approved']} 已退回{plans['returned']}",
    ]
    return lines


def _progress_md(label: str, rows: Sequence[dict[str, Any]], key: str) -> list[str]:
    lines = ["", f"### {label}"]
    lines += [
        f"- {row[key] or '（未定）'}：{_counts(row)}，"
        f"已销号{row['completed']}，平均进度{row['avg_percent']}%"
        for row in rows
    ]
    return lines


def _quarterly_md(r: Report) -> list[str]:
    lines = [f"**总体** {_counts(r['totals'])}，平均进度{r['totals']['avg_percent']}%"]
    lines += _progress_md("各专责小组", r["groups"], "group")
    lines += _progress_md("各领衔领导", r["officials"], "official")
    nxt = r["next_quarter"]
    risky = [
        f"- {t['code']} {t['lead_unit']} 时限{t['deadline']} "
        f"进度{t['percent']}%（应达{t['expected_percent']}%）"
        for t in r["at_risk"]
    ]
    lines += _section(f"下季度（{nxt['start']}至{nxt['end']}）到期且进度滞后", risky)
    repeated = [
        f"- {u['unit']}：{u['count']}次（{'、'.join(f'{k}{v}' for k, v in u['by_rung'].items())}）"
        for u in r["repeated_escalations"]
    ]
    lines += _section("多次被督办的单位", repeated)
    recognised = [
        f"- {x['task_code']} {x['unit']} {x['kind_label']}（{x['level']}）{x['title']}"
        for x in r["recognitions"]
    ]
    lines += _section("改革试点与典型", recognised)
    return lines


def _assessment_md(r: Report) -> list[str]:
    lines = ["| 名次 | 单位 | 得分 | 加分 | 扣分 |", "|---|---|---|---|---|"]
    lines += [
        f"| {u['rank']} | {u['unit']} | {u['score']:g} | {u['gained']:+g} | {u['lost']:+g} |"
        for u in r["units"]
    ]
    return lines


_MARKDOWN: dict[str, Callable[[Report], list[str]]] = {
    "monthly": _monthly_md,
    "quarterly": _quarterly_md,
    "assessment": _assessment_md,
}


# ---- Excel -----------------------------------------------------------------------------------


def write_xlsx(report: Report, path: Path) -> None:
    """An Excel workbook: the 台账 (one row per task) and a 汇总 sheet; for the assessment, the
    ranking and every point with its event."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    _XLSX[report["kind"]](book, sheet, report)
    book.save(path)


def _header(sheet: Worksheet, title: str, headers: Sequence[str], widths: Sequence[int]) -> None:
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(list(headers))
    for i, width in enumerate(widths):
        cell = sheet.cell(row=2, column=i + 1)
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(i + 1)].width = width
    sheet.freeze_panes = "A3"


def _ledger_sheet(sheet: Worksheet, report: Report, rows: Sequence[dict[str, Any]]) -> None:
    sheet.title = "台账"
    _header(sheet, title_of(report), [c[0] for c in LEDGER_COLUMNS], [c[1] for c in LEDGER_COLUMNS])
    for i, row in enumerate(rows, start=1):
        sheet.append([value(row, i) for _, _, value in LEDGER_COLUMNS])
    for line in sheet.iter_rows(min_row=3, min_col=3, max_col=3):
        line[0].alignment = Alignment(wrap_text=True, vertical="top")


def _summary_sheet(book: Workbook, name: str, key: str, rows: Sequence[dict[str, Any]]) -> None:
    sheet = book.create_sheet("汇总")
    headers = [name, "任务数", "红灯", "黄灯", "绿灯", "已关闭", "逾期", *STATUS_NAMES.values()]
    _header(sheet, "汇总", headers, [24] + [8] * (len(headers) - 1))
    for row in rows:
        lights = [row["by_light"][c] for c in ("red", "yellow", "green", "closed")]
        statuses = [row["by_status"][s] for s in STATUS_NAMES]
        sheet.append([row[key] or "（未定）", row["tasks"], *lights, row["overdue"], *statuses])


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
        reports.append([x["unit"], x["task_code"], x["outcome_label"], x["day"]])


def _quarterly_xlsx(book: Workbook, sheet: Worksheet, r: Report) -> None:
    sheet.title = "专责小组"
    headers = ["专责小组", "任务数", "已销号", "平均进度%", "红灯", "黄灯", "绿灯"]
    _header(sheet, title_of(r), headers, [36, 8, 8, 10, 8, 8, 8])
    for g in r["groups"]:
        lights = [g["by_light"][c] for c in ("red", "yellow", "green")]
        sheet.append([g["group"], g["tasks"], g["completed"], g["avg_percent"], *lights])
    risk = book.create_sheet("下季度风险")
    _header(
        risk,
        "下季度到期且进度滞后",
        ["编号", "改革任务", "牵头单位", "完成时限", "进度%", "应达%"],
        [10, 48, 18, 12, 8, 8],
    )
    for t in r["at_risk"]:
        risk.append(
            [
                t["code"],
                t["title"],
                t["lead_unit"],
                t["deadline"],
                t["percent"],
                t["expected_percent"],
            ]
        )
    _summary_sheet(book, "牵头单位", "unit", r["units"])


def _assessment_xlsx(book: Workbook, sheet: Worksheet, r: Report) -> None:
    sheet.title = "排名"
    _header(sheet, title_of(r), ["名次", "单位", "得分", "加分", "扣分"], [6, 28, 10, 10, 10])
    for u in r["units"]:
        sheet.append([u["rank"], u["unit"], u["score"], u["gained"], u["lost"]])
    points = book.create_sheet("得分明细")
    headers = ["单位", "事项", "分值", "编号", "日期", "事件序号", "事件类型"]
    _header(points, "得分明细（每一分对应的事件）", headers, [28, 18, 8, 10, 12, 10, 32])
    for u in r["units"]:
        for p in u["points"]:
            points.append(
                [
                    u["unit"],
                    p["label"],
                    p["points"],
                    p["task_code"],
                    p["day"],
                    p["notification_id"],
                    p["event_type"],
                ]
            )


_XLSX: dict[str, Callable[[Workbook, Worksheet, Report], None]] = {
    "monthly": _monthly_xlsx,
    "quarterly": _quarterly_xlsx,
    "assessment": _assessment_xlsx,
}


# ---- HTML with inline SVG --------------------------------------------------------------------

_COLORS = {"red": "#d9363e", "yellow": "#e6a700", "green": "#2e9d57", "closed": "#9aa0a6"}


def _esc(text: Any) -> str:
    return str(Markup.escape(str(text)))


def lights_svg(units: Sequence[dict[str, Any]], key: str = "unit") -> Markup:
    """Stacked horizontal bars: each unit's tasks by light."""
    bar, label_w, width = 18, 190, 620
    most = max((u["tasks"] for u in units), default=1) or 1
    parts = []
    for i, u in enumerate(units):
        y, x = i * (bar + 6), float(label_w)
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{_esc(u[key])}</text>')
        for color in ("red", "yellow", "green", "closed"):
            w = (width - label_w - 40) * u["by_light"][color] / most
            if w:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" '
                    f'fill="{_COLORS[color]}"/>'
                )
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 13}" font-size="11">{u["tasks"]}</text>')
    return _svg(width, len(units) * (bar + 6), parts, "各单位红黄绿灯")


def completion_svg(series: Sequence[dict[str, Any]]) -> Markup:
    """Columns: tasks completed (cumulative) month by month, against all tasks."""
    height, col, top = 180, 40, 20
    total = max((s["total"] for s in series), default=1) or 1
    parts = []
    for i, s in enumerate(series):
        h = (height - top - 20) * s["cumulative"] / total
        x, y = i * (col + 8), height - 20 - h
        parts.append(f'<rect x="{x}" y="{y:.1f}" width="{col}" height="{h:.1f}" fill="#3b73b9"/>')
        parts.append(f'<text x="{x + 4}" y="{y - 3:.1f}" font-size="11">{s["cumulative"]}</text>')
        parts.append(
            f'<text x="{x + 4}" y="{height - 5}" font-size="11">{_esc(s["month"][5:])}月</text>'
        )
    return _svg(max(len(series), 1) * (col + 8), height, parts, "全年完成情况（累计销号）")


def ranking_svg(units: Sequence[dict[str, Any]]) -> Markup:
    """Horizontal bars: each unit's score, best first."""
    bar, label_w, width = 16, 190, 620
    top = max((u["score"] for u in units), default=1) or 1
    parts = []
    for i, u in enumerate(units):
        y, w = i * (bar + 5), max(0.0, (width - label_w - 60) * u["score"] / top)
        parts.append(
            f'<text x="0" y="{y + 12}" font-size="12">{u["rank"]}. {_esc(u["unit"])}</text>'
        )
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar}" fill="#3b73b9"/>')
        parts.append(
            f'<text x="{label_w + w + 4:.1f}" y="{y + 12}" font-size="11">{u["score"]:g}</text>'
        )
    return _svg(width, len(units) * (bar + 5), parts, "年度考核排名")


def _svg(width: float, height: float, parts: Sequence[str], title: str) -> Markup:
    body, high = "".join(parts), max(height, 1)
    return Markup(  # noqa: S704 - every text inside was escaped by _esc
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_esc(title)}" '
        f'width="{width:.0f}" height="{high:.0f}" viewBox="0 0 {width:.0f} {high:.0f}">'
        f"<title>{_esc(title)}</title>{body}</svg>"
    )


_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    keep_trailing_newline=True,
)


def render_html(report: Report) -> str:
    """A self-contained HTML page (charts as inline SVG, drawn here, no script)."""
    rows = report.get("tasks", [])
    return _ENV.get_template("report.html.j2").render(
        r=report,
        title=title_of(report),
        headers=[c[0] for c in LEDGER_COLUMNS],
        ledger=[[value(row, i) for _, _, value in LEDGER_COLUMNS] for i, row in enumerate(rows, 1)],
        lights_svg=lights_svg,
        completion_svg=completion_svg,
        ranking_svg=ranking_svg,
    )
