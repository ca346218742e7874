"""批示催办: an unanswered 批示 past its answer date is urged like a deadline.

Each sweep (working time only) reads from the 批示 index only the unanswered instructions
whose answer date has passed, and for each whose urge is due (`domain.instruction.urge_seq`:
the first on any day after the date, then every `[ladder] repeat_every` working days after
the latest) queues one message to the task's lead-unit chat, its liaisons @-mentioned. The
message key is the instruction and the urge's number, so a sweep run twice, a second node or
a restart queues each urge once; the message names the task (`task_codes`) so the task's
audit trail shows it. Instructions on closed tasks are not urged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.instruction import urge_seq
from domain.reminder import ChatMessage
from domain.task import ReformTask, task_id
from duban.app.instructions import instruction_index
from duban.app.notice_parts import day_text, text
from duban.app.routing import Directory
from duban.app.services import Services
from notifiers.limits import split_for_platform
from projections.instructions import URGE_KIND, urge_key

__all__ = ["ACTOR", "urge_instructions"]

log = structlog.get_logger(__name__)

ACTOR = "system:duban"  # the sweep's actor (as `duban.app.sweep.ACTOR`)


def urge_instructions(services: Services, now: dt.datetime, dry_run: bool = False) -> int:
    """Queue every 批示 urge due at `now` (aware), once each; how many were (or, with
    `dry_run`, would be) queued."""
    calendar = services.calendar
    if not calendar.is_working_time(now):
        return 0
    ledger = services.ledger
    today = now.astimezone(calendar.tz).date()
    repeat = services.config.ladder.repeat_every
    directory = Directory(services.config)
    queued = 0
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
        message = _message(facts, task, seq, late, directory, now)
        if dry_run:
            queued += 1
            continue
        try:
            ledger.save(message)
        except IntegrityError:
            log.info("instruction_urge_exists", ref=facts["ref"], seq=seq)
            continue
        queued += 1
    if queued:
        log.info("instructions_urged", count=queued, dry_run=dry_run)
    return queued


def _day(at: str, tz: dt.tzinfo) -> dt.date:
    return dt.datetime.fromisoformat(at).astimezone(tz).date()


def _open_task(ledger: Any, code: str) -> ReformTask | None:
    try:
        task: ReformTask = ledger.repository.get(task_id(code))
    except AggregateNotFoundError:
        return None
    return None if task.is_closed else task


def _message(
    facts: dict[str, Any],
    task: ReformTask,
    seq: int,
    late: int,
    directory: Directory,
    now: dt.datetime,
) -> ChatMessage:
    route = directory.unit_route(task.lead_unit, mention=True)
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
        ]
    )
    mobiles = route.mobiles
    return ChatMessage(
        message_key=urge_key(facts["id"], seq),
        channel=route.channel,
        kind=URGE_KIND,
        title=title,
        parts=list(split_for_platform(directory.platform(route.channel), body, title, mobiles)),
        mention_mobiles=list(mobiles),
        reminder_keys=[],
        task_codes=[task.code],
        actor=ACTOR,
        at=now,
    )
