"""`duban scheduler preview`: every message the configured jobs would queue over a period,
found by running the real jobs at their fire times on a throw-away copy of the store.

Nothing reaches the real store (it is only read) and delivery never runs, so nothing is sent:
each message is taken as delivered at the moment it would be sent, so that the ladder, whose
next rung waits for the last one to reach the unit (PRODUCT.md rule 4), climbs as it would.
Each message is shown at the moment it would be SENT: delivery goes in working time only
(PRODUCT.md rule 3), so a message queued outside it (a round opened on a holiday, a report
posted on a Sunday) goes at the start of the next working period; `queued_at` keeps the moment
the job queued it, and `held` says when the two differ. The sweep job is the real one, so its
批示 urges (`duban.app.instruction_urging`, kind `instruction_urge`) show too.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.persistence import StoredEvent

from domain.reminder import ChatMessage
from duban.app.ledger import Ledger
from duban.app.scheduled import JOBS
from duban.app.services import Services, open_ledger
from duban.settings.store import is_sqlite, sqlite_path
from projections.outbox import open_outbox
from scheduler.cron import next_fire_times
from scheduler.triggers import parse_schedule

__all__ = ["PREVIEW_JOBS", "PreviewMessage", "preview"]

log = structlog.get_logger(__name__)

PREVIEW_JOBS = ("sweep", "report_round", "monthly_report", "quarterly_report", "annual_assessment")
"""Every job that queues messages, except delivery (it sends) and the daily chain head."""


@dataclass(frozen=True)
class PreviewMessage:
    """One message a job would queue: when it would be sent (`at`), when it was queued, by
    which job, to which chat, with what text."""

    at: dt.datetime  # when delivery would send it: `queued_at` moved into working time
    job: str
    channel: str
    kind: str
    title: str
    parts: tuple[str, ...]
    mention_mobiles: tuple[str, ...]
    task_codes: tuple[str, ...]
    queued_at: dt.datetime  # when the job queued it

    @property
    def held(self) -> bool:
        """Whether it waits for working time (it is sent later than it was queued)."""
        return self.at != self.queued_at


class _Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy (WAL included) through SQLite's own online backup."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _copy_events(source: Ledger, target: Ledger, batch: int = 2000) -> None:
    """Every stored event, as stored, into another store (PostgreSQL → temporary SQLite)."""
    rows: list[StoredEvent] = []
    for n in source.notifications(batch=batch):
        rows.append(StoredEvent(n.originator_id, n.originator_version, n.topic, n.state))
        if len(rows) == batch:
            target.recorder.insert_events(rows)
            rows = []
    if rows:
        target.recorder.insert_events(rows)


@contextmanager
def _copy_of(services: Services, clock: _Clock) -> Iterator[Services]:
    """Services over a throw-away copy of the store: nothing done to it reaches the real one."""
    with tempfile.TemporaryDirectory(prefix="duban-preview-") as folder:
        url = f"sqlite:///{Path(folder) / 'preview.db'}"
        if is_sqlite(services.config.store):
            _copy_sqlite(sqlite_path(services.config.store), sqlite_path(url))
        ledger = open_ledger(url, clock)
        if not is_sqlite(services.config.store):
            _copy_events(services.ledger, ledger)
        config = services.config.model_copy(update={"store": url})
        try:
            yield Services(config=config, ledger=ledger)
        finally:
            ledger.close()


def _ticks(
    services: Services, jobs: Sequence[str], start: dt.date, end: dt.date
) -> list[tuple[dt.datetime, str]]:
    """Every fire time of `jobs` from the start of `start` to the end of `end`, in order."""
    tz = services.config.tz
    first = dt.datetime.combine(start, dt.time(), tzinfo=tz) - dt.timedelta(microseconds=1)
    last = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    ticks: list[tuple[dt.datetime, str]] = []
    for job in jobs:
        trigger = parse_schedule(getattr(services.config.schedules, job), tz, services.calendar)
        moment = first
        while (found := next_fire_times(trigger, moment, 1)) and found[0] < last:
            moment = found[0]
            ticks.append((moment, job))
    return sorted(ticks)


def _queued_since(services: Services, after: int) -> tuple[int, list[Any]]:
    found = [queued for _, queued in services.ledger.events_of(ChatMessage.Queued, after=after)]
    return max(after, services.ledger.recorder.max_notification_id() or 0), found


def _preview_message(services: Services, at: dt.datetime, job: str, queued: Any) -> PreviewMessage:
    """The message as queued at `at`, shown at the moment delivery would send it."""
    return PreviewMessage(
        at=services.calendar.next_working_time(at),
        queued_at=at,
        job=job,
        channel=queued.channel,
        kind=queued.kind,
        title=queued.title,
        parts=tuple(queued.parts),
        mention_mobiles=tuple(queued.mention_mobiles),
        task_codes=tuple(queued.task_codes),
    )


PREVIEW_ACTOR = "system:preview"


def _assume_delivered(copy: Services, queued: Sequence[Any], at: dt.datetime) -> None:
    """Record each message queued at `at` as delivered when delivery would send it (on the
    copy only)."""
    sent_at = copy.calendar.next_working_time(at)
    messages: list[Any] = [copy.ledger.repository.get(q.originator_id) for q in queued]
    for message in messages:
        message.mark_delivered(actor=PREVIEW_ACTOR, at=sent_at)
    if messages:
        copy.ledger.save(*messages)


def _deliver_backlog(copy: Services, start: dt.datetime) -> None:
    """Messages already waiting in the outbox (a 交办 notice queued by the import, say) are
    sent by the first delivery pass: taken as delivered then, on the copy (the outbox index
    holds only the backlog, so this reads no history)."""
    outbox = open_outbox(copy.ledger)
    outbox.catch_up(copy.ledger)
    sent_at = copy.calendar.next_working_time(start)
    messages: list[Any] = [copy.ledger.repository.get(UUID(p.message_id)) for p in outbox.pending()]
    for message in messages:
        message.mark_delivered(actor=PREVIEW_ACTOR, at=sent_at)
    if messages:
        copy.ledger.save(*messages)


def _run_on_copy(job: str, services: Services, at: dt.datetime) -> None:
    """A job that fails in the preview is named in the log; the rest of the window still
    shows (the scheduler treats a failing job the same way)."""
    try:
        JOBS[job](services, at)
    except Exception:
        log.exception("preview_job_failed", job=job, at=at.isoformat())


def preview(
    services: Services, start: dt.date, end: dt.date, jobs: Sequence[str] = PREVIEW_JOBS
) -> list[PreviewMessage]:
    """Every message the configured jobs would queue from `start` to `end` (inclusive),
    found by running the real jobs at their fire times on a copy of the store, each at the
    moment it would be sent (in send order; `queued_at` when the job queued it).

    Sweep ticks outside working hours are skipped (nothing is due then). The real store
    is only read; delivery never runs, so nothing is sent.
    """
    calendar = services.calendar
    ticks = [
        (at, job)
        for at, job in _ticks(services, jobs, start, end)
        if job != "sweep" or calendar.is_working_time(at)
    ]
    clock = _Clock(dt.datetime.combine(start, dt.time(), tzinfo=services.config.tz))
    messages: list[PreviewMessage] = []
    with _copy_of(services, clock) as copy:
        _deliver_backlog(copy, clock.now)
        position = copy.ledger.recorder.max_notification_id() or 0
        for at, job in ticks:
            clock.now = at
            _run_on_copy(job, copy, at)
            position, queued = _queued_since(copy, position)
            messages += [_preview_message(services, at, job, q) for q in queued]
            _assume_delivered(copy, queued, at)
    return sorted(messages, key=lambda m: m.at)  # in the order they would be sent
