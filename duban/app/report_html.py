"""Reports as self-contained HTML pages (`templates/report.html.j2`), with charts drawn here
as inline SVG: no script, every text escaped."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from duban.app.report_kinds import Report, title_of
from duban.app.report_words import cn_date, dated_line, points_text, score_text
from duban.app.report_xlsx import LEDGER_COLUMNS, ledger_cells

__all__ = ["completion_svg", "lights_svg", "ranking_svg", "render_html"]

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
            f'<text x="{x + 4}" y="{height - 5}" font-size="11">{int(s["month"][5:])}月</text>'
        )
    return _svg(max(len(series), 1) * (col + 8), height, parts, "全年完成情况（累计销号）")


def ranking_svg(units: Sequence[dict[str, Any]]) -> Markup:
    """Horizontal bars: each ranked unit's score, best first (无任务 units have no bar)."""
    units = [u for u in units if u["rank"] is not None]
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
    """A self-contained HTML page (charts as inline SVG, drawn here, no script): the issuing
    office, the title, the day; lights as words in coloured cells (class ``light-red`` …)."""
    rows = report.get("tasks", [])
    return _ENV.get_template("report.html.j2").render(
        r=report,
        title=title_of(report),
        dated=dated_line(report),
        headers=[c[0] for c in LEDGER_COLUMNS],
        ledger=list(zip(rows, ledger_cells(rows), strict=True)),
        light_column=[c[0] for c in LEDGER_COLUMNS].index("红黄绿灯"),
        cn_date=cn_date,
        points_text=points_text,
        score_text=score_text,
        lights_svg=lights_svg,
        completion_svg=completion_svg,
        ranking_svg=ranking_svg,
    )
