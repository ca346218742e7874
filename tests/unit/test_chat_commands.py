"""`domain.chat_commands`: what a liaison writes to the robot, read into a command."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.chat_commands import HELP_TEXT, VERBS, ChatCommand, Kind, parse_chat_command
from domain.chat_numbers import chinese_number, render_chinese_number
from tests.support.wording import Text, scan

TODAY = dt.date(2024, 6, 1)


def parse(text: str) -> ChatCommand:
    return parse_chat_command(text, today=TODAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("签收 2024-03", ChatCommand("claim", "2024-03")),
        ("签收2024-03", ChatCommand("claim", "2024-03")),
        ("2024-03 签收", ChatCommand("claim", "2024-03")),
        (" 签收 B-001", ChatCommand("claim", "B-001")),
        (
            "@督办 签收 2024-03 收到，马上落实",
            ChatCommand("claim", "2024-03", text="收到，马上落实"),
        ),
        (
            "@督办 2024-03 进展 60% 出让细则已起草",
            ChatCommand("report", "2024-03", percent=60, text="出让细则已起草"),
        ),
        ("2024-03 报送 60％ 文字", ChatCommand("report", "2024-03", percent=60, text="文字")),
        ("2024-03 进展：60% 文字", ChatCommand("report", "2024-03", percent=60, text="文字")),
        ("2024-03进展60%，已起草", ChatCommand("report", "2024-03", percent=60, text="已起草")),
        ("2024-03 进展 百分之六十 文字", ChatCommand("report", "2024-03", percent=60, text="文字")),
        (
            "2024-03 进展 百分之一百 已完成",
            ChatCommand("report", "2024-03", percent=100, text="已完成"),
        ),
        ("2024-03 进展 百分之五 起步", ChatCommand("report", "2024-03", percent=5, text="起步")),
        (
            "2024-03 进展 百分之二十五 过半",
            ChatCommand("report", "2024-03", percent=25, text="过半"),
        ),
        ("2024-03 进展 百分之60 文字", ChatCommand("report", "2024-03", percent=60, text="文字")),
        ("2024-03 进展 0%", ChatCommand("report", "2024-03", percent=0)),
        (
            "２０２４－０３\u3000进展\u3000６０％\u3000出让细则（草案）已起草",
            ChatCommand("report", "2024-03", percent=60, text="出让细则（草案）已起草"),
        ),
        (
            "@_user_1 2024-03 进展 60% 请@_user_2 审阅",
            ChatCommand("report", "2024-03", percent=60, text="请审阅"),
        ),
        (
            "2024-03 进展 60%\n第一项完成\n第二项起草",
            ChatCommand("report", "2024-03", percent=60, text="第一项完成\n第二项起草"),
        ),
        (
            "2024-03 节点完成 出台实施细则",
            ChatCommand("milestone", "2024-03", milestone="出台实施细则"),
        ),
        (
            "2024-03 延期 2025-03-31 土地报批未完成",
            ChatCommand("extend", "2024-03", deadline=dt.date(2025, 3, 31), text="土地报批未完成"),
        ),
        (
            "2024-03 延期 2025年3月31日因报批未完成",
            ChatCommand("extend", "2024-03", deadline=dt.date(2025, 3, 31), text="因报批未完成"),
        ),
        (
            "2024-03 延期 2025 年 3 月 31 日 原因",
            ChatCommand("extend", "2024-03", deadline=dt.date(2025, 3, 31), text="原因"),
        ),
        (
            "2024-03 延期 2025年三季度末 原因",
            ChatCommand("extend", "2024-03", deadline=dt.date(2025, 9, 30), text="原因"),
        ),
        (
            "2024-03 延期 9月底前 原因",  # no year: this year's
            ChatCommand("extend", "2024-03", deadline=dt.date(2024, 9, 30), text="原因"),
        ),
        (
            "2024-03 延期 2025-06-30 完成报批后实施",  # 完成 begins the reason
            ChatCommand("extend", "2024-03", deadline=dt.date(2025, 6, 30), text="完成报批后实施"),
        ),
        (
            "2024-03 延期 2025-1-1 2号文件未下达",  # a number after a space is not the day
            ChatCommand("extend", "2024-03", deadline=dt.date(2025, 1, 1), text="2号文件未下达"),
        ),
        ("2024-03 销号 已全部完成", ChatCommand("complete", "2024-03", text="已全部完成")),
        ("2024-03 销号", ChatCommand("complete", "2024-03")),
        ("我的任务", ChatCommand("mine")),
        ("@督办  待办", ChatCommand("mine")),
        ("待办。", ChatCommand("mine")),
        ("帮助", ChatCommand("help")),
        ("@督办", ChatCommand("help")),
        ("", ChatCommand("help")),
    ],
)
def test_each_form_is_read(text: str, expected: ChatCommand) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("你好", "未能识别指令「你好」"),
        ("2024-03 完成了", "未能识别指令「2024-03 完成了」"),
        ("签收", "缺少任务编号或编号有误，例如：签收 2024-03"),
        ("进展 60% 文字", "缺少任务编号或编号有误，例如：2024-03 进展 60% 方案已起草"),
        ("2024-03 进展 120%", "进度应为0到100之间的整数"),
        ("2024-03 进展 60.5%", "进度应为0到100之间的整数"),
        ("2024-03 进展 百分之一百二十", "进度应为0到100之间的整数"),
        (
            "2024-03 进展 已起草",
            "缺少进度，请在「进展」后写百分比，例如：2024-03 进展 60% 方案已起草",
        ),
        ("2024-03 节点完成", "缺少节点名称，例如：2024-03 节点完成 出台实施细则"),
        ("2024-03 延期", "缺少新的完成时限，例如：2024-03 延期 2025-03-31 原因"),
        (
            "2024-03 延期 下个月 原因",
            "无法识别的日期「下个月」，请写成 2025-03-31 或 2025年3月31日",
        ),
        ("2024-03 延期 2025-02-30 原因", "日期不存在「2025-02-30」"),
        ("2024-03 延期 持续推进", "延期须写明具体日期，例如：2024-03 延期 2025-03-31 原因"),
        ("2024-03 延期 3000-01-01", "日期超出允许范围（2000年1月1日至2099年12月31日）"),
    ],
)
def test_what_is_not_understood_gets_help_with_the_reason(text: str, problem: str) -> None:
    assert parse(text) == ChatCommand("help", problem=problem)


def test_the_help_and_every_problem_are_chinese_without_identifiers() -> None:
    problems = [parse(text).problem for text in ("你好", "签收", "2024-03 延期 明年")]
    texts = [Text("chat", "help", HELP_TEXT), *(Text("chat", "problem", p) for p in problems)]
    assert scan(texts) == []
    assert all(verb in HELP_TEXT for verb in VERBS)
    assert "我的任务" in HELP_TEXT
    assert "帮助" in HELP_TEXT
    assert len(HELP_TEXT.splitlines()) <= 9  # phone-short


@given(st.integers(min_value=0, max_value=100))
def test_chinese_numerals_0_to_100_read_back(value: int) -> None:
    assert chinese_number(render_chinese_number(value)) == value
    assert chinese_number(str(value)) == value


@pytest.mark.parametrize(
    ("written", "value"),
    [("零", 0), ("〇", 0), ("五", 5), ("十", 10), ("一十五", 15), ("两十", 20), ("百", 100)],
)
def test_other_ways_of_writing_a_numeral(written: str, value: int) -> None:
    assert chinese_number(written) == value


@pytest.mark.parametrize("written", ["", "百一", "十十", "一百零一", "二百", "101", "五五"])
def test_not_numbers_from_0_to_100(written: str) -> None:
    assert chinese_number(written) is None


# ---- round trip: a command written in any allowed way reads back as itself -----------------

_CODES = st.from_regex(r"\A(?:20[0-9]{2}-[0-9]{2}|[A-Z]-[0-9]{3}|[a-z][a-z0-9]{0,6})\Z")
_FREE = st.text(
    alphabet=st.sampled_from("改革细则方案已起草征求意见完成，。、（）《》ab12 "), max_size=20
).map(lambda text: " ".join(text.split()).strip("，。、 "))
_SPACE = st.sampled_from([" ", "  ", "\u3000", "\n", " \n "])
_MAYBE_SPACE = st.sampled_from(["", " ", "\u3000"])
_COLON = st.sampled_from(["", ":", "：", " ："])
_MENTION = st.sampled_from(["", " ", "@督办 ", "@_user_1 ", "@_user_1 @_user_2 ", "＠督办\u3000"])
_DATES = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))


def _wide(text: str) -> str:
    """ASCII letters, digits and - % : written full-width (what NFKC undoes)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def _written(draw: st.DrawFn, command: ChatCommand) -> str:
    """`command` as a liaison might type it: any spacing, full-width, @, verb order."""

    def ascii_part(text: str) -> str:
        return _wide(text) if draw(st.booleans()) else text

    verb = draw(st.sampled_from([v for v, kind in VERBS.items() if kind == command.kind]))
    assert command.code is not None
    code = ascii_part(command.code)
    head = (
        code + draw(_MAYBE_SPACE) + verb + draw(_COLON)
        if draw(st.booleans())
        else verb + draw(_COLON) + draw(_MAYBE_SPACE) + code
    )
    parts = [head]
    if command.kind == "report":
        assert command.percent is not None
        parts.append(
            draw(
                st.sampled_from(
                    [
                        ascii_part(f"{command.percent}%"),
                        f"{command.percent}％",
                        f"百分之{render_chinese_number(command.percent)}",
                        f"百分之{command.percent}",
                    ]
                )
            )
        )
    if command.kind == "extend":
        assert command.deadline is not None
        day = command.deadline
        forms = [
            day.isoformat(),
            f"{day.year}/{day.month}/{day.day}",
            f"{day.year}.{day.month:02}.{day.day:02}",
            f"{day.year}年{day.month}月{day.day}日",
            f"{day.year}年{day.month}月{day.day}号",
        ]
        if day.year == TODAY.year:
            forms.append(f"{day.month}月{day.day}日")
        parts.append(ascii_part(draw(st.sampled_from(forms))))
    free = command.milestone or command.text
    if free:
        parts.append(free)
    return draw(_MENTION) + draw(_SPACE).join(parts) + draw(st.sampled_from(["", " ", "\n"]))


@st.composite
def _commands(draw: st.DrawFn) -> ChatCommand:
    simple: list[Kind] = ["claim", "complete"]
    kind = draw(st.sampled_from(["report", "milestone", "extend", *simple]))
    code = draw(_CODES)
    free = draw(_FREE)
    if kind == "report":
        return ChatCommand("report", code, percent=draw(st.integers(0, 100)), text=free)
    if kind == "milestone":
        return ChatCommand("milestone", code, milestone=free or "出台实施细则")
    if kind == "extend":
        return ChatCommand("extend", code, deadline=draw(_DATES), text=free)
    return ChatCommand(draw(st.sampled_from(simple)), code, text=free)


@given(st.data())
def test_a_command_written_any_allowed_way_reads_back(data: st.DataObject) -> None:
    command = data.draw(_commands())
    text = data.draw(_written(command))
    assert parse(text) == command, text


@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(text: str) -> None:
    command = parse(text)
    assert command.kind in ("claim", "report", "milestone", "extend", "complete", "mine", "help")
    if command.kind == "help":
        assert command.code is None


@given(
    st.text(
        alphabet=st.sampled_from(
            "签收进展报送节点完成延期销号百分之六十2024-03%％:： @_user1\n年月日"
        ),
        max_size=60,
    )
)
def test_text_near_the_grammar_never_raises(text: str) -> None:
    command = parse(text)
    if command.kind == "report":
        assert command.percent is not None
        assert 0 <= command.percent <= 100
    if command.kind == "extend":
        assert command.deadline is not None


def test_free_text_is_kept_as_written_not_normalised() -> None:
    command = parse("2024-03 进展 60% 完成率６０％，下一步：征求意见")
    assert command.text == "完成率６０％，下一步：征求意见"
    assert unicodedata.normalize("NFKC", command.text) != command.text
