"""完成时限 as offices write them: every form by example, then properties over all dates."""

from __future__ import annotations

import calendar
import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.dates import EARLIEST, LATEST
from domain.deadlines import (
    DeadlineError,
    ParsedDeadline,
    normalise_name,
    parse_deadline,
    parse_milestones,
    split_units,
)

D = dt.date


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("2024-06-30", D(2024, 6, 30)),
        ("2024/6/30", D(2024, 6, 30)),
        ("2024.6.30", D(2024, 6, 30)),
        ("2024年6月30日", D(2024, 6, 30)),
        ("2024年6月30号", D(2024, 6, 30)),
        ("2024年6月底", D(2024, 6, 30)),
        ("2024年6月末", D(2024, 6, 30)),
        ("2024年6月", D(2024, 6, 30)),
        ("2024-06", D(2024, 6, 30)),
        ("2024年底", D(2024, 12, 31)),
        ("2024年底前", D(2024, 12, 31)),
        ("2024年年底前", D(2024, 12, 31)),
        ("2024年内", D(2024, 12, 31)),
        ("2024年上半年", D(2024, 6, 30)),
        ("2024年下半年", D(2024, 12, 31)),
        ("2024年三季度末", D(2024, 9, 30)),
        ("2024年第三季度", D(2024, 9, 30)),
        ("2024年第3季度", D(2024, 9, 30)),
        ("2024年一季度末", D(2024, 3, 31)),
        ("2024年第四季度", D(2024, 12, 31)),
        ("2024年Q3", D(2024, 9, 30)),
        ("2024Q2", D(2024, 6, 30)),
        ("2024年6月上旬", D(2024, 6, 10)),
        ("2024年6月中旬", D(2024, 6, 20)),
        ("2024年6月下旬", D(2024, 6, 30)),
        ("2024年2月下旬", D(2024, 2, 29)),
    ],
)
def test_each_written_form_gives_its_date(text: str, due: dt.date) -> None:
    assert parse_deadline(text) == ParsedDeadline(due=due, ongoing=False, text=text)


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("6月底前", D(2023, 6, 30)),
        ("6月30日", D(2023, 6, 30)),
        ("年底前", D(2023, 12, 31)),
        ("年底", D(2023, 12, 31)),
        ("三季度末", D(2023, 9, 30)),
        ("上半年", D(2023, 6, 30)),
        ("Q4", D(2023, 12, 31)),
        ("2月下旬", D(2023, 2, 28)),
    ],
)
def test_forms_without_a_year_take_the_default_year(text: str, due: dt.date) -> None:
    assert parse_deadline(text, default_year=2023).due == due


def test_a_written_year_wins_over_the_default() -> None:
    assert parse_deadline("2025年6月底", default_year=2024).due == D(2025, 6, 30)


@pytest.mark.parametrize("text", ["持续推进", "长期", "长期坚持", "常态化推进", " 持续推进 "])
def test_ongoing_forms_have_no_due_date(text: str) -> None:
    assert parse_deadline(text) == ParsedDeadline(due=None, ongoing=True, text=text.strip())


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("  2024年6月底前  ", D(2024, 6, 30)),
        ("2024 年 6 月 30 日", D(2024, 6, 30)),
        ("２０２４年６月３０日", D(2024, 6, 30)),
        ("２０２４－０６－３０", D(2024, 6, 30)),
        ("2024年\u30006月底", D(2024, 6, 30)),
        ("2024年6月底之前", D(2024, 6, 30)),
        ("2024年6月底前完成", D(2024, 6, 30)),
        ("2024年6月30日前", D(2024, 6, 30)),
        ("2024-06-30完成", D(2024, 6, 30)),
        ("2024年q3", D(2024, 9, 30)),
    ],
)
def test_spaces_full_width_digits_and_qian_zhiqian_wancheng_are_tolerated(
    text: str, due: dt.date
) -> None:
    parsed = parse_deadline(text)
    assert parsed.due == due
    assert parsed.text == text.strip()


@pytest.mark.parametrize(
    "text",
    [
        "下个月",
        "尽快",
        "2024年13月底",
        "2024年2月30日",
        "2023-02-29",
        "2024年第五季度",
        "2024年6月32日",
        "0000年1月1日",
        "前",
        "完成",
        "",
        "   ",
        "2024",
        "24年6月底",
        "x" * 200,
    ],
)
def test_anything_else_is_a_deadline_error_naming_the_text(text: str) -> None:
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(text, default_year=2024)
    assert text.strip()[:20] in str(caught.value)


def test_a_form_without_a_year_and_no_default_is_refused_in_chinese() -> None:
    with pytest.raises(DeadlineError, match="没有写年份") as caught:
        parse_deadline("6月底前")
    assert "no year" in caught.value.english  # the English name is kept for logs, not shown
    assert not re.search(r"[A-Za-z]{3,}", str(caught.value).split("请写成")[0])
    assert "6月底前" in str(caught.value)


def test_deadline_error_is_a_value_error() -> None:
    assert issubclass(DeadlineError, ValueError)


# ---- milestones ----------------------------------------------------------------------------


def test_milestones_are_read_in_order_with_their_names() -> None:
    text = "2024年3月底前完成方案制定；2024年9月底前完成试点"
    assert parse_milestones(text, 2024) == [
        ("完成方案制定", D(2024, 3, 31)),
        ("完成试点", D(2024, 9, 30)),
    ]


def test_milestones_may_be_separated_by_semicolons_or_lines_and_numbered() -> None:
    text = "1、2024年3月10日前，出台细则;\n②6月底前完成试点\n\n（3）2024年三季度末 全面推开；"
    assert parse_milestones(text, 2024) == [
        ("出台细则", D(2024, 3, 10)),
        ("完成试点", D(2024, 6, 30)),
        ("全面推开", D(2024, 9, 30)),
    ]


def test_the_longest_date_wins_so_a_day_is_not_cut_short() -> None:
    assert parse_milestones("2024年6月30日完成验收", None) == [("完成验收", D(2024, 6, 30))]
    assert parse_milestones("2024-06-30完成验收", None) == [("完成验收", D(2024, 6, 30))]


def test_an_empty_milestone_cell_has_no_milestones() -> None:
    assert parse_milestones("", 2024) == []
    assert parse_milestones(" ；\n ", 2024) == []


@pytest.mark.parametrize(
    ("text", "bad_item"),
    [
        ("2024年3月底前完成方案；方案评审", "方案评审"),
        ("2024年3月底前完成方案；持续推进试点", "持续推进试点"),
        ("2024年3月底前", "2024年3月底前"),
        ("2024年13月底前完成方案", "2024年13月底前完成方案"),
        ("2024-06-31完成验收", "2024-06-31完成验收"),
    ],
)
def test_a_bad_milestone_is_named(text: str, bad_item: str) -> None:
    with pytest.raises(DeadlineError) as caught:
        parse_milestones(text, 2024)
    assert bad_item in str(caught.value)


def test_a_milestone_without_a_year_needs_a_default_year() -> None:
    with pytest.raises(DeadlineError, match="没有写年份"):
        parse_milestones("6月底前完成试点", None)


# ---- units and names -----------------------------------------------------------------------


def test_units_split_on_every_separator_offices_use() -> None:
    text = " 县财政局、县税务局,县公安局，县司法局;县民政局；县教育局\n县水利局、、 "
    assert split_units(text) == [
        "县财政局",
        "县税务局",
        "县公安局",
        "县司法局",
        "县民政局",
        "县教育局",
        "县水利局",
    ]


def test_an_empty_units_cell_has_no_units() -> None:
    assert split_units("") == []
    assert split_units(" 、\u3000， ") == []


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("王  伟", "王伟"),
        ("\u3000县财政局 ", "县财政局"),
        ("县商务局（招商服务中心）", "县商务局(招商服务中心)"),
        ("County Finance Bureau", "County Finance Bureau"),
    ],
)
def test_names_are_made_comparable(written: str, name: str) -> None:
    assert normalise_name(written) == name


# ---- properties ----------------------------------------------------------------------------

# Within the product's range (domain.dates): outside it every form is refused (test_date_range).
dates = st.dates(min_value=EARLIEST, max_value=LATEST)
years = st.integers(EARLIEST.year, LATEST.year)
_FULL_WIDTH = str.maketrans("0123456789-/.Q", "０１２３４５６７８９－／．Ｑ")


@st.composite
def decorated(draw: st.DrawFn, text: str) -> str:
    """`text` as an office might type it: a 前/之前/完成 tail, stray spaces, full-width digits."""
    text += draw(st.sampled_from(["", "前", "之前", "完成", "前完成", "之前完成"]))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from([" ", "\u3000", "  "])) + text[at:]
    if draw(st.booleans()):
        text = text.translate(_FULL_WIDTH)
    return text


def _written_day(day: dt.date, form: int) -> str:
    return [
        f"{day.year:04d}-{day.month:02d}-{day.day:02d}",
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}年{day.month:02d}月{day.day:02d}日",
    ][form]


@given(day=dates, form=st.integers(0, 4), data=st.data())
def test_any_date_written_any_way_reads_back(day: dt.date, form: int, data: st.DataObject) -> None:
    text = data.draw(decorated(_written_day(day, form)))
    assert parse_deadline(text).due == day


@given(day=dates, data=st.data())
def test_a_date_without_its_year_reads_back_with_the_default_year(
    day: dt.date, data: st.DataObject
) -> None:
    text = data.draw(decorated(f"{day.month}月{day.day}日"))
    assert parse_deadline(text, default_year=day.year).due == day


def _last_day(year: int, month: int) -> dt.date:
    return D(year, month, calendar.monthrange(year, month)[1])


@given(
    year=years,
    month=st.integers(1, 12),
    form=st.sampled_from(["{y}年{m}月底", "{y}年{m}月末", "{y}年{m}月", "{y}年{m}月下旬"]),
    data=st.data(),
)
def test_month_end_forms_give_the_last_day_of_the_month(
    year: int, month: int, form: str, data: st.DataObject
) -> None:
    text = data.draw(decorated(form.format(y=year, m=month)))
    assert parse_deadline(text).due == _last_day(year, month)


@given(year=years, month=st.integers(1, 12))
def test_month_end_without_a_year_uses_the_default_year(year: int, month: int) -> None:
    assert parse_deadline(f"{month}月底前", default_year=year).due == _last_day(year, month)


@pytest.mark.parametrize(
    ("year", "last"), [(2024, 29), (2023, 28), (2000, 29), (2096, 29), (2099, 28)]
)
def test_february_ends_on_the_leap_day_in_leap_years(year: int, last: int) -> None:
    assert parse_deadline(f"{year}年2月底").due == D(year, 2, last)


@given(
    year=years,
    quarter=st.integers(1, 4),
    form=st.sampled_from(
        ["{y}年{cn}季度末", "{y}年第{cn}季度", "{y}年第{q}季度", "{y}年Q{q}", "{y}年{q}季度末"]
    ),
    data=st.data(),
)
def test_quarter_forms_give_the_quarters_last_day(
    year: int, quarter: int, form: str, data: st.DataObject
) -> None:
    written = form.format(y=year, q=quarter, cn="一二三四"[quarter - 1])
    text = data.draw(decorated(written))
    assert parse_deadline(text).due == _last_day(year, quarter * 3)


@given(year=years, data=st.data())
def test_half_year_and_year_end_forms(year: int, data: st.DataObject) -> None:
    written, due = data.draw(
        st.sampled_from(
            [
                (f"{year}年上半年", D(year, 6, 30)),
                (f"{year}年下半年", D(year, 12, 31)),
                (f"{year}年底", D(year, 12, 31)),
                (f"{year}年年底", D(year, 12, 31)),
            ]
        )
    )
    assert parse_deadline(data.draw(decorated(written))).due == due


unit_names = st.text(
    alphabet=st.characters(
        blacklist_categories=("Z", "C"),  # no spaces or controls at the ends of a name
        blacklist_characters="、,，;；",
    ),
    min_size=1,
    max_size=20,
)
separators = st.text(alphabet="、,，;；\n", min_size=1, max_size=2)
padding = st.sampled_from(["", " ", "\u3000", "  "])


@given(units=st.lists(unit_names, max_size=8), data=st.data())
def test_split_units_round_trips_a_joined_list(units: list[str], data: st.DataObject) -> None:
    text = ""
    for index, unit in enumerate(units):
        if index:
            text += data.draw(padding) + data.draw(separators) + data.draw(padding)
        text += unit
    assert split_units(text) == units


garbage = st.text() | st.text(
    alphabet="0123456789年月日底末前后之完成上中下旬半季度第一二三四Q-/. 　"
)


@given(text=garbage, year=st.none() | st.integers(-5, 10005))
def test_garbage_is_read_or_refused_with_a_deadline_error_never_anything_else(
    text: str, year: int | None
) -> None:
    try:
        parsed = parse_deadline(text, default_year=year)
    except DeadlineError:
        return
    assert parsed.ongoing == (parsed.due is None)


@given(text=garbage, year=st.none() | st.integers(-5, 10005))
def test_garbage_milestones_are_read_or_refused_with_a_deadline_error(
    text: str, year: int | None
) -> None:
    try:
        milestones = parse_milestones(text, year)
    except DeadlineError:
        return
    assert all(name for name, _ in milestones)
