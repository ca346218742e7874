"""催办梯度: the reminder ladder, as pure rules over dates, a calendar and what already fired.

A task's deadline (and each of its milestones) is a *target*. Every rung of the ladder sits
a number of working days (``offset``) from the target's due date: negative before it,
positive after it, zero on it. ``calendar.add_working_days(due, offset)`` is the rung's
*fire date*; the rung is due from the start of working hours on that date.

Rules (PRODUCT.md rules 3 and 4):

* Each reminder is identified by a ``ReminderKey`` (task, target, due date, rung, seq). Its
  string form is stable and is what the scheduler hashes for idempotency; a granted
  extension changes ``due`` and so restarts the ladder against the new date.
* Reminders go out only inside working hours: outside them nothing is due.
* At most one reminder per target per sweep, and a fired key never fires again.
* Rungs up to the due date (预告, 提醒) are courtesy: the highest one whose date has come goes
  out, stale ones are skipped, and none once the first rung after the due date is due.
* Escalation is earned: a rung after the due date (催办 and above) goes out on or after its
  date, and only ``min_gap`` working days (default 1) after the rung fired before it was
  delivered to the lead unit's chat (``delivered``: key → date). A target never told
  starts at its first rung after the due date, so a task imported long overdue climbs
  催办 → 督办 → 通报 one working day at a time, each after the unit has heard the last.
* Repeats: past the top rung (通报), a deadline's top rung is sent again (seq 1, 2, …, shown
  as 再次通报) ``repeat_every`` working days after the previous one was delivered. A repeat
  only follows its rung, so the first message about a task is never 再次….
* Milestones (节点) get only the rungs with ``offset <= milestone_max_offset`` (default 1:
  notice, reminder, urge) and no repeats: once a milestone is missed, the deadline's own
  ladder carries the escalation. A milestone due on or after the current deadline is
  ignored, and a closed one is left out by the caller.
* 签收: an unclaimed task is laddered against its claim deadline (target ``claim``) with the
  ladder's ``claim_rungs`` (the day before and on the day to the lead unit, then the
  office), by the same rules, without repeats. Claiming ends it.
* A task whose completion awaits review ("submitted") is paused; a closed one (completed or
  cancelled) stops. Neither gets anything.

Modules: ``model`` (rungs, ladders and their validation, the default ladder, what a task is
laddered against), ``keys`` (the reminder keys) and ``rules`` (what is due when). Pure: imports
only ``domain.calendar`` and ``domain.rungs`` of ours; every name is re-exported here.
"""

from __future__ import annotations

from domain.ladder.keys import ReminderKey
from domain.ladder.model import (
    AUDIENCES,
    CLAIM,
    DEADLINE,
    DEFAULT_CLAIM_RUNGS,
    DEFAULT_LADDER,
    MILESTONE_PREFIX,
    Audience,
    Ladder,
    LadderError,
    LadderTarget,
    Rung,
    TaskLadderInput,
    TaskState,
    claim_deadline,
    ladder_targets,
)
from domain.ladder.rules import NO_DELIVERIES, DueReminder, due_reminders, next_fire_date

__all__ = [
    "AUDIENCES",
    "CLAIM",
    "DEADLINE",
    "DEFAULT_CLAIM_RUNGS",
    "DEFAULT_LADDER",
    "MILESTONE_PREFIX",
    "NO_DELIVERIES",
    "Audience",
    "DueReminder",
    "Ladder",
    "LadderError",
    "LadderTarget",
    "ReminderKey",
    "Rung",
    "TaskLadderInput",
    "TaskState",
    "claim_deadline",
    "due_reminders",
    "ladder_targets",
    "next_fire_date",
]
