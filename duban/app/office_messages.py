"""Queueing a message once: what the scheduled jobs post (reports, chain heads, the calendar
watch) goes into the outbox under a key derived from its period, so a job run twice, a restart
or a second node queues it only once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import structlog
from eventsourcing.persistence import IntegrityError

from domain.reminder import ChatMessage
from duban.app.services import Services
from duban.app.sweep import ACTOR

__all__ = ["queue_once"]

log = structlog.get_logger(__name__)


def queue_once(
    services: Services,
    now: dt.datetime,
    *,
    key: str,
    channel: str,
    title: str,
    parts: Sequence[str],
    kind: str,
) -> bool:
    """Queue the message unless one with `key` is queued already; whether it was queued."""
    message = ChatMessage(
        message_key=key,
        channel=channel,
        kind=kind,
        title=title,
        parts=list(parts),
        mention_mobiles=[],
        reminder_keys=[],
        task_codes=[],
        actor=ACTOR,
        at=now,
    )
    try:
        services.ledger.save(message)
    except IntegrityError:
        log.info("job_message_exists", key=key)  # queued by an earlier run: once is enough
        return False
    return True
