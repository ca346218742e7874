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
* Candidates of one target are ordered by *position* = (fire date, rung before re-urge on
  the same date, severity, seq). A sweep returns, per target, only the highest-positioned
  due candidate, and only if nothing at that position or higher has already fired. So
  after downtime only the highest due rung goes out (stale ones are skipped for good),
  a rung never fires twice, and the ladder never steps back down.
* Re-urge: once the task is overdue, the ``repeat_rung`` ("urge") is re-sent every
  ``repeat_every`` working days after its own fire date, as seq 1, 2, ... They continue
  after supervise and bulletin (an overdue task keeps being urged) but never step back in
  time: a re-urge falling on the same date as a ladder rung is absorbed by the rung.
* Milestones (节点) get only the rungs with ``offset <= milestone_max_offset`` (default 1:
  notice, reminder, urge) and no re-urges: once a milestone is missed, the deadline's own
  ladder carries the escalation. A milestone due on or after the current deadline is
  ignored, because the deadline's ladder already covers that date.
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
    DEADLINE,
    DEFAULT_LADDER,
    MILESTONE_PREFIX,
    Audience,
    Ladder,
    LadderError,
    LadderTarget,
    Rung,
    TaskLadderInput,
    TaskState,
    ladder_targets,
)
from domain.ladder.rules import DueReminder, due_reminders, next_fire_date

__all__ = [
    "AUDIENCES",
    "DEADLINE",
    "DEFAULT_LADDER",
    "MILESTONE_PREFIX",
    "Audience",
    "DueReminder",
    "Ladder",
    "LadderError",
    "LadderTarget",
    "ReminderKey",
    "Rung",
    "TaskLadderInput",
    "TaskState",
    "due_reminders",
    "ladder_targets",
    "next_fire_date",
]
