"""Chinese numerals 0 … 100 as people write a percentage in a chat: 「百分之六十」.

Pure text rules for `domain.chat_commands`: `chinese_number("二十五") == 25`, `None` for anything
that is not a number from 0 to 100 written in the everyday forms (零, 〇, 五, 十, 十五, 一十五,
二十, 六十, 九十九, 一百, 百). Digits (「百分之60」) are read too.
"""

from __future__ import annotations

import re

__all__ = ["NUMERAL_CHARS", "chinese_number", "render_chinese_number"]

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
NUMERAL_CHARS = "".join(_DIGITS) + "十百"
_ONES = "一二三四五六七八九"
_TENS_FORM = re.compile(r"(?P<tens>[一二两三四五六七八九])?十(?P<ones>[一二三四五六七八九])?")


def chinese_number(text: str) -> int | None:
    """The integer 0 … 100 written in `text` (Chinese numerals or ASCII digits), else None."""
    if text.isascii() and text.isdigit():
        value = int(text)
        return value if 0 <= value <= 100 else None
    if text in ("一百", "百"):
        return 100
    if len(text) == 1 and text in _DIGITS:
        return _DIGITS[text]
    match = _TENS_FORM.fullmatch(text)
    if match is None:
        return None
    tens = _DIGITS[match["tens"]] if match["tens"] else 1
    ones = _DIGITS[match["ones"]] if match["ones"] else 0
    return tens * 10 + ones


def render_chinese_number(value: int) -> str:
    """0 … 100 as written in words: 零, 五, 十, 十五, 二十, 二十五, 一百 (the inverse above)."""
    if not 0 <= value <= 100:
        raise ValueError(value)
    if value == 100:
        return "一百"
    if value == 0:
        return "零"
    tens, ones = divmod(value, 10)
    if tens == 0:
        return _ONES[ones - 1]
    head = "" if tens == 1 else _ONES[tens - 1]
    return head + "十" + (_ONES[ones - 1] if ones else "")
