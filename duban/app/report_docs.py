"""The reports as the office reads them: Markdown for the group chats (split to each
platform's size limit, `duban.app.report_markdown`), the Excel 台账 (`duban.app.report_xlsx`),
JSON, and HTML with inline SVG charts (`duban.app.report_html`). Every renderer takes the
report dict a builder returned (`duban.app.report_kinds`).

Public surface: `render_json`, `render_markdown`, `markdown_parts`, `write_xlsx`, `render_html`,
`render_text` (a text format by name) and `office_post`, the message a scheduled job posts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from duban.app.report_html import render_html
from duban.app.report_kinds import Report, ReportKind, report_context, title_of
from duban.app.report_markdown import markdown_parts, render_markdown
from duban.app.report_xlsx import LEDGER_COLUMNS, write_xlsx
from duban.app.services import Services

__all__ = [
    "LEDGER_COLUMNS",
    "TEXT_FORMATS",
    "OfficePost",
    "markdown_parts",
    "office_post",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
    "write_xlsx",
]


def render_json(report: Report) -> str:
    """The report as stable, indented JSON (keys as the builders name them)."""
    return json.dumps(report, ensure_ascii=False, indent=2, sort_keys=False)


TEXT_FORMATS: dict[str, Callable[[Report], str]] = {
    "md": render_markdown,
    "json": render_json,
    "html": render_html,
}
"""The formats rendered as text (Excel is a file: `write_xlsx`)."""


def render_text(report: Report, fmt: str) -> str:
    return TEXT_FORMATS[fmt](report)


@dataclass(frozen=True)
class OfficePost:
    """A report as a scheduled job queues it for the office chat."""

    message_key: str  # report|<builder>|<period>: a second run finds it queued
    channel: str
    title: str
    parts: list[str]


def office_post(services: Services, kind: ReportKind[Any], now: dt.datetime) -> OfficePost:
    """The report of the period before `now`'s (office time), with every fact stored, as
    Markdown parts that fit the office chat's platform."""
    period = kind.previous(now.astimezone(services.config.tz).date())
    report = kind.build(report_context(services), period, None)
    channel = services.config.office.channel
    platform = services.config.channel(channel).platform
    return OfficePost(
        message_key=f"report|{kind.builder}|{kind.key(period)}",
        channel=channel,
        title=title_of(report),
        parts=markdown_parts(report, platform),
    )
