"""The reminder ladder: fire dates on the working-day calendar, once-only, no stale bursts,
escalation earned one rung at a time (the properties of the fair ladder are in
test_ladder_fair.py)."""

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
    delivered: dict[str, dt.date] | None = None,
) -> list[tuple[dt.datetime, DueReminder]]:
    """Run sweeps like the scheduler: every returned key is recorded as fired and, as the
    deliver step does within minutes, delivered to the lead unit's chat the same day."""
    delivered = {} if delivered is None else delivered
    sent = []
    for moment in moments:
        for reminder in due_reminders(subject, ladder, CAL, moment, fired, delivered):
            key = reminder.key.as_str()
            assert key not in fired, f"{key} returned twice"
            fired.add(key)
            delivered[key] = moment.date()
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
    # co-units join from 催办 on; the 通报 reaches the lead unit too (rule 4 waits on it)
    assert rungs["urge"].audience == {"lead_unit", "co_units", "office"}
    assert rungs["supervise"].audience == {"lead_unit", "co_units", "office", "official"}
    assert rungs["bulletin"].audience == {"lead_unit", "co_units", "office", "leaders"}
    assert [r.name for r in DEFAULT_LADDER.rungs if r.marks_assessment] == ["bulletin"]
    assert [r.label for r in DEFAULT_LADDER.rungs] == [
        "到期预告",
        "到期提醒",
        "催办",
        "督办",
        "通报",
    ]
    assert DEFAULT_LADDER.repeat_every == 3
    assert DEFAULT_LADDER.min_gap == 1
    assert [(r.name, r.offset, r.label) for r in DEFAULT_LADDER.claim_rungs] == [
        ("claim_reminder", -1, "签收提醒"),
        ("claim_due", 0, "今日签收到期"),
        ("claim_overdue", 1, "逾期未签收"),
    ]
    assert DEFAULT_LADDER.rung("claim_overdue").audience == {"lead_unit", "office"}


def test_deadline_after_national_day_fires_each_rung_on_its_working_day() -> None:
    # Hand-checked on the 2024 calendar: 10-01..07 off, Sun 09-29 and Sat 10-12 worked.
    fired: set[str] = set()
    sent = sweep(task(D(2024, 10, 8)), daily(D(2024, 9, 15), D(2024, 10, 25)), fired)
    assert summary(sent) == [
        ("notice", 0, D(2024, 9, 25)),
        ("reminder", 0, D(2024, 9, 30)),
        ("urge", 0, D(2024, 10, 9)),
        ("supervise", 0, D(2024, 10, 14)),
        ("bulletin", 0, D(2024, 10, 21)),
        ("bulletin", 1, D(2024, 10, 24)),  # the top rung repeats 3 working days on
    ]
    assert all(moment.date() == r.fire_date for moment, r in sent)
    assert sent[0][1].key.as_str() == "2024-07|deadline|2024-10-08|notice|0"
    assert sent[3][1].label == "督办"
    assert sent[5][1].label == "再次通报"


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
    delivered = {"2024-07|deadline|2024-10-08|reminder|0": D(2024, 9, 30)}
    early = at(D(2024, 10, 9), 8, 59)
    assert due_reminders(subject, DEFAULT_LADDER, CAL, early, fired, delivered) == []
    [urge] = due_reminders(subject, DEFAULT_LADDER, CAL, at(D(2024, 10, 9), 9), fired, delivered)
    assert urge.rung.name == "urge"
    assert urge.rung.audience == {"lead_unit", "co_units", "office"}


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


def test_after_downtime_the_ladder_starts_at_its_first_late_rung_and_climbs() -> None:
    subject = task(D(2024, 10, 8))
    fired: set[str] = set()
    sent: dict[str, dt.date] = {}
    # down from before the notice until 10-15: notice..supervise are all past their dates;
    # the unit was never told, so 催办 goes first (预告 and 提醒 are stale: skipped for good)
    [(_, only)] = sweep(subject, [at(D(2024, 10, 15), 11)], fired, delivered=sent)
    assert (only.rung.name, only.seq, only.fire_date) == ("urge", 0, D(2024, 10, 9))
    same_day = daily(D(2024, 10, 15), D(2024, 10, 15), hour=16)
    assert sweep(subject, same_day, fired, delivered=sent) == []
    later = sweep(subject, daily(D(2024, 10, 16), D(2024, 10, 21)), fired, delivered=sent)
    assert summary(later) == [("supervise", 0, D(2024, 10, 16)), ("bulletin", 0, D(2024, 10, 21))]


def test_never_steps_down_below_a_fired_rung_and_repeats_wait_for_its_delivery() -> None:
    subject = task(D(2024, 10, 8))
    fired = {"2024-07|deadline|2024-10-08|bulletin|0"}
    for day in (D(2024, 10, 15), D(2024, 10, 21), D(2024, 10, 24), D(2024, 11, 29)):
        assert due_reminders(subject, DEFAULT_LADDER, CAL, at(day), fired) == []
    delivered = {"2024-07|deadline|2024-10-08|bulletin|0": D(2024, 10, 21)}
    assert due_reminders(subject, DEFAULT_LADDER, CAL, at(D(2024, 10, 23)), fired, delivered) == []
    [again] = due_reminders(subject, DEFAULT_LADDER, CAL, at(D(2024, 10, 24)), fired, delivered)
    assert (again.rung.name, again.seq, again.label) == ("bulletin", 1, "再次通报")


def test_a_node_with_a_late_clock_does_not_step_back() -> None:
    subject = task(D(2024, 10, 8))
    fired: set[str] = set()
    delivered: dict[str, dt.date] = {}
    first = sweep(subject, [at(D(2024, 10, 16))], fired, delivered=delivered)
    assert summary(first) == [("urge", 0, D(2024, 10, 9))]
    # a second node still on 10-14/10-15: supervise's date has come there, but the 催办 it
    # must follow reached the unit only on 10-16
    late = [at(D(2024, 10, 14)), at(D(2024, 10, 15))]
    assert sweep(subject, late, fired, delivered=delivered) == []
    assert summary(sweep(subject, [at(D(2024, 10, 21))], fired, delivered=delivered)) == [
        ("supervise", 0, D(2024, 10, 17))  # due from the working day after that delivery
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
    # completion returned to the unit, never told before: the ladder starts at 催办
    [resumed] = due_reminders(task(D(2024, 10, 8)), DEFAULT_LADDER, CAL, moment, fired)
    assert resumed.rung.name == "urge"


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
    sent: dict[str, dt.date] = {}

    def predicted() -> dt.date | None:
        return next_fire_date(subject, DEFAULT_LADDER, CAL, fired, sent)

    assert predicted() == D(2024, 9, 25)
    sweep(subject, [at(D(2024, 9, 25))], fired, delivered=sent)
    assert predicted() == D(2024, 9, 30)
    sweep(subject, [at(D(2024, 10, 9))], fired, delivered=sent)  # urge (提醒 skipped)
    assert predicted() == D(2024, 10, 14)  # supervise's own date
    sweep(subject, [at(D(2024, 10, 21))], fired, delivered=sent)  # supervise, late
    assert predicted() == D(2024, 10, 22)  # bulletin: one working day after it was delivered
    sweep(subject, [at(D(2024, 10, 22))], fired, delivered=sent)
    assert predicted() == D(2024, 10, 25)  # 再次通报: 3 working days after
    undelivered = {k: v for k, v in sent.items() if "bulletin" not in k}
    assert next_fire_date(subject, DEFAULT_LADDER, CAL, fired, undelivered) is None


def test_next_fire_date_is_none_when_the_ladder_is_exhausted() -> None:
    no_repeats = Ladder(DEFAULT_LADDER.rungs, repeat_every=0)
    subject = task(D(2024, 10, 8))
    fired = {"2024-07|deadline|2024-10-08|bulletin|0"}
    delivered = {"2024-07|deadline|2024-10-08|bulletin|0": D(2024, 10, 21)}
    assert next_fire_date(subject, no_repeats, CAL, fired, delivered) is None
    assert next_fire_date(subject, DEFAULT_LADDER, CAL, fired, delivered) == D(2024, 10, 24)


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
        ((rung("a", 1, 1),), {"claim_rungs": (rung("a", 0, 1),)}, "a"),
        ((rung("a", 1, 1),), {"repeat_every": 3, "repeat_rung": "again"}, "again"),
    ],
    ids=[
        "duplicate-name",
        "same-offset",
        "same-severity",
        "severity-down",
        "negative-repeat",
        "claim-clash",
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
    """What daily sweeps, each delivered the same day, must send up to ``last``: every rung
    on its day, then the top rung every ``repeat_every`` working days after it."""
    rung_days = {r.name: ref_add(due, r.offset) for r in ladder.rungs}
    expected = [(name, 0, day) for name, day in rung_days.items() if day <= last]
    if ladder.repeat_every:
        top = ladder.rungs[-1].name
        seq, day = 1, rung_days[top]
        while (day := ref_add(day, ladder.repeat_every)) <= last:
            expected.append((top, seq, day))
            seq += 1
    return sorted(expected, key=lambda item: (item[2], item[1]))


@FAST
@given(DEADLINES, st.sampled_from([0, 1, 2, 3, 5]))
def test_daily_sweeps_send_every_rung_on_its_day(due: dt.date, repeat_every: int) -> None:
    ladder = Ladder(DEFAULT_LADDER.rungs, repeat_every=repeat_every)
    subject = task(due)
    fired: set[str] = set()
    delivered: dict[str, dt.date] = {}
    first, last = due - ONE * 20, due + ONE * 40
    sent: list[tuple[dt.datetime, DueReminder]] = []
    for moment in daily(first, last):
        predicted = next_fire_date(subject, ladder, CAL, fired, delivered)
        now_sent = sweep(subject, [moment], fired, ladder, delivered)
        if CAL.is_working_day(moment.date()):
            # the sweep sends something exactly on the predicted day
            assert bool(now_sent) == (predicted == moment.date())
        sent.extend(now_sent)
    assert summary(sent) == expected_daily(due, ladder, last)
    assert all(moment.date() == r.fire_date for moment, r in sent)


def position(reminder: DueReminder) -> tuple[int, int]:
    return (reminder.rung.severity, reminder.seq)


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
        else:
            assert reminder.rung == DEFAULT_LADDER.rungs[-1]
            assert last[ident].rung == reminder.rung
        last[ident] = reminder
        if reminder.target.is_milestone:
            assert reminder.rung.offset <= 1
            assert not reminder.is_repeat
            assert reminder.target.due < due


@FAST
@given(DEADLINES, st.integers(min_value=-10, max_value=60))
def test_a_task_never_told_gets_the_mildest_applicable_rung(due: dt.date, days: int) -> None:
    """Before the deadline the latest courtesy rung whose day came; after it, 催办 however
    long overdue: never 督办 or 通报 first, never 再次…."""
    moment = at(ref_add(due + ONE * days, 0), 11)
    found = due_reminders(task(due), DEFAULT_LADDER, CAL, moment, set())
    came = [e for e in expected_daily(due, DEFAULT_LADDER, moment.date()) if e[1] == 0]
    if not came:
        assert found == []
        return
    [reminder] = found
    assert not reminder.is_repeat
    if any(name == "urge" for name, _, _ in came):
        assert reminder.rung.name == "urge"
    else:
        assert (reminder.rung.name, reminder.fire_date) == came[-1][::2]


def test_target_kinds() -> None:
    assert LadderTarget("x", "milestone:a", D(2024, 1, 1)).is_milestone
    assert not LadderTarget("x", "deadline", D(2024, 1, 1)).is_milestone


class MembershipOnly(set[str]):
    """A fired set that refuses iteration: sweeps pass every key ever issued, so no scans."""

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("fired keys must only be probed by membership")


def test_fired_keys_are_only_probed_by_membership() -> None:
    key = "2024-07|deadline|2024-10-08|bulletin|0"
    fired = MembershipOnly({key, "2024-07|deadline|2024-10-08|bulletin|1"})
    delivered = {key: D(2024, 10, 21), "2024-07|deadline|2024-10-08|bulletin|1": D(2024, 10, 24)}
    subject = task(D(2024, 10, 8), milestones=(("节点", D(2024, 9, 30)),))
    found = due_reminders(subject, DEFAULT_LADDER, CAL, at(D(2024, 10, 29)), fired, delivered)
    assert [(r.target.target, r.rung.name, r.seq) for r in found] == [
        ("deadline", "bulletin", 2),
        ("milestone:节点", "urge", 0),
    ]
    assert next_fire_date(subject, DEFAULT_LADDER, CAL, fired, delivered) == D(2024, 9, 24)
