"""Splitting a digest at a platform's byte limit: parts fit, nothing is lost, no needless parts."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from notifiers import BudgetTooSmall, split_message, strip_numbering
from notifiers.split import numbering

# Lines of Chinese and ASCII, with some 4-byte characters and long lines mixed in.
_chars = st.sampled_from(list("改革任务督办提醒县发改局ab -*#[]\t😀𠀀é"))
_line = st.text(_chars, max_size=120)
_text = st.lists(_line, max_size=40).map("\n".join) | st.text(max_size=400)
_NUMBERED = re.compile(r"\A（(\d+)/(\d+)）\n")


def _bytes(text: str) -> int:
    """The test's own byte count (never the code's `utf8_len`): what the platform receives."""
    return len(text.encode("utf-8"))


def _lines(text: str) -> list[str]:
    return [line for line in re.split(r"(?<=\n)", text) if line]


@given(text=_text, max_bytes=st.integers(40, 600), header=st.integers(0, 10))
@example(text="长" * 200, max_bytes=40, header=0)
@example(text="a\n" * 500, max_bytes=40, header=0)  # 10+ parts: two-digit numbering
@example(text="a\n" * 3000, max_bytes=40, header=0)  # 100+ parts: three digits
def test_every_part_fits_the_budget(text: str, max_bytes: int, header: int) -> None:
    for part in split_message(text, max_bytes, header_budget=header):
        assert _bytes(part) <= max_bytes - header


@given(text=_text, max_bytes=st.integers(40, 600), header=st.integers(0, 10))
def test_joining_the_parts_without_numbering_gives_back_the_text(
    text: str, max_bytes: int, header: int
) -> None:
    parts = split_message(text, max_bytes, header_budget=header)
    assert "".join(strip_numbering(p) for p in parts) == text


@given(text=_text, max_bytes=st.integers(40, 600))
def test_parts_are_numbered_in_order_only_when_split(text: str, max_bytes: int) -> None:
    parts = split_message(text, max_bytes)
    if len(parts) == 1:
        assert parts == [text]
        return
    for index, part in enumerate(parts, start=1):
        match = _NUMBERED.match(part)
        assert match is not None
        assert (int(match[1]), int(match[2])) == (index, len(parts))


@given(text=_text, slack=st.integers(0, 50))
def test_text_that_fits_is_not_split(text: str, slack: int) -> None:
    size = _bytes(text)
    assert split_message(text, size + slack) == [text]


@given(text=_text, max_bytes=st.integers(40, 600))
def test_no_two_neighbouring_parts_could_have_been_one(text: str, max_bytes: int) -> None:
    """Greedy packing: the next part's first line did not fit in the previous part.

    For lines packed in order, that is what makes the number of parts the smallest possible.
    """
    parts = split_message(text, max_bytes)
    if len(parts) == 1:
        return
    capacity = max_bytes - _bytes(numbering(len(parts), len(parts)))
    bodies = [strip_numbering(p) for p in parts]
    for current, following in itertools.pairwise(bodies):
        first_line = _lines(following)[0]
        assert _bytes(current) + _bytes(first_line) > capacity


@given(text=_text, max_bytes=st.integers(40, 600))
def test_cuts_fall_between_lines_unless_a_line_alone_is_too_long(text: str, max_bytes: int) -> None:
    parts = split_message(text, max_bytes)
    if len(parts) == 1:
        return
    capacity = max_bytes - _bytes(numbering(len(parts), len(parts)))
    offset = 0
    for body in [strip_numbering(p) for p in parts][:-1]:
        offset += len(body)
        if not body.endswith("\n"):
            # Cut inside a line: that whole line must be longer than a part can hold.
            start = text.rfind("\n", 0, offset) + 1
            end = text.find("\n", offset)
            whole_line = text[start : len(text) if end == -1 else end + 1]
            assert _bytes(whole_line) > capacity


def test_a_long_chinese_line_is_cut_between_characters() -> None:
    parts = split_message("督" * 100, 40)
    for part in parts:
        part.encode("utf-8").decode("utf-8")  # would fail on half a character
        assert _bytes(part) <= 40
    assert "".join(strip_numbering(p) for p in parts) == "督" * 100


def test_numbering_counts_against_the_budget() -> None:
    text = "\n".join(f"第{i}行" for i in range(30))
    parts = split_message(text, 30)
    assert max(_bytes(p) for p in parts) <= 30
    assert parts[0].startswith(f"（1/{len(parts)}）\n")


def test_a_budget_too_small_for_numbering_is_an_error() -> None:
    with pytest.raises(BudgetTooSmall):
        split_message("督办" * 10, 12)


def test_empty_text_is_one_empty_part() -> None:
    assert split_message("", 10) == [""]
