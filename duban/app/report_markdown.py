"""Reports as Markdown, for the group chats: `render_markdown`, and `markdown_parts` cut to a
platform's message limit (`notifiers.limits`).

Unit, group, official and recognition names, task codes and titles come from the config and
the task list: every text value of the report passes through the chat escaper
(`notifiers.render.escape_markdown`) before it is placed in the Markdown, so the office chat
shows it as text and no name can link, mention, format or break a line. The markup is this
module's alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from duban.app.report_kinds import Report, title_of
from duban.app.report_words import LIGHT_WORDS, cn_date, dated_line, points_text, score_text
from notifiers.limits import split_for_platform
from notifiers.render import escape_markdown

__all__ = ["markdown_parts", "render_markdown"]


def render_markdown(report: Report) -> str:
    safe: Report = _escaped(report)
    lines = [f"**{safe['office']}**", f"## {title_of(safe)}", dated_line(safe), ""]
    lines += _MARKDOWN[safe["kind"]](safe)
    return "\n".join(lines).rstrip() + "\n"


def _escaped(value: Any) -> Any:
    """The report with every text value escaped (keys are the builders' names, kept)."""
    if isinstance(value, str):
        return escape_markdown(value)
    if isinstance(value, dict):
        return {key: _escaped(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(item) for item in value]
    return value


def markdown_parts(report: Report, platform: str) -> list[str]:
    """The Markdown cut into numbered parts that each fit `platform`'s message limit, with room
    for the title the message is posted under."""
    return list(split_for_platform(platform, render_markdown(report), title_of(report)))


def _section(title: str, items: list[str]) -> list[str]:
    return ["", f"### {title}", *(items or ["- 无"])]


def _counts(tally: dict[str, Any]) -> str:
    """「3项：红灯1 黄灯1 绿灯1 已办结0，逾期1项」: lights as words, no emoji."""
    lights = " ".join(f"{LIGHT_WORDS[c]}{tally['by_light'][c]}" for c in LIGHT_WORDS)
    return f"{tally['tasks']}项：{lights}，逾期{tally['overdue']}项"


def _reports_text(counts: dict[str, int]) -> str:
    return (
        f"按时{counts['on_time']} 迟报{counts['report_late']} 漏报{counts['report_missing']}"
        f" 未到期{counts['pending']}"
    )


def _monthly_md(r: Report) -> list[str]:
    totals = r["totals"]
    lines = [
        f"**总体** {_counts(totals)}；本月报送（{cn_date(r['round_due'])}前）："
        f"{_reports_text(totals['reports'])}",
        "",
        "### 各牵头单位",
    ]
    lines += [
        f"- {u['unit']}：{_counts(u)}；报送 {_reports_text(u['reports'])}；督办{u['escalations']}次"
        for u in r["units"]
    ]
    lines += ["", "### 各专责小组"] + [f"- {g['group']}：{_counts(g)}" for g in r["groups"]]
    lines += _section(
        "逾期任务",
        [
            f"- {o['code']} {o['lead_unit']} 时限{cn_date(o['deadline'])} "
            f"逾期{o['days_overdue']}个工作日 进度{o['percent']}%"
            for o in r["overdue"]
        ],
    )
    lines += _section(
        "本月督办",
        [
            f"- {cn_date(e['day'])} {e['task_code']} {e['unit']} {e['rung_label']}"
            for e in r["escalations"]
        ],
    )
    lines += _section(
        "本月销号",
        [
            f"- {cn_date(c['day'])} {c['task_code']} {c['unit']} {c['how_label']}"
            for c in r["closed"]
        ],
    )
    ch = r["changes"]
    delta = "，".join(f"{LIGHT_WORDS[k]}{points_text(v)}" for k, v in ch["by_light_delta"].items())
    lines += ["", f"### 较{_month_words(ch['previous_month'])}变化", f"- {delta}"]
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
    lines += _section(
        "配合单位报送",
        [
            f"- {cn_date(c['day'])} {c['task_code']} {c['by_label']}：{c['text']}"
            for c in r.get("co_unit_reports", [])
        ],
    )
    return lines


def _month_words(month: str) -> str:
    """「2024年6月」 from 2024-06."""
    year, number = month.split("-")
    return f"{int(year)}年{int(number)}月"


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
    lines += _progress_md("各领衔领导", r["officials"], "official_label")
    nxt = r["next_quarter"]
    risky = [
        f"- {t['code']} {t['lead_unit']} 时限{cn_date(t['deadline'])} "
        f"进度{t['percent']}%（应达{t['expected_percent']}%）"
        for t in r["at_risk"]
    ]
    span = f"{cn_date(nxt['start'])}至{cn_date(nxt['end'])}"
    lines += _section(f"下季度（{span}）到期且进度滞后", risky)
    repeated = [
        f"- {u['unit']}：{u['count']}次（{_by_rung(u['by_rung'])}）"
        for u in r["repeated_escalations"]
    ]
    lines += _section("多次被督办的单位", repeated)
    recognised = [
        f"- {x['task_code']} {x['unit']} {x['kind_label']}（{x['level_label']}）{x['title']}"
        for x in r["recognitions"]
    ]
    lines += _section("改革试点与典型", recognised)
    return lines + _measures_md(r.get("measures", []))


def _by_rung(counts: dict[str, int]) -> str:
    return "、".join(f"{escape_markdown(rung)}{n}" for rung, n in counts.items())


def _assessment_md(r: Report) -> list[str]:
    """The ranking as a list (WeCom and DingTalk render no Markdown table)."""
    lines = ["### 考核排名"]
    lines += [
        f"- 第{u['rank']}名 {u['unit']}：{score_text(u['score'])}分"
        f"（加分{points_text(u['gained'])}，扣分{points_text(u['lost'])}）"
        if u["rank"] is not None
        else f"- 无任务 {u['unit']}"
        for u in r["units"]
    ]
    return lines + _measures_md(r.get("measures", []))


def _measures_md(measures: Sequence[dict[str, Any]]) -> list[str]:
    return _section(
        "追责问责",
        [
            f"- {cn_date(m['day'])} {m['task_code']} {m['unit']} {m['kind_label']}：{m['reason']}"
            f"（{m['document_no']}）"
            for m in measures
        ],
    )


_MARKDOWN: dict[str, Callable[[Report], list[str]]] = {
    "monthly": _monthly_md,
    "quarterly": _quarterly_md,
    "assessment": _assessment_md,
}
