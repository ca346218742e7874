"""领导批示 and 追责问责: the pure rules (issue 12) — the urge schedule, numbers, kinds."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.accountability import (
    KIND_LABELS,
    AccountabilityError,
    AccountabilityMeasure,
    parse_kind,
)
from domain.instruction import (
    Instruction,
    InstructionAlreadyAnswered,
    InstructionRefInvalid,
    answered_in_time,
    instruction_id,
    instruction_ref,
    overdue,
    parse_ref,
    urge_seq,
)

AT = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))


def weekdays_between(a: dt.date, b: dt.date) -> int:
    """Mon-Fri in (a, b]: a stand-in calendar for the pure rule."""
    return sum(1 for n in range(1, (b - a).days + 1) if (a + dt.timedelta(n)).weekday() < 5)


def _schedule(answer_by: dt.date, start: dt.date, n_days: int, repeat: int) -> list[dt.date]:
    """Run the rule once a day (twice, as a second sweep would) and record the urges."""
    urged: list[tuple[int, dt.date]] = []
    for offset in range(n_days):
        today = start + dt.timedelta(offset)
        for _ in range(2):
            seq = urge_seq(answer_by, urged, today, repeat, weekdays_between)
            if seq is not None:
                assert seq == len(urged), "the next urge's number follows the last"
                urged.append((seq, today))
    return [day for _, day in urged]


@given(answer_by=days, repeat=st.integers(0, 10), lead=st.integers(-5, 30))
def test_urges_start_after_the_answer_date_and_repeat_at_the_interval(
    answer_by: dt.date, repeat: int, lead: int
) -> None:
    start = answer_by - dt.timedelta(lead)
    urges = _schedule(answer_by, start, 40, repeat)
    assert all(day > answer_by for day in urges)
    if start + dt.timedelta(39) > answer_by:
        assert urges, "an instruction past its date is urged"
        assert urges[0] == max(start, answer_by + dt.timedelta(1))
    for earlier, later in itertools.pairwise(urges):
        assert weekdays_between(earlier, later) >= repeat > 0
        # never later than needed: the day before the next urge was not yet due
        assert weekdays_between(earlier, later - dt.timedelta(1)) < repeat
    if repeat == 0:
        assert len(urges) <= 1


@given(answer_by=st.none() | days, today=days)
def test_nothing_is_urged_on_or_before_the_date_or_without_one(
    answer_by: dt.date | None, today: dt.date
) -> None:
    seq = urge_seq(answer_by, [], today, 3, weekdays_between)
    assert (seq == 0) == (answer_by is not None and today > answer_by)


@given(answer_by=st.none() | days, today=days, answered=st.booleans())
def test_overdue_means_past_the_date_and_unanswered(
    answer_by: dt.date | None, today: dt.date, answered: bool
) -> None:
    expected = answer_by is not None and not answered and today > answer_by
    assert overdue(answer_by, answered, today) is expected


@given(code=st.from_regex(r"[0-9A-Za-z\-_.]{1,40}", fullmatch=True), number=st.integers(1, 999_999))
def test_a_number_reads_back_as_written(code: str, number: int) -> None:
    assert parse_ref(instruction_ref(code, number)) == (code, number)


@pytest.mark.parametrize("text", ["2024-01", "2024-01/0", "2024-01/x", "/3", "2024-01/-1"])
def test_an_unreadable_number_is_refused_in_chinese(text: str) -> None:
    with pytest.raises(InstructionRefInvalid, match="批示编号"):
        parse_ref(text)


def test_answered_in_time_is_on_or_before_the_date() -> None:
    day = dt.date(2026, 12, 3)
    assert answered_in_time(day, dt.datetime(2026, 12, 3, 23, 0, tzinfo=dt.UTC))
    assert not answered_in_time(day, dt.datetime(2026, 12, 4, 0, 1, tzinfo=dt.UTC))
    assert not answered_in_time(day, None)
    assert answered_in_time(None, None)


def test_an_instruction_is_answered_once_and_replays_to_the_same_state() -> None:
    issued = Instruction(
        task_code="2024-01", unit="县发展和改革局", text="请加快", answer_by=None,
        actor="official:王建国", at=AT, number=2,
    )  # fmt: skip
    assert issued.id == instruction_id("2024-01", 2)
    assert issued.ref == "2024-01/2"
    issued.answer("已落实", "liaison:县发展和改革局/张伟", AT)
    with pytest.raises(InstructionAlreadyAnswered, match="已于2026年12月1日答复"):
        issued.answer("再答一次", "liaison:县发展和改革局/张伟", AT)
    events = issued.collect_events()
    assert [type(e) for e in events] == [Instruction.Issued, Instruction.Answered]
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed is not None
    assert (replayed.answered, replayed.answer_text) == (True, "已落实")


@pytest.mark.parametrize(("text", "code"), [*((v, k) for k, v in KIND_LABELS.items()),
                                            *((k, k) for k in KIND_LABELS)])  # fmt: skip
def test_a_kind_is_stored_as_its_code_given_its_code_or_chinese_name(text: str, code: str) -> None:
    assert parse_kind(f" {text} ") == code


def test_a_measure_needs_a_known_kind_a_reason_and_a_document_number() -> None:
    args = {"task_code": "2024-01", "unit": "县财政局", "actor": "office:改革办", "at": AT}
    with pytest.raises(AccountabilityError, match="无法识别"):
        AccountabilityMeasure.record(kind="批评", reason="r", document_no="d", **args)
    with pytest.raises(AccountabilityError, match="事由"):
        AccountabilityMeasure.record(kind="约谈", reason=" ", document_no="d", **args)
    with pytest.raises(AccountabilityError, match="文号"):
        AccountabilityMeasure.record(kind="约谈", reason="r", document_no="", **args)
    one = AccountabilityMeasure.record(
        kind="问责", reason="r", document_no=" 县改办〔2026〕1号", **args
    )
    again = AccountabilityMeasure.record(
        kind="accountability", reason="x", document_no="县改办〔2026〕1号", **args
    )
    assert (one.kind, one.kind_label, one.document_no) == (
        "accountability",
        "问责",
        "县改办〔2026〕1号",
    )
    assert one.id == again.id, "the same task, unit and document number is the same measure"
