"""The State Council's holiday notice read from its text (acceptance item 4 of issue 13).

The fixtures in tests/data/notices/ are notice texts in the published forms, written from the
facts in ../shared/CALENDAR.md and chinesecalendar's data (星期X and 周X, full- and
half-width punctuation, lunar dates, ranges across months and years, 除夕 sentences). For
2020-2026 chinesecalendar is the oracle; generated notices check the reader as a property.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import chinese_calendar as cc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import WorkingCalendar
from domain.holiday_notice import NoticeDays, NoticeUnreadable, parse_notice

NOTICES = Path(__file__).parents[1] / "data" / "notices"
D = dt.date
ONE = dt.timedelta(days=1)
WEEKDAY = "一二三四五六日"
NUMERALS = "一二三四五六七八九十"


def effective(holidays: set[dt.date], workdays: set[dt.date]) -> tuple[set[D], set[D]]:
    """What a notice changes in the week: holidays on Monday-Friday and worked weekend days.

    chinesecalendar's holiday set also holds the ordinary weekend days next to a block (the
    2024 notice's 元旦 is 「1月1日放假，与周末连休」, chinesecalendar lists 2023-12-30..2024-01-01),
    so both sides are compared in this form.
    """
    return {d for d in holidays if d.weekday() < 5}, {d for d in workdays if d.weekday() >= 5}


def notice_year(day: dt.date, festival: str) -> int:
    """The notice a chinesecalendar day belongs to: a December 元旦 day is next year's."""
    return day.year + 1 if day.month == 12 and festival == "New Year's Day" else day.year


def oracle(year: int) -> tuple[set[dt.date], set[dt.date]]:
    holidays = {d for d, f in cc.holidays.items() if notice_year(d, f) == year}
    workdays = {d for d, f in cc.workdays.items() if notice_year(d, f) == year}
    return holidays, workdays


def read(year: int) -> NoticeDays:
    return parse_notice((NOTICES / f"{year}.txt").read_text(encoding="utf-8"))


# ---- the published notices against chinesecalendar ------------------------------------------


@pytest.mark.parametrize("year", range(2020, 2027))
def test_each_years_notice_parses_to_chinesecalendars_days(year: int) -> None:
    parsed = read(year)
    holidays, workdays = oracle(year)
    assert parsed.year == year
    assert effective(set(parsed.holidays), set(parsed.workdays)) == effective(holidays, workdays)
    assert parsed.holidays <= holidays  # nothing the oracle does not also call a holiday
    assert parsed.workdays == {d for d in workdays if d.weekday() >= 5}


@pytest.mark.parametrize("year", range(2020, 2027))
def test_a_calendar_from_the_notice_alone_agrees_with_chinesecalendar_every_day(year: int) -> None:
    notices = {y: read(y) for y in (year, year + 1) if y <= 2026}
    calendar = WorkingCalendar(notices=notices)
    day = D(year, 1, 1)
    while day.year == year:
        assert calendar.is_working_day(day) == cc.is_workday(day), day
        day += ONE


def test_the_forms_of_the_published_notices_are_all_read() -> None:
    texts = {y: (NOTICES / f"{y}.txt").read_text(encoding="utf-8") for y in range(2020, 2028)}
    assert "（星期三）" in texts[2020]
    assert "（周" not in texts[2020]
    assert ":" in texts[2021]
    assert "：" not in texts[2021]
    assert "农历腊月二十八" in texts[2026]
    assert "除夕（2月16日）" in texts[2026]
    assert "2022年12月31日" in texts[2023]  # a range across the years
    assert "与周末连休" in texts[2024]
    assert "国庆节、中秋节" in texts[2025]  # combined festivals
    assert D(2025, 2, 4) in read(2025).holidays  # 1月28日至2月4日: across months
    assert D(2026, 2, 16) in read(2026).holidays
    assert D(2024, 2, 9) not in read(2024).holidays


def test_the_2027_notice_has_a_worked_sunday_and_a_holiday_thursday() -> None:
    notice = read(2027)
    assert D(2027, 9, 26) in notice.workdays
    assert D(2027, 9, 26).weekday() == 6
    assert D(2027, 10, 7) in notice.holidays
    assert D(2027, 10, 7).weekday() == 3


# ---- generated notices: the property ----------------------------------------------------------


@dataclass(frozen=True)
class Style:
    week: str  # 周 or 星期
    half: bool  # half-width punctuation (a repost)
    weekdays: bool  # weekdays in parentheses
    lunar: bool  # a lunar note in the parentheses
    totals: bool  # 共N天 after ranges
    end_month: bool  # the end day of a range inside a month with its month


STYLES = st.builds(
    Style, st.sampled_from(["周", "星期"]), st.booleans(), st.booleans(), st.booleans(),
    st.booleans(), st.booleans(),
)  # fmt: skip
FESTIVALS = ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"]


@st.composite
def arrangements(draw: st.DrawFn) -> tuple[int, list[tuple[str, list[list[D]], list[D]]]]:
    """A year and its items: festival name(s), holiday runs (a second run is a 补休), and
    working days — all inside the year, none overlapping."""
    year = draw(st.integers(min_value=2027, max_value=2099))
    taken: set[D] = set()
    items = []
    for index in range(draw(st.integers(min_value=1, max_value=7))):
        runs: list[list[D]] = []
        for _ in range(draw(st.integers(min_value=1, max_value=2))):
            start = draw(st.dates(D(year, 1, 1), D(year, 12, 20)))
            run = [start + ONE * i for i in range(draw(st.integers(min_value=1, max_value=9)))]
            if taken & set(run) or any(d.year != year for d in run):
                continue
            taken |= set(run)
            runs.append(run)
        if not runs:
            continue
        weekend = [
            d
            for d in draw(st.lists(st.dates(D(year, 1, 1), D(year, 12, 31)), max_size=3))
            if d.weekday() >= 5 and d not in taken
        ]
        taken |= set(weekend)
        names = FESTIVALS[index % 7] + ("、" + FESTIVALS[(index + 1) % 7] if index == 5 else "")
        items.append((names, runs, sorted(set(weekend))))
    return year, items


def render(year: int, items: list[tuple[str, list[list[D]], list[D]]], style: Style) -> str:
    def day(d: D, month: bool = True) -> str:
        notes = ([f"农历初{WEEKDAY[d.day % 7]}"] if style.lunar else []) + (
            [f"{style.week}{WEEKDAY[d.weekday()]}"] if style.weekdays else []
        )
        return (f"{d.month}月" if month else "") + f"{d.day}日" + (
            f"（{'、'.join(notes)}）" if notes else ""
        )  # fmt: skip

    lines = [f"国务院办公厅关于{year}年部分节假日安排的通知", "各省、自治区、直辖市人民政府：",
             f"经国务院批准，现将{year}年节假日安排通知如下。"]  # fmt: skip
    for number, (names, runs, workdays) in zip(NUMERALS, items, strict=False):
        sentences = []
        first = runs[0]
        if len(first) == 1:
            sentences.append(f"{day(first[0])}放假")
        else:
            same = first[0].month == first[-1].month and not style.end_month
            total = f"，共{len(first)}天" if style.totals else ""
            sentences.append(f"{day(first[0])}至{day(first[-1], not same)}放假调休{total}")
        if len(runs) > 1:
            days = "、".join(day(d) for d in runs[1])
            sentences[-1] += f"，{days}补休"
        sentences[-1] += "。"
        if workdays:
            sentences.append("、".join(day(d) for d in workdays) + "上班。")
        sentences.append(f"鼓励各单位安排职工在{day(first[0])}前后休息。")
        lines.append(f"{number}、{names}：{''.join(sentences)}")
    lines += ["节假日期间，各地区、各部门要妥善安排好值班工作。", "国务院办公厅"]
    text = "\n".join(lines)
    if style.half:
        text = text.translate(str.maketrans("：，。、（）", ":,.,()"))
    return text


@settings(max_examples=150, deadline=None)
@given(arrangements(), STYLES)
def test_any_generated_notice_reads_back_exactly(
    arrangement: tuple[int, list[tuple[str, list[list[D]], list[D]]]], style: Style
) -> None:
    year, items = arrangement
    if not items:
        with pytest.raises(NoticeUnreadable):
            parse_notice(render(year, items, style))
        return
    parsed = parse_notice(render(year, items, style))
    assert parsed.year == year
    assert parsed.holidays == {d for _, runs, _ in items for run in runs for d in run}
    assert parsed.workdays == {d for _, _, workdays in items for d in workdays}


@settings(max_examples=60, deadline=None)
@given(arrangements(), STYLES.filter(lambda s: s.totals))
def test_a_wrong_total_is_refused_naming_its_line(
    arrangement: tuple[int, list[tuple[str, list[list[D]], list[D]]]], style: Style
) -> None:
    year, items = arrangement
    ranges = [i for i, (_, runs, _) in enumerate(items) if len(runs[0]) > 1]
    if not ranges:
        return
    lines = render(year, items, style).split("\n")
    target = 3 + ranges[0]  # the item's index in `lines`
    n = len(items[ranges[0]][1][0])
    lines[target] = lines[target].replace(f"共{n}天", f"共{n + 1}天", 1)
    with pytest.raises(NoticeUnreadable) as refused:
        parse_notice("\n".join(lines))
    assert refused.value.line_no == target + 1
    assert f"第{target + 1}行" in refused.value.message


# ---- malformed texts ----------------------------------------------------------------------------

TITLE = "国务院办公厅关于2027年部分节假日安排的通知"


@pytest.mark.parametrize(
    ("text", "line_no", "reason"),
    [
        ("关于放假的通知\n一、元旦：1月1日放假。", 1, "标题"),
        (f"{TITLE}\n\n一、元旦：1月1日（周五）至3日（周日）放假，共4天。", 3, "共4天"),
        (f"{TITLE}\n一、元旦：1月1日（周四）放假。", 2, "不是周四"),
        (f"{TITLE}\n一、元旦：1月1日放假。\n二、春节：2月30日放假。", 3, "日期不存在"),
        (f"{TITLE}\n一、元旦：1月1日。", 2, "没有可识别"),
        (f"{TITLE}\n一、元旦 1月1日放假。", 2, "节日名"),
        (f"{TITLE}\n一、元旦：1月3日至1日放假。", 2, "倒置"),
        (f"{TITLE}\n一、元旦：1月1日至3号放假。", 2, "未能识别"),
        (f"{TITLE}\n一、元旦：放假，具体日期另行通知。", 2, "没有日期"),
        (f"{TITLE}\n各部门：请做好值班。", 2, "编号"),
        (f"{TITLE}\n一、元旦：1月2日放假。1月2日上班。", 2, "既放假又上班"),
    ],
)
def test_malformed_texts_are_refused_with_the_line_named(
    text: str, line_no: int, reason: str
) -> None:
    with pytest.raises(NoticeUnreadable) as refused:
        parse_notice(text)
    assert refused.value.line_no == line_no
    assert refused.value.message.startswith(f"第{line_no}行")
    assert reason in refused.value.message


def test_sentences_without_holidays_and_closing_paragraphs_are_ignored() -> None:
    text = (
        f"{TITLE}\n经国务院批准，现将2027年元旦放假安排通知如下。\n"
        "一、元旦：1月1日放假，与周末连休。鼓励各单位安排职工在12月31日休息。\n"
        "节假日期间，各地区要在1月1日前安排好值班。\n国务院办公厅\n2026年11月10日"
    )
    assert parse_notice(text) == NoticeDays(2027, frozenset({D(2027, 1, 1)}), frozenset())


def test_half_width_and_full_width_read_the_same() -> None:
    full = f"{TITLE}\n一、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。4月25日（周日）上班。"
    half = full.translate(str.maketrans("：，。、（）", ":,.,()"))
    assert parse_notice(full) == parse_notice(half)
    assert parse_notice(half).workdays == {D(2027, 4, 25)}
