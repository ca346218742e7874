"""How the reports write what a reader reads, in every document format (Markdown, Excel, HTML and
the PDF made of them): the official titles, the issuing office, dates as 「2024年7月31日」,
lights as words, points with no 「+0」, 阶段节点 with their state. The data formats (JSON, CSV)
keep ISO dates and codes: they take the report dict as the builders return it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.dates import chinese_date
from domain.vocabulary import LIGHT_LABELS

__all__ = [
    "LIGHT_WORDS",
    "QUARTER_WORDS",
    "chinese_date",
    "cn_date",
    "dated_line",
    "milestones_text",
    "official_title",
    "points_text",
    "score_text",
]

QUARTER_WORDS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
# The lights in the order a report lists them (red first), as words: red → 红灯 … 已办结.
LIGHT_WORDS: Mapping[str, str] = {c: LIGHT_LABELS[c] for c in ("red", "yellow", "green", "closed")}


cn_date = chinese_date
"""「2024年7月31日」 from a date or an ISO date (or an ISO moment's day); text that is not a date
(「2024年底」, 「持续推进」) as it is, None as empty: `domain.dates.chinese_date` itself, under
the name the report builders use."""


def official_title(report: Mapping[str, Any]) -> str:
    """The report's title in the office's form: 「2024年7月全面深化改革工作分析」,
    「2024年第三季度改革工作调度」, 「2024年度全面深化改革督查考核结果」."""
    kind = report["kind"]
    if kind == "monthly":
        year, month = str(report["month"]).split("-")
        return f"{int(year)}年{int(month)}月全面深化改革工作分析"
    if kind == "quarterly":
        year, quarter = str(report["quarter"]).upper().split("Q")
        return f"{int(year)}年{QUARTER_WORDS[int(quarter)]}改革工作调度"
    return f"{int(report['year'])}年度全面深化改革督查考核结果"


def dated_line(report: Mapping[str, Any]) -> str:
    """The line under the title: 「（截至2024年7月31日）」."""
    return f"（截至{cn_date(report['day'])}）"


def points_text(value: float) -> str:
    """A gain or a loss as the office writes it: 「+1.5」, 「-0.1」, and nothing signed for
    zero: 「0」."""
    if value == 0:
        return "0"
    return f"{value:+g}"


def score_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def milestones_text(milestones: Sequence[Mapping[str, Any]], sep: str = "；") -> str:
    """The 阶段节点 with their state: 「完成方案 2024年6月30日（已完成）；…」."""
    return sep.join(f"{m['name']} {cn_date(m['due'])}（{m['state_label']}）" for m in milestones)
