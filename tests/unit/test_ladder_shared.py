"""What the ladder shares with the rest: the key prefix it probes fired keys with (prefix plus
seq must be the key's own `as_str()` for every name, or a fired rung would fire again), the rung
a configured rung counts as (the digest's group, the document it issues), and the 签收 deadline
(the 交办 notice states the date the claim rungs ladder against)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import WorkingCalendar
from domain.ladder import DEFAULT_LADDER, ReminderKey, Rung, claim_deadline
from domain.ladder.keys import key_prefix


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=8),
    st.text(max_size=8),
    st.dates(),
    st.text(max_size=8),
    st.integers(min_value=0, max_value=999),
)
def test_prefix_and_seq_spell_the_key(
    code: str, target: str, due: dt.date, rung: str, seq: int
) -> None:
    key = ReminderKey(code, target, due, rung, seq)
    assert key_prefix(code, target, due, rung) + str(seq) == key.as_str()


def test_prefix_escapes_the_separator_like_the_key() -> None:
    due = dt.date(2024, 10, 8)
    key = ReminderKey("A|1", "milestone:方案\\初审", due, "bulletin", 2)
    assert key_prefix("A|1", "milestone:方案\\初审", due, "bulletin") + "2" == key.as_str()
    assert key.as_str() == "A\\|1|milestone:方案\\\\初审|2024-10-08|bulletin|2"


def test_the_five_rungs_count_as_themselves() -> None:
    assert [r.counts_as for r in DEFAULT_LADDER.rungs] == [r.name for r in DEFAULT_LADDER.rungs]


@pytest.mark.parametrize(
    ("severity", "counts_as"),
    [(-3, "notice"), (0, "notice"), (1, "notice"), (3, "urge"), (4, "supervise"), (9, "bulletin")],
)
def test_a_configured_rung_counts_as_the_one_of_its_severity(severity: int, counts_as: str) -> None:
    rung = Rung("县长约谈", 20, frozenset({"office"}), True, True, severity, "约谈")
    assert rung.counts_as == counts_as


def test_the_claim_deadline_counts_working_days_from_the_local_date() -> None:
    calendar = WorkingCalendar()
    tz = calendar.tz
    # Wed 2026-12-02 20:30 UTC is Thu 12-03 04:30 in the office's zone: counted from Thursday
    late_utc = dt.datetime(2026, 12, 2, 20, 30, tzinfo=dt.UTC)
    assert late_utc.astimezone(tz).date() == dt.date(2026, 12, 3)
    assert claim_deadline(late_utc, calendar, 3) == dt.date(2026, 12, 8)
    assert claim_deadline(dt.datetime(2026, 12, 2, 10, tzinfo=tz), calendar, 3) == dt.date(
        2026, 12, 7
    )
