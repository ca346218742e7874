"""The reminder ladder: fire dates on the working-day calendar, once-only, no stale bursts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

import chinese_calendar as cc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import WorkingCalendar
from domain.ladder import (
    DEFAULT_LADDER,
    DueReminder,
    Ladder,
    LadderError,
    LadderTarget,
    ReminderKey,
    Rung,
    TaskLadderInput,
    due_reminders,
    ladder_targets,
    next_fire_date,
)

TZ = ZoneInfo("Asia/Shanghai")
D = dt.date
ONE = dt.timedelta(days=1)
CAL = WorkingCalendar()
FAST = settings(max_examples=200, deadline=None)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def task(
    deadline: dt.date | None,
    milestones: tuple[tuple[str, dt.date], ...] = (),
    state: str = "open",
    code: str = "2024-07",
) -> TaskLadderInput:
    return TaskLadderInput(code, deadline, milestones, state)  # type: ignore[arg-type]


def sweep(
    subject: TaskLadderInput,
    moments: Iterable[dt.datetime],
    fired: set[str],
    ladder: Ladder = DEFAULT_LADDER,
) -> list[tuple[dt.datetime, DueReminder]]:
    """Run sweeps like the scheduler: every returned key is recorded as fired."""
    sent = []
    for moment in moments:
        for reminder in due_reminders(subject, ladder, CAL, moment, fired):
            key = reminder.key.as_str()
            assert key not in fired, f"{key} returned twice"
            fired.add(key)
            sent.append((moment, reminder))
    return sent


def daily(first: dt.date, last: dt.date, hour: int = 10) -> list[dt.datetime]:
    return [at(first + ONE * i, hour) for i in range((last - first).days + 1)]


def summary(sent: list[tuple[dt.datetime, DueReminder]]) -> list[tuple[str, int, dt.date]]:
    return [(r.rung.name, r.seq, r.fire_date) for _, r in sent]


# -- the default ladder on real dates ---------------------------------------------------------


def test_default_ladder_is_product_rule_3() -> None:
    rungs = {r.name: r for r in DEFAULT_LADDER.rungs}
    assert [r.name for r in DEFAULT_LADDER.rungs] == [
        "notice",
        "reminder",
        "urge",
        "supervise",
        "bulletin",
    ]
    assert [r.offset for r in DEFAULT_LADDER.rungs] == [-5, -1, 1, 5, 10]
    assert rungs["notice"].audience == {"lead_unit"}
    assert rungs["reminder"].audience == {"lead_unit"}
    assert rungs["reminder"].mention
    assert rungs["urge"].audience == {"lead_unit", "office"}
    assert rungs["supervise"].audience == {"lead_unit", "office", "official"}
    assert rungs["bulletin"].audience == {"office", "leaders"}
    assert [r.name for r in DEFAULT_LADDER.rungs if r.marks_assessment] == ["bulletin"]
    assert [r.label for r in DEFAULT_LADDER.rungs] == [
        "到期预告",
        "到期提醒",
        "催办",
        "督办",
        "通报",
    ]
    assert DEFAULT_LADDER.repeat_every == 3


def test_deadline_after_national_day_fires_each_rung_on_its_working_day() -> None:
    # Hand-checked on the 2024 calendar: 10-01..07 off, Sun 09-29 and Sat 10-12 worked.
    fired: set[str] = set()
    sent = sweep(task(D(2024, 10, 8)), daily(D(2024, 9, 15), D(2024, 10, 25)), fired)
    assert summary(sent) == [
        ("notice", 0, D(2024, 9, 25)),
        ("reminder", 0, D(2024, 9, 30)),
        ("urge", 0, D(2024, 10, 9)),
        ("urge", 1, D(2024, 10, 12)),
        ("supervise", 0, D(2024, 10, 14)),
        ("urge", 2, D(2024, 10, 16)),
        ("bulletin", 0, D(2024, 10, 21)),  # re-urge 3 falls on the same day: absorbed
        ("urge", 4, D(2024, 10, 24)),
    ]
    assert all(moment.date() == r.fire_date for moment, r in sent)
    assert sent[0][1].key.as_str() == "2024-07|deadline|2024-10-08|notice|0"
    assert sent[3][1].label == "再次催办"
    assert sent[4][1].label == "督办"


def test_deadline_on_a_sunday() -> None:
    fired: set[str] = set()
    sent = sweep(task(D(2024, 6, 30)), daily(D(2024, 6, 20), D(2024, 7, 2)), fired)
    assert summary(sent) == [
        ("notice", 0, D(2024, 6, 24)),
        ("reminder", 0, D(2024, 6, 28)),
        ("urge", 0, D(2024, 7, 1)),
    ]


def test_a_rung_is_due_from_the_start_of_working_hours() -> None:
    subject = task(D(2024, 10, 8))
    fired = {
        "2024-07|deadline|2024-10-08|notice|0",
        "2024-07|deadline|2024-10-08|reminder|0",
    }
    assert due_reminders(subject, DEFAULT_LADDER, CAL, at(D(2024, 10, 9), 8, 59), fired) == []
    [urge] = due_reminders(subject, DEFAULT_LADDER, CAL, at(D(2024, 10, 9), 9), fired)
    assert urge.rung.name == "urge"
    assert urge.rung.audience == {"lead_unit", "office"}


@pytest.mark.parametrize(
    "moment",
    [at(D(2024, 10, 15), 8, 59), at(D(2024, 10, 15), 18), at(D(2024, 10, 13), 10)],
    ids=["before-hours", "after-hours", "sunday"],
)
def test_nothing_is_sent_outside_working_hours(moment: dt.datetime) -> None:
    assert due_reminders(task(D(2024, 10, 8)), DEFAULT_LADDER, CAL, moment, set()) == []


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="时区"):
        due_reminders(task(D(2024, 10, 8)), DEFAULT_LADDER, CAL, dt.datetime(2024, 10, 15, 10), ())


# -- once only, no stale bursts, never down ---------------------------------------------------


def test_a_fired_key_is_never_returned_again() -> None:
    subject = task(D(2024, 10, 8))
    fired: set[str] = set()
    first = sweep(subject, [at(D(2024, 10, 9), 10)], fired)
    assert summary(first) == [("urge", 0, D(2024, 10, 9))]
    again = [at(D(2024, 10, 9), 10), at(D(2024, 10, 9), 15), at(D(2024, 10, 11), 10)]
    assert sweep(subject, again, fired) == []


def test_after_downtime_only_the_highest_due_rung_is_sent() -> None:
    subject = task(D(2024, 10, 8))
    fired: set[str] = set()
    # down from before the notice until 10-15: notice..supervise and re-urge 1 are all due
    [(_, only)] = sweep(subject, [at(D(2024, 10, 15), 11)], fired)
    assert (only.rung.name, only.seq, only.fire_date) == ("supervise", 0, D(2024, 10, 14))
    # the skipped ones stay skipped
    assert sweep(subject, daily(D(2024, 10, 15), D(2024, 10, 15), hour=16), fired) == []
    later = sweep(subject, [at(D(2024, 10, 16))], fired)
    assert summary(later) == [("urge", 2, D(2024, 10, 16))]


def test_never_steps_down_below_a_fired_rung() -> None:
    subject = task(D(2024, 10, 8))
    fired = {"2024-07|deadline|2024-10-08|bulletin|0"}
    assert due_reminders(subject, DEFAULT_LADDER, CAL, at(D(2024, 10, 15)), fired) == []
    assert due_reminders(subject, DEFAULT_LADDER, CAL, at(D(2024, 10, 21)), fired) == []
    [next_repeat] = due_reminders(subject, DEFAULT_LADDER, CAL, at(D(2024, 10, 24)), fired)
    assert (next_repeat.rung.name, next_repeat.seq) == ("urge", 4)


def test_a_node_with_a_late_clock_does_not_step_back() -> None:
    subject = task(D(2024, 10, 8))
    fired: set[str] = set()
    assert summary(sweep(subject, [at(D(2024, 10, 16))], fired)) == [("urge", 2, D(2024, 10, 16))]
    # a second node still on 10-14/10-15: supervise is due there but ranks below re-urge 2
    assert sweep(subject, [at(D(2024, 10, 14)), at(D(2024, 10, 15))], fired) == []
    assert summary(sweep(subject, [at(D(2024, 10, 21))], fired)) == [
        ("bulletin", 0, D(2024, 10, 21))
    ]


def test_fired_keys_of_other_tasks_and_dates_do_not_interfere() -> None:
    fired = {
        "2024-08|deadline|2024-10-08|urge|0",
        "2024-07|deadline|2024-09-30|urge|0",
        "2024-07|milestone:x|2024-10-08|urge|0",
        "not a key at all",
        "2024-07|deadline|2024-10-08|removed-rung|0",
    }
    [urge] = due_reminders(task(D(2024, 10, 8)), DEFAULT_LADDER, CAL, at(D(2024, 10, 9)), fired)
    assert urge.key == ReminderKey("2024-07", "deadline", D(2024, 10, 8), "urge", 0)


def test_extension_restarts_the_ladder_against_the_new_date() -> None:
    fired: set[str] = set()
    sweep(task(D(2024, 10, 8)), daily(D(2024, 9, 20), D(2024, 10, 22)), fired)
    extended = task(D(2024, 11, 15))
    sent = sweep(extended, daily(D(2024, 10, 23), D(2024, 11, 19)), fired)
    assert summary(sent) == [
        ("notice", 0, D(2024, 11, 8)),
        ("reminder", 0, D(2024, 11, 14)),
        ("urge", 0, D(2024, 11, 18)),
    ]
    assert all(r.key.due == D(2024, 11, 15) for _, r in sent)


def test_submitted_pauses_and_closed_stops() -> None:
    fired: set[str] = set()
    moment = at(D(2024, 10, 15))
    for state in ("submitted", "closed"):
        paused = task(D(2024, 10, 8), state=state)
        assert due_reminders(paused, DEFAULT_LADDER, CAL, moment, fired) == []
        assert next_fire_date(paused, DEFAULT_LADDER, CAL, fired) is None
    # completion returned to the unit: the ladder resumes at the highest due rung
    [resumed] = due_reminders(task(D(2024, 10, 8)), DEFAULT_LADDER, CAL, moment, fired)
    assert resumed.rung.name == "supervise"


def test_ongoing_tasks_have_no_ladder() -> None:
    subject = task(None)
    assert due_reminders(subject, DEFAULT_LADDER, CAL, at(D(2024, 10, 15)), set()) == []
    assert next_fire_date(subject, DEFAULT_LADDER, CAL, set()) is None


def test_unknown_state_is_rejected() -> None:
    with pytest.raises(ValueError, match="任务状态"):
        task(D(2024, 10, 8), state="paused")


# -- milestones -------------------------------------------------------------------------------


def test_milestones_get_the_early_rungs_only_and_late_ones_are_ignored() -> None:
    subject = task(
        D(2024, 12, 31),
        milestones=(
            ("方案印发", D(2024, 10, 8)),
            ("收尾", D(2024, 12, 31)),
            ("评估", D(2025, 1, 10)),
        ),
    )
    assert [t.target for t in ladder_targets(subject)] == ["deadline", "milestone:方案印发"]
    fired: set[str] = set()
    sent = sweep(subject, daily(D(2024, 9, 15), D(2024, 12, 24)), fired)
    assert [(r.target.target, r.rung.name, r.seq, r.fire_date) for _, r in sent] == [
        ("milestone:方案印发", "notice", 0, D(2024, 9, 25)),
        ("milestone:方案印发", "reminder", 0, D(2024, 9, 30)),
        ("milestone:方案印发", "urge", 0, D(2024, 10, 9)),
        ("deadline", "notice", 0, D(2024, 12, 24)),
    ]


def test_a_milestone_listed_twice_is_one_target() -> None:
    twice = (("节点", D(2024, 10, 8)), ("节点", D(2024, 10, 8)))
    subject = task(D(2024, 12, 31), milestones=twice)
    assert len(ladder_targets(subject)) == 2
    found = due_reminders(subject, DEFAULT_LADDER, CAL, at(D(2024, 10, 9)), set())
    assert [r.key.as_str() for r in found] == ["2024-07|milestone:节点|2024-10-08|urge|0"]


def test_one_reminder_per_target_most_urgent_first() -> None:
    subject = task(D(2024, 10, 15), milestones=(("节点", D(2024, 10, 8)),))
    found = due_reminders(subject, DEFAULT_LADDER, CAL, at(D(2024, 10, 9)), set())
    assert [(r.target.target, r.rung.name) for r in found] == [
        ("milestone:节点", "urge"),
        ("deadline", "notice"),
    ]


# -- keys -------------------------------------------------------------------------------------


def test_key_string_form_is_stable() -> None:
    key = ReminderKey("2024-07", "deadline", D(2024, 6, 30), "urge", 0)
    assert key.as_str() == "2024-07|deadline|2024-06-30|urge|0"
    assert ReminderKey.parse(key.as_str()) == key


@FAST
@given(
    st.text(max_size=8),
    st.text(max_size=8),
    st.dates(),
    st.text(max_size=8),
    st.integers(min_value=0, max_value=99),
    st.text(max_size=8),
    st.text(max_size=8),
)
def test_key_strings_are_injective(
    code: str, target: str, due: dt.date, rung: str, seq: int, code2: str, target2: str
) -> None:
    key = ReminderKey(code, target, due, rung, seq)
    assert ReminderKey.parse(key.as_str()) == key
    other = ReminderKey(code2, target2, due, rung, seq)
    assert (key.as_str() == other.as_str()) == (key == other)


def test_parse_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        ReminderKey.parse("2024-07|deadline|2024-06-30")


# -- next fire date ---------------------------------------------------------------------------


def test_next_fire_date_follows_the_ladder() -> None:
    subject = task(D(2024, 10, 8))
    fired: set[str] = set()
    assert next_fire_date(subject, DEFAULT_LADDER, CAL, fired) == D(2024, 9, 25)
    sweep(subject, [at(D(2024, 9, 25))], fired)
    assert next_fire_date(subject, DEFAULT_LADDER, CAL, fired) == D(2024, 9, 30)
    sweep(subject, [at(D(2024, 10, 9))], fired)
    assert next_fire_date(subject, DEFAULT_LADDER, CAL, fired) == D(2024, 10, 12)
    sweep(subject, [at(D(2024, 10, 21))], fired)  # bulletin
    assert next_fire_date(subject, DEFAULT_LADDER, CAL, fired) == D(2024, 10, 24)


def test_next_fire_date_is_none_when_the_ladder_is_exhausted() -> None:
    no_repeats = Ladder(DEFAULT_LADDER.rungs, repeat_every=0)
    subject = task(D(2024, 10, 8))
    fired = {"2024-07|deadline|2024-10-08|bulletin|0"}
    assert next_fire_date(subject, no_repeats, CAL, fired) is None
    assert next_fire_date(subject, DEFAULT_LADDER, CAL, fired) == D(2024, 10, 24)


# -- custom ladders and validation -------------------------------------------------------------


def rung(name: str, offset: int, severity: int, **extra: object) -> Rung:
    fields: dict[str, object] = {
        "audience": frozenset({"lead_unit"}),
        "mention": False,
        "marks_assessment": False,
        "label": "提醒",
    }
    fields.update(extra)
    return Rung(name=name, offset=offset, severity=severity, **fields)  # type: ignore[arg-type]


def test_rungs_are_sorted_by_offset() -> None:
    ladder = Ladder((rung("late", 2, 2), rung("early", -2, 1)), repeat_every=0)
    assert [r.name for r in ladder.rungs] == ["early", "late"]


def test_offset_zero_fires_on_the_due_date_or_the_next_working_day() -> None:
    ladder = Ladder((rung("due", 0, 1),), repeat_every=0)
    [on_time] = due_reminders(task(D(2024, 10, 8)), ladder, CAL, at(D(2024, 10, 8)), set())
    assert on_time.fire_date == D(2024, 10, 8)
    holiday = task(D(2024, 10, 3))
    assert due_reminders(holiday, ladder, CAL, at(D(2024, 9, 30)), set()) == []
    [deferred] = due_reminders(holiday, ladder, CAL, at(D(2024, 10, 8)), set())
    assert deferred.fire_date == D(2024, 10, 8)


@pytest.mark.parametrize(
    ("rungs", "kwargs", "culprit"),
    [
        ((rung("a", -1, 1), rung("b", 1, 2), rung("a", 3, 3)), {}, "a"),
        ((rung("a", -1, 1), rung("b", -1, 2)), {}, "b"),
        ((rung("a", -1, 2), rung("b", 1, 2)), {}, "b"),
        ((rung("a", -1, 3), rung("b", 1, 1)), {}, "b"),
        ((rung("urge", 1, 1),), {"repeat_every": -1}, "urge"),
        ((rung("a", 1, 1),), {"repeat_every": 3}, "urge"),
        ((rung("a", 1, 1),), {"repeat_every": 3, "repeat_rung": "again"}, "again"),
    ],
    ids=[
        "duplicate-name",
        "same-offset",
        "same-severity",
        "severity-down",
        "negative-repeat",
        "no-urge",
        "no-repeat-rung",
    ],
)
def test_invalid_ladders_name_the_rung(
    rungs: tuple[Rung, ...], kwargs: dict[str, object], culprit: str
) -> None:
    with pytest.raises(LadderError, match=f"「{culprit}」") as caught:
        Ladder(rungs, **kwargs)  # type: ignore[arg-type]
    assert caught.value.rung == culprit
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("extra", "name", "match"),
    [
        ({"audience": frozenset()}, "x", "接收对象"),
        ({"audience": frozenset({"everyone"})}, "x", "everyone"),
        ({"label": " "}, "x", "label"),
        ({}, "a|b", r"\|"),
        ({}, "", "名称"),
    ],
)
def test_invalid_rungs_name_themselves(extra: dict[str, object], name: str, match: str) -> None:
    with pytest.raises(LadderError, match=match) as caught:
        rung(name, 1, 1, **extra)
    assert caught.value.rung == name


# -- properties ---------------------------------------------------------------------------------

DEADLINES = st.dates(min_value=D(2004, 3, 1), max_value=D(2026, 9, 30))


def ref_add(day: dt.date, n: int) -> dt.date:
    """Independent day-by-day add_working_days over chinese_calendar (n == 0 rounds forward)."""
    if n == 0:
        while not cc.is_workday(day):
            day += ONE
        return day
    step = ONE if n > 0 else -ONE
    left = abs(n)
    while left:
        day += step
        if cc.is_workday(day):
            left -= 1
    return day


def expected_daily(due: dt.date, ladder: Ladder, last: dt.date) -> list[tuple[str, int, dt.date]]:
    """What daily sweeps must send up to ``last``: every rung, plus re-urges not on a rung's day."""
    rung_days = {r.name: ref_add(due, r.offset) for r in ladder.rungs}
    expected = [(name, 0, day) for name, day in rung_days.items() if day <= last]
    if ladder.repeat_every:
        urge_day = rung_days[ladder.repeat_rung]
        seq = 1
        while (day := ref_add(urge_day, seq * ladder.repeat_every)) <= last:
            if day not in rung_days.values():
                expected.append((ladder.repeat_rung, seq, day))
            seq += 1
    return sorted(expected, key=lambda item: (item[2], item[1]))


@FAST
@given(DEADLINES, st.sampled_from([0, 1, 2, 3, 5]))
def test_daily_sweeps_send_every_rung_on_its_day(due: dt.date, repeat_every: int) -> None:
    ladder = Ladder(DEFAULT_LADDER.rungs, repeat_every=repeat_every)
    subject = task(due)
    fired: set[str] = set()
    first, last = due - ONE * 20, due + ONE * 40
    sent: list[tuple[dt.datetime, DueReminder]] = []
    for moment in daily(first, last):
        predicted = next_fire_date(subject, ladder, CAL, fired)
        now_sent = sweep(subject, [moment], fired, ladder)
        if CAL.is_working_day(moment.date()):
            # the sweep sends something exactly on the predicted day
            assert bool(now_sent) == (predicted == moment.date())
        sent.extend(now_sent)
    assert summary(sent) == expected_daily(due, ladder, last)
    assert all(moment.date() == r.fire_date for moment, r in sent)


def position(reminder: DueReminder) -> tuple[dt.date, bool, int, int]:
    return (reminder.fire_date, not reminder.is_repeat, reminder.rung.severity, reminder.seq)


@FAST
@given(
    DEADLINES,
    st.lists(
        st.tuples(
            st.integers(min_value=-20, max_value=60),
            st.integers(min_value=0, max_value=23),
            st.integers(min_value=0, max_value=59),
        ),
        min_size=1,
        max_size=40,
    ),
    st.booleans(),
    st.lists(st.tuples(st.sampled_from(["甲", "乙"]), st.integers(-30, 10)), max_size=3),
)
def test_random_sweeps_never_duplicate_nor_step_down(
    due: dt.date,
    offsets: list[tuple[int, int, int]],
    in_order: bool,
    milestones: list[tuple[str, int]],
) -> None:
    subject = task(due, milestones=tuple((name, due + ONE * days) for name, days in milestones))
    moments = [at(due + ONE * d, h, m) for d, h, m in offsets]
    if in_order:
        moments.sort()
    fired: set[str] = set()
    sent = sweep(subject, moments, fired)  # asserts no key is returned twice
    last: dict[tuple[str, dt.date], DueReminder] = {}
    last_rung: dict[tuple[str, dt.date], int] = {}
    per_target: set[tuple[dt.datetime, LadderTarget]] = set()
    for moment, reminder in sent:
        assert CAL.is_working_time(moment)
        assert reminder.fire_date <= moment.date()
        assert reminder.key.due == reminder.target.due
        assert (moment, reminder.target) not in per_target
        per_target.add((moment, reminder.target))
        ident = (reminder.target.target, reminder.target.due)
        if ident in last:
            assert position(reminder) > position(last[ident])
        if not reminder.is_repeat:
            assert reminder.rung.severity > last_rung.get(ident, 0)
            last_rung[ident] = reminder.rung.severity
        last[ident] = reminder
        if reminder.target.is_milestone:
            assert reminder.rung.offset <= 1
            assert not reminder.is_repeat
            assert reminder.target.due < due


@FAST
@given(DEADLINES, st.integers(min_value=-10, max_value=40))
def test_after_downtime_the_single_reminder_is_the_latest_due(due: dt.date, days: int) -> None:
    moment = at(ref_add(due + ONE * days, 0), 11)
    found = due_reminders(task(due), DEFAULT_LADDER, CAL, moment, set())
    expected = expected_daily(due, DEFAULT_LADDER, moment.date())
    if not expected:
        assert found == []
        return
    [reminder] = found
    assert (reminder.rung.name, reminder.seq, reminder.fire_date) == expected[-1]


def test_target_kinds() -> None:
    assert LadderTarget("x", "milestone:a", D(2024, 1, 1)).is_milestone
    assert not LadderTarget("x", "deadline", D(2024, 1, 1)).is_milestone


class MembershipOnly(set[str]):
    """A fired set that refuses iteration: sweeps pass every key ever issued, so no scans."""

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("fired keys must only be probed by membership")


def test_fired_keys_are_only_probed_by_membership() -> None:
    fired = MembershipOnly({"2024-07|deadline|2024-10-08|supervise|0"})
    subject = task(D(2024, 10, 8), milestones=(("节点", D(2024, 9, 30)),))
    found = due_reminders(subject, DEFAULT_LADDER, CAL, at(D(2024, 10, 16)), fired)
    # same severity: the older (milestone) first
    assert [(r.target.target, r.rung.name, r.seq) for r in found] == [
        ("milestone:节点", "urge", 0),
        ("deadline", "urge", 2),
    ]
    assert next_fire_date(subject, DEFAULT_LADDER, CAL, fired) == D(2024, 9, 24)
