"""What the 交办 and decision notices are made of: one planned message, and the way a value
typed by a person enters its text.

Every value is masked (`duban.app.masking`: a mobile typed into a reason is shown as
`138****5678`) and then escaped with the one chat escaper (`notifiers.render.escape_markdown`),
so a title or a reason can neither mention anyone nor open a link nor break its line. The one
link a notice carries is ours: `link_text`, the task's page under `[web] public_url`
(`notifiers.links.TrustedLink`), never escaped and never made of typed text but the quoted code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.dates import chinese_date
from duban.app.masking import mask_mobiles
from notifiers.links import task_link
from notifiers.render import escape_markdown
from projections.due_deliveries import ASSIGNMENT_NOTICE

__all__ = ["ASSIGNMENT_KIND", "DECISION_KIND", "Notice", "day_text", "link_text", "text"]

ASSIGNMENT_KIND = ASSIGNMENT_NOTICE  # 交办通知 (the due index waits for its delivery)
DECISION_KIND = "decision_notice"  # 审批、销号、初审、批示、问责的结果


@dataclass(frozen=True)
class Notice:
    """One message for one chat, keyed by the event(s) it tells of (queued once)."""

    key: str
    channel: str
    kind: str
    title: str
    body: str
    mention_mobiles: tuple[str, ...]
    task_codes: tuple[str, ...]


def text(value: object) -> str:
    """A person's value as it enters a chat message: masked, escaped, on one line."""
    return escape_markdown(mask_mobiles(str(value)))


def link_text(public_url: str | None, code: str | None) -> str:
    """The Markdown link to task `code`'s page, or "" without a public address or a task."""
    link = task_link(public_url, code) if code else None
    return str(link) if link is not None else ""


def day_text(day: dt.date | None) -> str:
    """A date as the office writes it (`2026年12月7日`, `domain.dates.chinese_date`); `持续推进`
    for none (a task without a deadline)."""
    return chinese_date(day, missing="持续推进")
