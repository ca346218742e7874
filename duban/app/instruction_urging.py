"""批示催办: an unanswered 批示 past its answer date is urged like a deadline.

Each sweep (working time only) reads from the 批示 index only the unanswered instructions
whose answer date has passed, and for each whose urge is due (`domain.instruction.urge_seq`:
the first on any day after the date, then every `[ladder] repeat_every` working days after
the latest) queues one message to the task's lead-unit chat, its liaisons @-mentioned, and
one to the chat of the official who issued it where the config gives them one (one message
per chat, all of one urge in one transaction). The message key is the instruction, the urge's
number and (beside the lead unit's) the chat, so a sweep run twice, a second node or a
restart queues each urge once; the message names the task (`task_codes`) so the task's audit
trail shows it. Instructions on closed tasks are not urged.

`due_urges` is the rule (what is due now, nothing written); the sweep, its `--dry-run` and
the scheduler's preview all go through it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.instruction import urge_seq
from domain.reminder import ChatMessage
from domain.task import ReformTask, task_id
from duban.app.instructions import instruction_index
from duban.app.notice_parts import day_text, link_text, text
from duban.app.routing import Directory, Route, one_per_chat
from duban.app.services import Services
from notifiers.limits import split_for_platform
from projections.instructions import URGE_KIND, urge_key

__all__ = ["ACTOR", "URGE_KIND", "Urge", "due_urges", "urge", "urge_instructions"]

log = structlog.get_logger(__name__)

ACTOR = "system:duban"  # the sweep's actor (as `duban.app.sweep.ACTOR`)


@dataclass(frozen=True)
class Urge:
    """One urge of one instruction: its messages, one per chat told."""

    ref: str
    seq: int
    messages: tuple[ChatMessage, ...]


def due_urges(services: Services, now: dt.datetime) -> list[Urge]:
    """Every 批示 urge due at `now` (aware), with its messages, writing nothing."""
    calendar = services.calendar
    if not calendar.is_working_time(now):
        return []
    ledger = services.ledger
    today = now.astimezone(calendar.tz).date()
    repeat = services.config.ladder.repeat_every
    directory = Directory(services.config)
    found: list[Urge] = []
    for facts in instruction_index(ledger).past_due(today):
        urged = [(u["seq"], _day(u["at"], calendar.tz)) for u in facts["urges"]]
        answer_by = dt.date.fromisoformat(facts["answer_by"])
        seq = urge_seq(answer_by, urged, today, repeat, calendar.working_days_between)
        if seq is None:
            continue
        task = _open_task(ledger, facts["task_code"])
        if task is None:
            continue
        late = calendar.working_days_between(answer_by, today)
        link = link_text(services.config.web.public_url, task.code)
        messages = _messages(facts, task, seq, late, directory, now, link)
        found.append(Urge(facts["ref"], seq, messages))
    return found


def urge(services: Services, now: dt.datetime, dry_run: bool = False) -> list[Urge]:
    """Queue every 批示 urge due at `now`, once each (each urge's messages in one save); the
    urges queued (with `dry_run`, those that would be)."""
    due = due_urges(services, now)
    if dry_run:
        return due
    queued: list[Urge] = []
    for found in due:
        try:
            services.ledger.save(*found.messages)
        except IntegrityError:
            log.info("instruction_urge_exists", ref=found.ref, seq=found.seq)
            continue
        queued.append(found)
    if queued:
        log.info("instructions_urged", count=len(queued))
    return queued


def urge_instructions(services: Services, now: dt.datetime, dry_run: bool = False) -> int:
    """How many 批示 urges were (or, with `dry_run`, would be) queued at `now`."""
    return len(urge(services, now, dry_run))


def _day(at: str, tz: dt.tzinfo) -> dt.date:
    return dt.datetime.fromisoformat(at).astimezone(tz).date()


def _open_task(ledger: Any, code: str) -> ReformTask | None:
    try:
        task: ReformTask = ledger.repository.get(task_id(code))
    except AggregateNotFoundError:
        return None
    return None if task.is_closed else task


def _issuing_official(actor: str) -> str | None:
    role, _, name = actor.partition(":")
    return name if role == "official" and name else None


def _messages(
    facts: dict[str, Any],
    task: ReformTask,
    seq: int,
    late: int,
    directory: Directory,
    now: dt.datetime,
    link: str = "",
) -> tuple[ChatMessage, ...]:
    """The urge's message to the lead unit's chat (its liaisons @-mentioned) and to the
    issuing official's, one per chat."""
    lead = directory.unit_route(task.lead_unit, mention=True)
    official = directory.official_route(_issuing_official(facts["issued_by"]), mention=False)
    routes: list[Route] = [lead] if official is None else [lead, official]
    answer_by = dt.date.fromisoformat(facts["answer_by"])
    again = "再次催办" if seq else "催办"
    title = f"批示{again}｜{text(task.code)}"
    body = "\n\n".join(
        [
            f"任务 {text(task.code)}「{text(task.title)}」的领导批示（编号 {text(facts['ref'])}）"
            f"要求于**{day_text(answer_by)}**前报送落实情况，至今未答复，"
            f"已逾期 {late} 个工作日。",
            f"> {text(facts['text'])}",
            f"请{text(task.lead_unit)}抓紧落实并答复。",
            *([link] if link else []),
        ]
    )
    messages: list[ChatMessage] = []
    for route in one_per_chat(routes):
        # The lead unit's key is the one urges were first stored with; another chat's names it.
        beside = None if route.channel == lead.channel else route.channel
        messages.append(
            ChatMessage(
                message_key=urge_key(facts["id"], seq, beside),
                channel=route.channel,
                kind=URGE_KIND,
                title=title,
                parts=list(
                    split_for_platform(
                        directory.platform(route.channel), body, title, route.mobiles
                    )
                ),
                mention_mobiles=list(route.mobiles),
                reminder_keys=[],
                task_codes=[task.code],
                actor=ACTOR,
                at=now,
            )
        )
    return tuple(messages)
