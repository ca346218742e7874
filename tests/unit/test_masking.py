"""Mobile numbers are masked however they are typed: `domain.masking.mask_mobiles`.

The oracle is the test's own: strip every separator a person may type between the digits,
read full-width digits as ASCII, and look for the eleven digits of the number.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from duban.app.masking import mask_mobiles

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
TO_ASCII = str.maketrans("０１２３４５６７８９", "0123456789")
SEPARATORS = [" ", "-", ".", "\u00a0", "\u3000", "－", "\u2014", "\u200b", "\ufeff"]
PREFIXES = ["", "+86", "+86 ", "+86-", "86", "0086 ", "＋８６ ", "+86\u3000"]


def visible_digits(text: str) -> str:
    """`text` as the oracle reads it: separators gone, full-width digits made ASCII."""
    for separator in SEPARATORS:
        text = text.replace(separator, "")
    return text.translate(TO_ASCII)


@st.composite
def typed_mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """(the digits, the number as someone typed it: prefix, groups, separators, widths)."""
    digits = draw(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
    cuts = draw(st.lists(st.integers(1, 10), max_size=4, unique=True).map(sorted))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, 11], strict=True)]
    typed = groups[0]
    for group in groups[1:]:
        typed += "".join(draw(st.lists(st.sampled_from(SEPARATORS), min_size=1, max_size=2)))
        typed += group
    wide = draw(st.lists(st.booleans(), min_size=len(typed), max_size=len(typed)))
    typed = "".join(
        ch.translate(FULL_WIDTH) if w else ch for ch, w in zip(typed, wide, strict=True)
    )
    return digits, draw(st.sampled_from(PREFIXES)) + typed


def _digit(ch: str) -> bool:
    return ch.translate(TO_ASCII).isdigit()


@given(
    mobile=typed_mobiles(),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
    edges=st.tuples(
        st.sampled_from(["", "：", "，", "电话", " (", "手机"]),
        st.sampled_from(["", "。", "）", "，请联系", " "]),
    ),
)
@example(mobile=("13812345678", "+8613812345678"), before="", after="", edges=("", ""))
@example(mobile=("13812345678", "+86 138 1234 5678"), before="", after="", edges=("", ""))
@example(mobile=("13812345678", "138-1234-5678"), before="", after="", edges=("", ""))
@example(mobile=("13812345678", "138 1234 5678"), before="", after="", edges=("", ""))
@example(mobile=("13812345678", "１３８１２３４５６７８"), before="", after="", edges=("", ""))
def test_no_mobile_number_survives_masking(
    mobile: tuple[str, str], before: str, after: str, edges: tuple[str, str]
) -> None:
    digits, typed = mobile
    left = before + edges[0]
    right = edges[1] + after
    # the number is a number of its own: no digit touches it (else it is a longer number)
    if left and _digit(left[-1]):
        left += "："
    if right and _digit(right[0]):
        right = "。" + right
    masked = mask_mobiles(left + typed + right)
    assert digits not in visible_digits(masked)
    assert f"{digits[:3]}****{digits[-4:]}" in masked  # still recognisable to whom it is shown
    assert mask_mobiles(masked) == masked


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("请联系13812345678", "请联系138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86 138-1234-5678", "+86 138****5678"),
        ("电话：138 1234 5678。", "电话：138****5678。"),
        ("１３８１２３４５６７８", "138****5678"),
        ("0086 19912345678", "0086 199****5678"),
    ],
)
def test_the_forms_people_type(text: str, shown: str) -> None:
    assert mask_mobiles(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "身份证号110101199003071234",  # a longer run of digits: not a mobile
        "12345678901",  # starts 12: no mainland mobile
        "2024-01 2024年12月31日前完成",
        "138****5678",
    ],
)
def test_what_is_not_a_mobile_number_is_left_alone(text: str) -> None:
    assert mask_mobiles(text) == text
