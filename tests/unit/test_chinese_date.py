"""One function writes a day for a person to read (`domain.dates.chinese_date`); the chat
notices, the digests, the reports, the 公文 PDF and the vocabulary all write days with it."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.dates import RANGE_TEXT, chinese_date
from domain.vocabulary import date_text, moment_text
from duban.app import report_words
from duban.app.notice_parts import day_text

CST = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (dt.date(2024, 6, 30), "2024年6月30日"),
        (dt.datetime(2024, 6, 26, 23, 30, tzinfo=CST), "2024年6月26日"),  # its own zone's day
        ("2024-06-30", "2024年6月30日"),
        ("2024-06-26T10:00:00+08:00", "2024年6月26日"),
        ("2024-06-26 10:00", "2024年6月26日"),
        ("2024-05-10 40%", "2024年5月10日 40%"),  # a last report: the day written, the rest kept
        ("2024年底", "2024年底"),
        ("持续推进", "持续推进"),
        ("2024-13-45", "2024-13-45"),  # not a day: left as it is
        (None, ""),
        ("", ""),
    ],
)
def test_a_day_is_written_as_the_office_writes_it(
    value: dt.date | str | None, written: str
) -> None:
    assert chinese_date(value) == written


def test_nothing_is_written_as_the_callers_word_for_none() -> None:
    assert chinese_date(None, missing="无") == "无"
    assert chinese_date("", missing="持续推进") == "持续推进"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (dt.date(2026, 12, 2), "二〇二六年十二月二日"),
        (dt.date(2024, 10, 20), "二〇二四年十月二十日"),
        (dt.date(2030, 1, 31), "二〇三〇年一月三十一日"),
        (dt.datetime(2026, 11, 19, 9, tzinfo=CST), "二〇二六年十一月十九日"),
        ("2026-12-12", "二〇二六年十二月十二日"),
    ],
)
def test_a_document_is_dated_in_chinese_numerals(value: dt.date | str, written: str) -> None:
    assert chinese_date(value, numerals=True) == written


def test_the_date_range_is_written_with_it() -> None:
    assert RANGE_TEXT == "2000年1月1日至2099年12月31日"


def test_every_surface_writes_the_same_day() -> None:
    day = dt.date(2024, 7, 31)
    assert date_text(day) == day_text(day) == report_words.cn_date(day) == "2024年7月31日"
    assert date_text("2024-07-31T10:00:00+08:00") == "2024年7月31日"
    assert moment_text("2024-07-31T10:05:00+08:00") == "2024年7月31日 10:05"
    assert report_words.cn_date is chinese_date


def test_each_surface_keeps_its_word_for_no_day() -> None:
    assert date_text(None) == "无"
    assert date_text(7) == "7"
    assert day_text(None) == "持续推进"
    assert report_words.cn_date(None) == ""
