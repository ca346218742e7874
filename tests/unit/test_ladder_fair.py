"""The fair ladder (PRODUCT.md rule 4) as properties: escalation is earned one rung at a
time, only after the rung below reached the lead unit's chat, at most one rung per target
per sweep, never 再次… first, and a sweep run twice issues nothing new. Plus 签收 rungs."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import WorkingCalendar
from domain.ladder import (
    CLAIM,
    DEFAULT_LADDER,
    DueReminder,
    Ladder,
    TaskLadderInput,
    due_reminders,
    next_fire_date,
)

TZ = ZoneInfo("Asia/Shanghai")
D = dt.date
CAL = WorkingCalendar()
FAST = settings(max_examples=150, deadline=None)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


def working_days(first: dt.date, count: int) -> list[dt.date]:
    day = CAL.add_working_days(first, 0)
    return [CAL.add_working_days(day, i) for i in range(count)]


def late_rungs(ladder: Ladder) -> list[str]:
    return [r.name for r in ladder.rungs if r.offset > 0]


# -- properties ---------------------------------------------------------------------------


@FAST
@given(
    st.dates(min_value=D(2024, 1, 10), max_value=D(2026, 6, 30)),
    st.integers(min_value=-8, max_value=300),
    st.lists(st.sampled_from([None, 0, 0, 0, 1, 2]), min_size=40, max_size=40),
    st.lists(st.integers(min_value=0, max_value=2), min_size=40, max_size=40),
    st.sampled_from([1, 1, 2, 3]),
)
def test_escalation_is_earned_one_rung_at_a_time(
    deadline: dt.date,
    first_offset: int,
    lags: list[int | None],
    skips: list[int],
    gap: int,
) -> None:
    """Sweeps on working days (some skipped: downtime) from `first_offset` working days after
    the deadline; each reminder is delivered after a random lag of working days, or never."""
    ladder = Ladder(DEFAULT_LADDER.rungs, repeat_every=3, min_gap=gap)
    subject = TaskLadderInput("T-1", deadline)
    day = CAL.add_working_days(CAL.add_working_days(deadline, 0), first_offset)
    fired: set[str] = set()
    arrives: dict[str, dt.date] = {}
    sent: list[tuple[dt.date, DueReminder]] = []
    for lag, skip in zip(lags, skips, strict=True):
        day = CAL.add_working_days(day, 1 + skip)
        seen = {k: d for k, d in arrives.items() if d <= day}  # what the store knows today
        now = at(day)
        found = due_reminders(subject, ladder, CAL, now, fired, seen)
        assert len(found) <= 1  # one target: at most one rung per sweep
        for reminder in found:
            key = reminder.key.as_str()
            assert key not in fired
            fired.add(key)
            if lag is not None:
                arrives[key] = CAL.add_working_days(day, lag)
            sent.append((day, reminder))
        # a sweep run twice at the same moment issues nothing new
        assert due_reminders(subject, ladder, CAL, now, fired, seen) == []
        # the index's prediction never lets a due reminder wait: nothing due before it
        predicted = next_fire_date(subject, ladder, CAL, fired, seen)
        if predicted is not None and predicted > day:
            tomorrow = CAL.add_working_days(day, 1)
            if tomorrow < predicted:
                assert due_reminders(subject, ladder, CAL, at(tomorrow), fired, seen) == []
    if sent:
        assert not sent[0][1].is_repeat  # the first message is never 再次…
    late = [r.rung.name for _, r in sent if r.rung.offset > 0 and not r.is_repeat]
    assert late == late_rungs(ladder)[: len(late)]  # never skips a rung after the deadline
    for (before_day, before), (day, reminder) in itertools.pairwise(sent):
        if reminder.rung.offset <= 0:
            continue
        arrived = arrives.get(before.key.as_str())
        assert arrived is not None
        assert arrived <= day
        needed = ladder.repeat_every if reminder.is_repeat else gap
        assert CAL.working_days_between(arrived, day) >= needed  # … and the gap
        assert before_day < day
        if reminder.is_repeat:
            assert before.rung == reminder.rung == ladder.rungs[-1]
            assert reminder.seq == before.seq + 1


@FAST
@given(st.integers(min_value=1, max_value=500))
def test_however_long_overdue_a_task_climbs_urge_supervise_bulletin(overdue: int) -> None:
    """A task never told, `overdue` working days past its deadline, with daily sweeps each
    delivered the same day: 催办, 督办, 通报 on three successive working days, then 再次通报
    every 3 working days."""
    start = D(2026, 11, 2)
    deadline = CAL.add_working_days(start, -overdue)
    subject = TaskLadderInput("T-2", deadline)
    fired: set[str] = set()
    delivered: dict[str, dt.date] = {}
    sent: list[tuple[dt.date, str]] = []
    for day in working_days(start, 12):
        for reminder in due_reminders(subject, DEFAULT_LADDER, CAL, at(day), fired, delivered):
            fired.add(reminder.key.as_str())
            delivered[reminder.key.as_str()] = day
            sent.append((day, reminder.label))
    days = working_days(start, 12)
    if overdue >= 10:
        assert sent[:4] == [
            (days[0], "催办"),
            (days[1], "督办"),
            (days[2], "通报"),
            (days[5], "再次通报"),
        ]
    else:
        assert sent[0] == (days[0], "催办")
        assert [label for _, label in sent][:3] == ["催办", "督办", "通报"]


def test_an_undelivered_rung_holds_the_ladder_until_it_arrives() -> None:
    deadline = D(2026, 10, 9)
    subject = TaskLadderInput("T-3", deadline)
    fired: set[str] = set()
    days = working_days(D(2026, 11, 2), 6)
    [urge] = due_reminders(subject, DEFAULT_LADDER, CAL, at(days[0]), fired)
    fired.add(urge.key.as_str())
    for day in days[1:4]:  # the platform keeps refusing: nothing climbs
        assert due_reminders(subject, DEFAULT_LADDER, CAL, at(day), fired) == []
    assert next_fire_date(subject, DEFAULT_LADDER, CAL, fired) is None
    delivered = {urge.key.as_str(): days[3]}
    assert due_reminders(subject, DEFAULT_LADDER, CAL, at(days[3]), fired, delivered) == []
    [supervise] = due_reminders(subject, DEFAULT_LADDER, CAL, at(days[4]), fired, delivered)
    assert supervise.rung.name == "supervise"


# -- 签收 -----------------------------------------------------------------------------------


def test_an_unclaimed_task_is_reminded_before_and_on_its_claim_deadline_then_the_office() -> None:
    claim_due = D(2026, 12, 4)  # a Friday
    unclaimed = TaskLadderInput("T-4", D(2027, 6, 30), claim_due=claim_due)
    fired: set[str] = set()
    delivered: dict[str, dt.date] = {}
    sent: list[tuple[dt.date, str, frozenset[str]]] = []
    for day in working_days(D(2026, 12, 1), 6):
        found = due_reminders(unclaimed, DEFAULT_LADDER, CAL, at(day), fired, delivered)
        for reminder in found:
            assert reminder.target.target == CLAIM
            fired.add(reminder.key.as_str())
            delivered[reminder.key.as_str()] = day
            sent.append((day, reminder.label, reminder.rung.audience))
    assert sent == [
        (D(2026, 12, 3), "签收提醒", frozenset({"lead_unit"})),
        (D(2026, 12, 4), "今日签收到期", frozenset({"lead_unit"})),
        (D(2026, 12, 7), "逾期未签收", frozenset({"lead_unit", "office"})),
    ]
    # claiming ends it: the task's ladder input has no claim deadline any more
    claimed = TaskLadderInput("T-4", D(2027, 6, 30))
    assert due_reminders(claimed, DEFAULT_LADDER, CAL, at(D(2026, 12, 3)), set()) == []


def test_claim_escalation_is_earned_too_and_does_not_repeat() -> None:
    unclaimed = TaskLadderInput("T-5", None, claim_due=D(2026, 11, 20))
    # imported long after: the office hears first only of the overdue claim, once
    fired: set[str] = set()
    [overdue] = due_reminders(unclaimed, DEFAULT_LADDER, CAL, at(D(2026, 12, 2)), fired)
    assert overdue.rung.name == "claim_overdue"
    fired.add(overdue.key.as_str())
    delivered = {overdue.key.as_str(): D(2026, 12, 2)}
    for day in working_days(D(2026, 12, 3), 10):
        assert due_reminders(unclaimed, DEFAULT_LADDER, CAL, at(day), fired, delivered) == []
    assert next_fire_date(unclaimed, DEFAULT_LADDER, CAL, fired, delivered) is None


def test_the_first_rung_after_the_deadline_follows_the_assignment_notice() -> None:
    """交办 is the message below 催办: while it waits nothing escalates; once it reached the
    unit, 催办 comes a working day later, not beside it."""
    deadline = D(2026, 11, 18)
    today, tomorrow = D(2026, 12, 2), D(2026, 12, 3)
    waiting = TaskLadderInput("T-6", deadline, told_pending=True)
    for day in (today, tomorrow, D(2026, 12, 10)):
        assert due_reminders(waiting, DEFAULT_LADDER, CAL, at(day), set()) == []
    told = TaskLadderInput("T-6", deadline, told_on=today)
    assert due_reminders(told, DEFAULT_LADDER, CAL, at(today), set()) == []
    predicted = next_fire_date(told, DEFAULT_LADDER, CAL, set())
    assert predicted is not None
    assert predicted <= tomorrow
    [urge] = due_reminders(told, DEFAULT_LADDER, CAL, at(tomorrow), set())
    assert urge.label == "催办"
    # courtesy rungs before the deadline do not wait for it
    early = TaskLadderInput("T-7", D(2026, 12, 3), told_pending=True)
    [reminder] = due_reminders(early, DEFAULT_LADDER, CAL, at(today), set())
    assert reminder.rung.name == "reminder"
