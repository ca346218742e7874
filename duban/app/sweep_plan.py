"""The sweep's planning: which reminders are due for the tasks the index hands it, routed to
their chats, and one digest per chat (PRODUCT.md rules 3-5; `duban.app.sweep` writes them).

Pure: it reads only the setting it is given (ladder, calendar, directory, renderer) and
returns the issues and the messages; nothing here saves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from domain.calendar import WorkingCalendar
from domain.ladder import DueReminder, Ladder, due_reminders
from duban.app.routing import Directory, Route, one_per_chat
from notifiers.limits import split_for_platform
from notifiers.render import DigestItem, Renderer
from projections.due import DueIndex, DueTask

__all__ = ["Issue", "PlannedMessage", "Setting", "issues_due", "plan_messages"]


@dataclass
class Setting:
    """What one sweep plans with, built once (its attempts share it)."""

    ladder: Ladder
    calendar: WorkingCalendar
    directory: Directory
    renderer: Renderer
    index: DueIndex


@dataclass(frozen=True)
class PlannedMessage:
    """One digest for one chat, as it is queued (and as `--dry-run` and preview show it)."""

    message_key: str
    channel: str
    title: str
    parts: tuple[str, ...]
    mention_mobiles: tuple[str, ...]
    reminder_keys: tuple[str, ...]
    task_codes: tuple[str, ...]


@dataclass(frozen=True)
class Issue:
    """One rung due for one task, with the chats it goes to."""

    task: DueTask
    due: DueReminder
    routes: tuple[Route, ...]
    document_no: str | None = None  # the 督办单 / 通报 it issues (duban.app.documents)

    @property
    def key(self) -> str:
        return self.due.key.as_str()

    @property
    def escalates(self) -> bool:
        """催办 and above: a rung after the date it is about is a fact about the task (the
        签收 rungs are about the claim, not the deadline: they are messages only)."""
        return self.due.rung.offset > 0 and not self.due.target.is_claim


def issues_due(tasks: Sequence[DueTask], setting: Setting, now: dt.datetime) -> list[Issue]:
    """Every rung due at `now` for `tasks`, routed (one route per chat)."""
    found: list[Issue] = []
    for task in tasks:
        for due in due_reminders(
            task.ladder_input, setting.ladder, setting.calendar, now, task.fired, task.delivered
        ):
            routes = setting.directory.routes(task, due.rung)
            found.append(Issue(task, due, one_per_chat(routes)))
    return found


def plan_messages(
    issues: Sequence[Issue], setting: Setting, now: dt.datetime
) -> list[PlannedMessage]:
    """Everything due for one chat becomes one digest (rule 5)."""
    per_chat: dict[str, list[tuple[Issue, Route]]] = {}
    for issue in issues:
        for route in issue.routes:
            per_chat.setdefault(route.channel, []).append((issue, route))
    local = now.astimezone(setting.calendar.tz)
    return [
        _chat_message(channel, entries, setting, local)
        for channel, entries in sorted(per_chat.items())
    ]


def _digest_item(
    issue: Issue, route: Route, calendar: WorkingCalendar, today: dt.date
) -> DigestItem:
    task, due = issue.task, issue.due
    title = task.title
    if due.target.is_milestone:
        title = f"{title}（节点：{due.target.target.split(':', 1)[1]}）"
    elif due.target.is_claim:
        title = f"{title}（尚未签收；此处时限为签收时限）"
    return DigestItem(
        task_code=task.code,
        title=title,
        # The digest groups by the five named rungs; a configured rung joins the one of its
        # severity, so that it is shown, never dropped.
        rung=due.rung.counts_as,
        rung_label=due.label,
        deadline=due.target.due,
        days=calendar.working_days_between(due.target.due, today),
        last_report=task.last_report.isoformat() if task.last_report else None,
        lead_unit=task.lead_unit,
        mention_names=route.names,
        document_no=issue.document_no,
    )


def _message_key(channel: str, now: dt.datetime, keys: Iterable[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]
    return f"{channel}|{now:%Y%m%dT%H%M}|{digest}"


def _chat_message(
    channel: str,
    entries: list[tuple[Issue, Route]],
    setting: Setting,
    now: dt.datetime,
) -> PlannedMessage:
    items = [_digest_item(issue, route, setting.calendar, now.date()) for issue, route in entries]
    title, body = setting.renderer.render_digest(setting.directory.chat_name(channel), items, now)
    mobiles = tuple(dict.fromkeys(m for _, route in entries for m in route.mobiles))
    keys = tuple(dict.fromkeys(issue.key for issue, _ in entries))
    return PlannedMessage(
        message_key=_message_key(channel, now, keys),
        channel=channel,
        title=title,
        parts=split_for_platform(setting.directory.platform(channel), body, title, mobiles),
        mention_mobiles=mobiles,
        reminder_keys=keys,
        task_codes=tuple(dict.fromkeys(issue.task.code for issue, _ in entries)),
    )
