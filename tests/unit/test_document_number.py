"""The numbers of 督办单 and 通报 (PRODUCT.md rule 13): their shape, and one gapless sequence per
kind and year."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.document import AlreadyNumbered, DocumentSequence
from domain.document_number import (
    DocumentNumber,
    format_number,
    kind_of_rung,
    parse_number,
)
from duban.app.documents import document_reason
from duban.settings.config import ConfigError, parse_config

AT = dt.datetime(2026, 12, 2, 9, tzinfo=dt.UTC)

offices = st.text(
    alphabet=st.characters(
        whitelist_categories=("Lo", "Lu", "Ll", "Nd"), blacklist_characters="〔〕"
    ),
    min_size=1,
    max_size=8,
)
kinds = st.sampled_from(["supervise", "bulletin"])


def test_the_numbers_read_as_the_office_writes_them() -> None:
    assert format_number("县改办", "supervise", 2026, 12) == "县改办督〔2026〕12号"
    assert format_number("县改办", "bulletin", 2026, 3) == "县改办通〔2026〕3号"


@given(offices, kinds, st.integers(2000, 2100), st.integers(1, 100_000))
def test_a_number_reads_back_as_itself(office: str, kind: str, year: int, seq: int) -> None:
    text = format_number(office, kind, year, seq)  # type: ignore[arg-type]
    assert parse_number(text) == DocumentNumber(office, kind, year, seq)  # type: ignore[arg-type]
    assert str(parse_number(text)) == text


@pytest.mark.parametrize(
    "typed",
    [
        "县改办督[2026]12号",
        "县改办督（2026）12号",
        " 县改办督 〔2026〕 12号 ",
        "县改办督［2026］12号",
    ],
)
def test_brackets_may_be_typed_as_a_person_types_them(typed: str) -> None:
    assert str(parse_number(typed)) == "县改办督〔2026〕12号"


@pytest.mark.parametrize(
    "typed",
    ["", "县改办督〔2026〕0号", "县改办办〔2026〕1号", "督〔2026〕1号", "县改办督2026-1", "12"],
)
def test_what_is_not_a_number_is_refused(typed: str) -> None:
    assert parse_number(typed) is None


def test_only_supervise_and_bulletin_issue_documents() -> None:
    assert [kind_of_rung(r) for r in ("notice", "reminder", "urge", "supervise", "bulletin")] == [
        None,
        None,
        None,
        "supervise",
        "bulletin",
    ]
    with pytest.raises(ValueError, match="starts at 1"):
        format_number("县改办", "supervise", 2026, 0)


def _number(sequence: DocumentSequence, key: str) -> str:
    return sequence.number(
        office="县改办",
        reminder_key=key,
        task_code="2026-01",
        unit="县发展和改革局",
        title="改革任务",
        rung="supervise",
        target="deadline",
        due=dt.date(2026, 11, 18),
        reason="逾期",
        actor="system:duban",
        at=AT,
    )


@given(st.lists(st.text(min_size=1, max_size=5), unique=True, max_size=30), kinds)
def test_a_sequence_numbers_without_gaps_in_the_order_given(keys: list[str], kind: str) -> None:
    sequence = DocumentSequence(kind=kind, year=2026, actor="system:duban", at=AT)  # type: ignore[arg-type]
    numbers = [_number(sequence, k) for k in keys]
    assert [parse_number(n).seq for n in numbers] == list(range(1, len(keys) + 1))  # type: ignore[union-attr]
    # The number is the event's position in the aggregate (Opened is version 1).
    assert sequence.version == len(keys) + 1
    assert [sequence.document(i + 1)["reminder_key"] for i in range(len(keys))] == keys  # type: ignore[index]
    assert sequence.document(0) is None
    assert sequence.document(len(keys) + 1) is None


def test_one_reminder_is_numbered_once() -> None:
    sequence = DocumentSequence(kind="supervise", year=2026, actor="system:duban", at=AT)
    assert _number(sequence, "k") == "县改办督〔2026〕1号"
    with pytest.raises(AlreadyNumbered, match="县改办督〔2026〕1号"):
        _number(sequence, "k")
    assert sequence.count == 1


def test_each_kind_and_year_is_a_sequence_of_its_own() -> None:
    ids = {
        DocumentSequence.create_id(kind, year)
        for kind in ("supervise", "bulletin")
        for year in (2025, 2026)
    }
    assert len(ids) == 4


def test_the_reason_says_how_late_and_what_follows() -> None:
    supervise = document_reason("supervise", "deadline", dt.date(2026, 11, 18), 10)
    assert "2026年11月18日" in supervise
    assert "已逾期10个工作日" in supervise
    assert "现予督办" in supervise
    bulletin = document_reason("bulletin", "milestone:方案制定", dt.date(2026, 11, 18), 15)
    assert "阶段节点「方案制定」" in bulletin
    assert "现予通报" in bulletin
    again = document_reason("bulletin", "deadline", dt.date(2026, 11, 18), 13, repeat=1)
    assert "现第2次予以通报" in again


CHATS = {"channels": [{"name": n, "platform": "console"} for n in ("office", "leaders")]}


def test_the_office_short_name_comes_from_the_config() -> None:
    assert parse_config(CHATS).documents.office_short == "县改办"
    chosen = parse_config({**CHATS, "documents": {"office_short": "某县改办"}})
    assert chosen.documents.office_short == "某县改办"
    with pytest.raises(ConfigError, match=r"\[documents\] office_short"):
        parse_config({**CHATS, "documents": {"office_short": "县〔改〕办"}})
