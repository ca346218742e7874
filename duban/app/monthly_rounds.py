"""月度报送: open a monthly report round, remind who has not reported, close it with the facts.

The round rule (its dates and what counts as on time, late, missing) is the one of
`domain.report_round`, shared with the reports:

* `open_round` asks every lead unit with open tasks for this month's progress: one message
  per unit chat listing its tasks. The round is dated the month's first working day and is
  due `report_round.due_working_days` working days after that (`round_due_date`), whatever
  day the call comes: the scheduler's run on 10-01 (a holiday) opens the October round dated
  10-08, due 10-14 with 5 days. Opening twice collides on the round's id and does nothing.
* `remind_missing` reminds, `report_round.remind_before` working days before the due date
  (inside working hours), the units that have not reported on every expected task: one
  digest per chat, recorded once as `Reminded`.
* `close_due_rounds` closes a round once its month is over (so reports between the due date
  and the end of the month can still count as late): per expected task, a progress report
  made in the month by the due date is on time, one later in the month is `ReportLate`,
  none is `ReportMissing` — unless the task was closed (completed or cancelled) meanwhile.

Every write is one `ledger.save`; a conflict with another node means it did the same work,
so the loser stops.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.calendar import WorkingCalendar
from domain.report_round import (
    ReportRound,
    report_timing,
    round_due_date,
    round_id,
    round_opening_date,
)
from domain.task import ReformTask, task_id
from domain.vocabulary import date_text
from duban.app.routing import Directory
from duban.app.services import Services
from duban.app.sweep import (
    ACTOR,
    PlannedMessage,
    chat_messages,
    ladder_from_config,
    open_index,
)
from notifiers.limits import split_for_platform
from notifiers.render import escape_markdown
from projections.due import DueTask

__all__ = ["RoundResult", "close_due_rounds", "open_round", "remind_missing"]

log = structlog.get_logger(__name__)

ROUND_KIND = "report_round"
_PROGRESS = (ReformTask.ProgressReported,)  # the events a round counts


@dataclass
class RoundResult:
    """What one call did to one round (plain data for the CLI and the logs)."""

    month: str
    action: str  # "opened" | "reminded" | "closed"
    messages: list[PlannedMessage] = field(default_factory=list)
    late: list[tuple[str, str]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)


def _local(now: dt.datetime, calendar: WorkingCalendar) -> dt.datetime:
    return now.astimezone(calendar.tz)


def _tasks(services: Services, calendar: WorkingCalendar) -> list[DueTask]:
    index = open_index(services, ladder_from_config(services.config), calendar)
    index.catch_up(services.ledger)
    return index.tasks()


def _owed(tasks: Sequence[DueTask]) -> dict[str, list[DueTask]]:
    """Lead unit → its tasks that owe a monthly report (open, not awaiting acceptance)."""
    owed: dict[str, list[DueTask]] = {}
    for task in tasks:
        if task.ladder_input.state == "open":
            owed.setdefault(task.lead_unit, []).append(task)
    return owed


# ---- messages --------------------------------------------------------------------------------


def _round_messages(
    directory: Directory,
    units: dict[str, list[DueTask]],
    heading: str,
    key: str,
    now: dt.datetime,
) -> list[PlannedMessage]:
    """One message per chat, listing per unit the tasks to report on."""
    per_chat: dict[str, list[str]] = {}
    for unit in sorted(units):
        per_chat.setdefault(directory.unit_route(unit, True).channel, []).append(unit)
    return [
        _chat(directory, channel, chat_units, units, heading, key, now)
        for channel, chat_units in sorted(per_chat.items())
    ]


def _chat(
    directory: Directory,
    channel: str,
    chat_units: list[str],
    units: dict[str, list[DueTask]],
    heading: str,
    key: str,
    now: dt.datetime,
) -> PlannedMessage:
    lines = [heading, ""]
    mobiles: list[str] = []
    codes: list[str] = []
    for unit in chat_units:
        route = directory.unit_route(unit, True)
        mobiles += route.mobiles
        names = " ".join(f"@{escape_markdown(n)}" for n in route.names)
        lines.append(f"#### {escape_markdown(unit)}（{len(units[unit])}项）{names}")
        for task in units[unit]:
            lines.append(f"- **{escape_markdown(task.code)}** {escape_markdown(task.title)}")
            codes.append(task.code)
        lines.append("")
    chat = escape_markdown(directory.chat_name(channel))
    title = f"月度进展报送｜{chat}｜{date_text(now)}"
    body = "\n".join(lines).strip()
    mentions = tuple(dict.fromkeys(mobiles))
    return PlannedMessage(
        message_key=f"{key}|{channel}",
        channel=channel,
        title=title,
        parts=split_for_platform(directory.platform(channel), body, title, mentions),
        mention_mobiles=mentions,
        reminder_keys=(),
        task_codes=tuple(codes),
    )


def _save(services: Services, *aggregates: Aggregate) -> bool:
    """Save all in one transaction; False when another node did it first."""
    try:
        services.ledger.save(*aggregates)
    except IntegrityError:
        log.info("report_round_conflict")
        return False
    return True


# ---- open ------------------------------------------------------------------------------------


def open_round(services: Services, month: str | None, now: dt.datetime) -> RoundResult | None:
    """Open the round of `month` (default: `now`'s month); None if it is open already."""
    calendar = services.calendar
    local = _local(now, calendar)
    month = month or f"{local:%Y-%m}"
    if _round(services, month) is not None:
        return None
    opened_on = round_opening_date(month, calendar)
    due = round_due_date(month, calendar, services.config.report_round.due_working_days)
    owed = _owed(_tasks(services, calendar))
    expected = {unit: [t.code for t in tasks] for unit, tasks in owed.items()}
    heading = (
        f"### {_month_text(month)}月度进展报送\n"
        f"请以下单位于 **{date_text(due)}** 前报送所列改革任务的本月进展"
        "（进展、完成百分比、佐证材料）。"
    )
    messages = _round_messages(
        Directory(services.config), owed, heading, f"round|{month}|open", local
    )
    round_ = ReportRound(
        month=month, due_date=due, expected=expected, actor=ACTOR, at=now, opened_on=opened_on
    )
    if not _save(services, round_, *chat_messages(messages, now, ROUND_KIND)):
        return None
    log.info(
        "report_round_opened",
        month=month,
        opened_on=opened_on.isoformat(),
        due=due.isoformat(),
        units=len(expected),
    )
    return RoundResult(month, "opened", messages)


# ---- reports per task ------------------------------------------------------------------------


def _report_days(services: Services, code: str, calendar: WorkingCalendar) -> list[dt.datetime]:
    """When progress on `code` was reported (office-local), in order."""
    events: list[Any] = list(services.ledger.events.get(task_id(code)))
    return [_local(e.at, calendar) for e in events if type(e) in _PROGRESS]


def _timings(reports: Sequence[dt.datetime], round_: ReportRound) -> list[tuple[str, dt.datetime]]:
    """The reports that count for the round, each "on_time" or "late" (`report_timing`)."""
    timed = [(report_timing(round_.month, round_.due_date, r.date()), r) for r in reports]
    return [(timing, r) for timing, r in timed if timing is not None]


def _on_time(reports: Sequence[dt.datetime], round_: ReportRound) -> bool:
    return any(timing == "on_time" for timing, _ in _timings(reports, round_))


# ---- remind ----------------------------------------------------------------------------------


def _open_rounds(services: Services) -> list[ReportRound]:
    """Rounds not closed yet (found through the Opened topic: a handful a year)."""
    months = [str(opened.month) for _, opened in services.ledger.events_of(ReportRound.Opened)]
    rounds = [_round(services, month) for month in months]
    return [r for r in rounds if r is not None and not r.closed]


def _round(services: Services, month: str) -> ReportRound | None:
    try:
        found: ReportRound = services.ledger.repository.get(round_id(month))
    except AggregateNotFoundError:
        return None
    return found


def _unreported(
    services: Services, round_: ReportRound, tasks: dict[str, DueTask], calendar: WorkingCalendar
) -> dict[str, list[DueTask]]:
    """Unit → its expected, still open tasks without an on-time report so far."""
    missing: dict[str, list[DueTask]] = {}
    for unit, codes in round_.expected.items():
        for code in codes:
            task = tasks.get(code)
            if task is None or task.ladder_input.state != "open":
                continue
            if not _on_time(_report_days(services, code, calendar), round_):
                missing.setdefault(unit, []).append(task)
    return missing


def remind_missing(services: Services, now: dt.datetime) -> list[RoundResult]:
    """On the remind day (working hours), one digest per chat of units yet to report."""
    calendar = services.calendar
    if not calendar.is_working_time(now):
        return []
    today = _local(now, calendar).date()
    before = services.config.report_round.remind_before
    results: list[RoundResult] = []
    for round_ in _open_rounds(services):
        remind_on = (
            calendar.add_working_days(round_.due_date, -before) if before else round_.due_date
        )
        if round_.reminded or not remind_on <= today <= round_.due_date:
            continue
        result = _remind(services, round_, calendar, now)
        if result is not None:
            results.append(result)
    return results


def _remind(
    services: Services, round_: ReportRound, calendar: WorkingCalendar, now: dt.datetime
) -> RoundResult | None:
    tasks = {t.code: t for t in _tasks(services, calendar)}
    units = _unreported(services, round_, tasks, calendar)
    heading = (
        f"### {_month_text(round_.month)}月度进展报送提醒\n以下任务尚未报送本月进展，"
        f"请于 **{date_text(round_.due_date)}** 前报送。"
    )
    key = f"round|{round_.month}|remind"
    messages = _round_messages(
        Directory(services.config), units, heading, key, _local(now, calendar)
    )
    round_.remind(sorted(units), ACTOR, now)
    if not _save(services, round_, *chat_messages(messages, now, ROUND_KIND)):
        return None
    return RoundResult(round_.month, "reminded", messages)


# ---- close -----------------------------------------------------------------------------------


def close_due_rounds(services: Services, now: dt.datetime) -> list[RoundResult]:
    """Close every round whose month is over, recording each late and missing report."""
    calendar = services.calendar
    month_now = f"{_local(now, calendar):%Y-%m}"
    results: list[RoundResult] = []
    for round_ in _open_rounds(services):
        if round_.month >= month_now:
            continue
        result = _close(services, round_, calendar, now)
        if result is not None:
            results.append(result)
    return results


def _close(
    services: Services, round_: ReportRound, calendar: WorkingCalendar, now: dt.datetime
) -> RoundResult | None:
    tasks = {t.code: t for t in _tasks(services, calendar)}
    result = RoundResult(round_.month, "closed")
    for unit, codes in round_.expected.items():
        for code in codes:
            _judge(services, round_, unit, code, tasks.get(code), calendar, now, result)
    round_.close(ACTOR, now)
    if not _save(services, round_):
        return None
    log.info(
        "report_round_closed",
        month=round_.month,
        late=len(result.late),
        missing=len(result.missing),
    )
    return result


def _judge(
    services: Services,
    round_: ReportRound,
    unit: str,
    code: str,
    task: DueTask | None,
    calendar: WorkingCalendar,
    now: dt.datetime,
    result: RoundResult,
) -> None:
    """On time, late or missing for one expected task (closed tasks owe nothing more)."""
    reports = [r for r in _report_days(services, code, calendar) if r <= now]
    if _on_time(reports, round_):
        return
    late = [r for timing, r in _timings(reports, round_) if timing == "late"]
    if late:
        round_.record_late(unit, code, late[0], ACTOR, now)
        result.late.append((unit, code))
    elif task is not None and task.ladder_input.state != "closed":
        round_.record_missing(unit, code, ACTOR, now)
        result.missing.append((unit, code))


def _month_text(month: str) -> str:
    """``2026-12`` as a person reads it: 「2026年12月」."""
    year, _, number = month.partition("-")
    return f"{year}年{int(number)}月" if number.isdigit() else month
