"""The notices step: 交办 notices and decisions queued for the units' chats, and the units'
steps (claims, reports, extension requests, completions) for the office's chat, once.

    queue_notices(services, now)     # at the start of every sweep, and right after a command

It reads only the events recorded since the position it last handled (the store filters them
by topic: the assignments, the decisions and the unit steps `[office]` has told), plans the
messages (`assignment_notices`, `decision_notices`, `submission_notices`) and queues them in
the outbox. Delivery is the outbox's, held outside
working hours like every message (PRODUCT.md rule 3) and proven attempt by attempt (rule 6).

Exactly once: a message's key is derived from the event(s) it tells of, so a second run, a
second node or a run after a crash between queueing and recording the position collides on
the message's id and queues nothing again. The position is a tracking row of its own in the
store's database (`projections.viewstore`, view "notices"); it only saves work.

A store that has never run the step (one written before it existed) has no position: its
first run reads the history once and tells only of what happened in the last
`FIRST_RUN_HORIZON` (a store's past decisions are not announced years later).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, Tracking

from domain.reminder import ChatMessage
from domain.task import ReformTask
from duban.app.assignment_notices import (
    Assignment,
    assignment_notices,
    assignment_of,
    reassignment_of,
)
from duban.app.decision_notices import DECISION_EVENTS, Lookup, decision_notices
from duban.app.notice_parts import Notice
from duban.app.routing import Directory
from duban.app.services import Services
from duban.app.submission_notices import submission_events, submission_notices
from notifiers.limits import split_for_platform
from projections.viewstore import APP_NAME, ViewRecorder, view_recorder

__all__ = [
    "ACTOR",
    "FIRST_RUN_HORIZON",
    "NOTICE_EVENTS",
    "NoticeReport",
    "plan_notices",
    "queue_notices",
    "queue_notices_now",
]

log = structlog.get_logger(__name__)

ACTOR = "system:duban"
FIRST_RUN_HORIZON = dt.timedelta(days=14)
NOTICE_EVENTS: tuple[type[DomainEvent], ...] = (
    ReformTask.Assigned,
    ReformTask.Revised,  # a new lead unit or co-unit is an assignment to it
    *DECISION_EVENTS,
)
"""Read on every run; the unit steps the config tells the office of are read beside them."""
VIEW_NAME = "notices"


@dataclass
class NoticeReport:
    """What one run read and queued."""

    events: int = 0
    queued: list[str] = field(default_factory=list)  # message keys
    position: int = 0


@functools.lru_cache(maxsize=4)
def _view(datastore: object) -> ViewRecorder:
    """The step's tracking row beside the store's events (created on first use)."""
    return view_recorder(datastore, VIEW_NAME, schema=(), tables=())


@dataclass(frozen=True)
class _Pending:
    start: int | None  # the position last handled (None: the step never ran on this store)
    position: int  # the position handled once these events are
    read: int  # how many events were read
    events: list[Any]  # those to tell of


def _pending(services: Services, now: dt.datetime) -> _Pending:
    ledger = services.ledger
    start = _view(ledger.recorder.datastore).max_tracking_id(APP_NAME)  # type: ignore[attr-defined]
    end = ledger.recorder.max_notification_id() or 0
    kinds = (*NOTICE_EVENTS, *submission_events(services.config))
    found = list(ledger.events_of(*kinds, after=start or 0))
    events = [e for _, e in found if start is not None or e.at >= now - FIRST_RUN_HORIZON]
    return _Pending(start, max([end, *(p for p, _ in found)]), len(found), events)


def plan_notices(services: Services, now: dt.datetime) -> list[Notice]:
    """The messages the next run would queue (nothing is written): for previews."""
    return _plan(services, _pending(services, now).events)


def queue_notices(services: Services, now: dt.datetime) -> NoticeReport:
    """Queue the 交办 notices, decision messages and the office's news of unit steps of every
    event since the last run."""
    pending = _pending(services, now)
    report = NoticeReport(events=pending.read, position=pending.position)
    report.queued = _queue(services, _plan(services, pending.events), now)
    if pending.start is None or pending.position > pending.start:
        view = _view(services.ledger.recorder.datastore)  # type: ignore[attr-defined]
        try:
            view.insert_tracking(Tracking(APP_NAME, pending.position))
        except IntegrityError:
            log.info("notices_position_taken", position=pending.position)  # another was first
    if report.queued:
        log.info("notices_queued", messages=len(report.queued), position=report.position)
    return report


def queue_notices_now(services: Services) -> NoticeReport | None:
    """The step right after a command (import, decision) so its message is queued at once,
    on the services' clock. The command is already stored: a failure here must not turn it
    into an error for the person who gave it; it is logged and the next sweep queues it."""
    try:
        return queue_notices(services, services.ledger.clock())
    except (OperationalError, InterfaceError) as unavailable:
        # the store is away (a restart, a dropped connection): expected, no traceback
        log.warning("notices_deferred", reason="store_unavailable", error=str(unavailable))
        return None
    except Exception:
        log.warning("notices_deferred", exc_info=True)
        return None


def _plan(services: Services, events: Sequence[Any]) -> list[Notice]:
    config, calendar = services.config, services.calendar
    lookup = Lookup(services.ledger.repository.get)
    assignments: list[Assignment] = []
    decisions: list[Any] = []
    steps: list[Any] = []
    for event in events:
        if isinstance(event, ReformTask.Assigned):
            assignments.append(assignment_of(event))
        elif isinstance(event, ReformTask.Revised):
            found = reassignment_of(event, lookup.aggregate)
            assignments += [found] if found is not None else []
        elif type(event) in DECISION_EVENTS:
            decisions.append(event)
        else:
            steps.append(event)
    return [
        *assignment_notices(assignments, config, calendar),
        *decision_notices(decisions, lookup, config, calendar),
        *submission_notices(steps, _task_at(services), config, calendar),
    ]


def _task_at(services: Services) -> Callable[[UUID, int], Any]:
    """The task as it stood at a version: what a unit step's message tells of."""
    get = services.ledger.repository.get
    return lambda aggregate_id, version: get(aggregate_id, version=version)


def _queue(services: Services, notices: Sequence[Notice], now: dt.datetime) -> list[str]:
    """Queue every notice not queued before (all in one save when none was); their keys."""
    if not notices:
        return []
    directory = Directory(services.config)

    def messages() -> list[ChatMessage]:  # new aggregates each time: a failed save used them
        return [_message(n, directory.platform(n.channel), now) for n in notices]

    try:
        services.ledger.save(*messages())
        return [n.key for n in notices]
    except IntegrityError:
        pass  # some were queued by an earlier run (or another node): queue the others alone
    queued: list[str] = []
    for message in messages():
        try:
            services.ledger.save(message)
        except IntegrityError:
            log.info("notice_exists", key=message.message_key)
            continue
        queued.append(message.message_key)
    return queued


def _message(notice: Notice, platform: str, now: dt.datetime) -> ChatMessage:
    return ChatMessage(
        message_key=notice.key,
        channel=notice.channel,
        kind=notice.kind,
        title=notice.title,
        parts=list(split_for_platform(platform, notice.body, notice.title, notice.mention_mobiles)),
        mention_mobiles=list(notice.mention_mobiles),
        reminder_keys=[],
        task_codes=list(notice.task_codes),
        actor=ACTOR,
        at=now,
    )
