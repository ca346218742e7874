"""Commands a liaison writes to the robot in a group chat: 「@督办 2024-03 进展 60% 细则已起草」.

`parse_chat_command(text, today=...)` reads one message into a `ChatCommand`; it never raises:
what it cannot read becomes kind "help" with `problem` saying why, in Chinese, so the answer is
the problem and `HELP_TEXT`. Pure: no I/O, no clock (`today` completes dates written without a
year, 「6月底」 → this year's 6月30日).

Forms (the code is the task's 编号: ASCII letters, digits and hyphens, kept as written)::

    签收 2024-03                      2024-03 签收          claim (any text after it is a note)
    2024-03 进展 60% 文字…            also 报送; 60％, 百分之六十, 百分之一百, 百分之5
    2024-03 节点完成 出台实施细则       milestone: its name as written
    2024-03 延期 2025-03-31 原因…      every deadline form the importer reads (domain.deadlines)
    2024-03 销号 说明…                 complete
    我的任务 / 待办                    mine
    帮助 (or an empty message)         help

Forgiving of: a leading @名字 and Feishu's ``@_user_N`` placeholders (dropped wherever they
are), full-width characters (the command part is NFKC-normalised; free text is kept exactly as
written), runs of spaces and new lines, a colon after the verb or the code (「进展：60%」), no
space between the code and the verb (「签收2024-03」), and the verb before or after the code.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from domain.chat_numbers import NUMERAL_CHARS, chinese_number
from domain.deadlines import DeadlineError, parse_deadline

__all__ = ["HELP_TEXT", "VERBS", "ChatCommand", "Kind", "parse_chat_command"]

Kind = Literal["claim", "report", "milestone", "extend", "complete", "mine", "help"]


@dataclass(frozen=True)
class ChatCommand:
    """One understood message; `problem` is non-empty only for help given because the text was
    not understood (the reason, in Chinese)."""

    kind: Kind
    code: str | None = None
    percent: int | None = None
    text: str = ""
    milestone: str = ""
    deadline: dt.date | None = None
    problem: str = ""


HELP_TEXT = (
    "可用指令（@我 后输入，编号见提醒消息）：\n"
    "签收：签收 2024-03\n"
    "报送进展：2024-03 进展 60% 方案已起草\n"
    "节点完成：2024-03 节点完成 出台实施细则\n"
    "申请延期：2024-03 延期 2025-03-31 原因\n"
    "申请销号：2024-03 销号 完成情况说明\n"
    "查看待办：我的任务（或：待办）\n"
    "查看帮助：帮助"
)

# The written verbs and their kinds; 报送 is a synonym of 进展.
VERBS: dict[str, Kind] = {
    "节点完成": "milestone",
    "签收": "claim",
    "进展": "report",
    "报送": "report",
    "延期": "extend",
    "销号": "complete",
}
_EXAMPLES: dict[Kind, str] = {
    "claim": "签收 2024-03",
    "report": "2024-03 进展 60% 方案已起草",
    "milestone": "2024-03 节点完成 出台实施细则",
    "extend": "2024-03 延期 2025-03-31 原因",
    "complete": "2024-03 销号 完成情况说明",
}
_MINE = frozenset({"我的任务", "待办", "我的待办", "待办任务", "待办事项"})
_HELP = frozenset({"", "帮助", "使用帮助", "菜单", "指令"})

_PLACEHOLDER = re.compile(r"@_(?:user_\d+|all)\s*")
_LEADING_MENTIONS = re.compile(r"\A\s*(?:[@＠][^\s@＠]*\s*)*")
_VERB = "(?P<verb>" + "|".join(sorted(VERBS, key=len, reverse=True)) + ")"
_CODE = r"(?P<code>[A-Za-z0-9][A-Za-z0-9-]*)"
_SEP = r"[\s:]*"
# After a code that a verb precedes comes a space, a colon, the end or a Chinese character:
# 「进展 60% …」 has no code "60".
_CODE_END = r"(?![A-Za-z0-9-])(?=[\s:]|\Z|[^\x00-\x7f])"
_CODE_FIRST = re.compile(rf"\s*{_CODE}{_SEP}{_VERB}{_SEP}")
_VERB_FIRST = re.compile(rf"\s*{_VERB}{_SEP}{_CODE}{_CODE_END}{_SEP}")
_ANY_VERB = re.compile(_VERB)
_PERCENT = re.compile(
    rf"\s*(?:(?P<digits>[0-9]+(?:\.[0-9]*)?)\s*%"
    rf"|百分之\s*(?P<words>[0-9]+(?:\.[0-9]*)?|[{NUMERAL_CHARS}]+))"
)
_FIRST_TOKEN = re.compile(r"\s*(\S+)")
_ASCII_DIGITS = "0123456789"
_TRAILING = "。.!?~ \t\r\n"
_LEADING_SEPARATORS = " \t\r\n\u3000:：,，、;；。"
_LONGEST_DATE = 30  # "2025 年 12 月 31 日之前" with stray spaces


class _Problem(Exception):
    """Internal: the text was not understood; `args[0]` is the Chinese reason."""


def parse_chat_command(text: str, *, today: dt.date) -> ChatCommand:
    """Read one chat message (the robot's @ already there or not). Never raises."""
    message = _Message(_without_mentions(text))
    whole = message.normal.strip().rstrip(_TRAILING)
    if whole in _HELP:
        return ChatCommand("help")
    if whole in _MINE:
        return ChatCommand("mine")
    match = _CODE_FIRST.match(message.normal) or _VERB_FIRST.match(message.normal)
    if match is None:
        return ChatCommand("help", problem=_not_understood(message.normal))
    kind = VERBS[match["verb"]]
    try:
        return _command(kind, match["code"], message, match.end(), today)
    except _Problem as problem:
        return ChatCommand("help", problem=str(problem))


def _without_mentions(text: str) -> str:
    return _LEADING_MENTIONS.sub("", _PLACEHOLDER.sub("", text))


class _Message:
    """The message as written and NFKC-normalised character by character, so a position in
    the normal form maps back to the written text (free text is kept as written)."""

    def __init__(self, written: str) -> None:
        self.written = written
        parts: list[str] = []
        self._where: list[int] = []
        for index, char in enumerate(written):
            normal = unicodedata.normalize("NFKC", char)
            parts.append(normal)
            self._where.extend([index] * len(normal))
        self._where.append(len(written))
        self.normal = "".join(parts)

    def free_text(self, start: int) -> str:
        """The written text from normal position `start`, without leading separators."""
        return self.written[self._where[start] :].strip().lstrip(_LEADING_SEPARATORS).strip()


def _command(kind: Kind, code: str, message: _Message, start: int, today: dt.date) -> ChatCommand:
    if kind == "report":
        percent, after = _percent(message.normal, start)
        return ChatCommand(kind, code, percent=percent, text=message.free_text(after))
    if kind == "milestone":
        name = message.free_text(start)
        if not name:
            raise _Problem(f"缺少节点名称，例如：{_EXAMPLES['milestone']}")
        return ChatCommand(kind, code, milestone=name)
    if kind == "extend":
        deadline, after = _deadline(message.normal, start, today)
        return ChatCommand(kind, code, deadline=deadline, text=message.free_text(after))
    return ChatCommand(kind, code, text=message.free_text(start))


def _percent(normal: str, start: int) -> tuple[int, int]:
    match = _PERCENT.match(normal, start)
    if match is None:
        raise _Problem(f"缺少进度，请在「进展」后写百分比，例如：{_EXAMPLES['report']}")
    written = match["digits"] or match["words"]
    value = chinese_number(written)
    if value is None:
        raise _Problem("进度应为0到100之间的整数")
    return value, match.end()


def _deadline(normal: str, start: int, today: dt.date) -> tuple[dt.date, int]:
    """The new deadline at `start`, and where the reason after it starts: the longest leading
    text that is a date (「2025年 3月31日 原因」, 「2025-03-31因报批未完成」), never cut inside a
    number, never taking a 完成 that begins the reason, never a lone number after a space."""
    token = _FIRST_TOKEN.match(normal, start)
    if token is None:
        raise _Problem("缺少新的完成时限，例如：" + _EXAMPLES["extend"])
    begin = token.start(1)
    for end in range(min(len(normal), begin + _LONGEST_DATE), begin, -1):
        written = normal[begin:end]
        if not _may_end_a_date(normal, written, end):
            continue
        try:
            parsed = parse_deadline(written, default_year=today.year)
        except DeadlineError as exc:
            if exc.english in ("no such date", "no such month"):
                raise _Problem(f"日期不存在「{_short(written)}」") from None
            if exc.english == "date out of range":
                raise _Problem(exc.problem) from None
            continue
        if parsed.due is None:
            raise _Problem("延期须写明具体日期，例如：" + _EXAMPLES["extend"])
        return parsed.due, end
    raise _Problem(
        f"无法识别的日期「{_short(token.group(1))}」，请写成 2025-03-31 或 2025年3月31日"
    )


def _may_end_a_date(normal: str, written: str, end: int) -> bool:
    if written[-1].isspace() or written.endswith("完成"):
        return False
    if end < len(normal) and normal[end] in _ASCII_DIGITS:
        return False
    pieces = written.split()
    return len(pieces) == 1 or not pieces[-1].isdigit()


def _not_understood(normal: str) -> str:
    verb = _ANY_VERB.search(normal)
    if verb is not None:
        kind = VERBS[verb["verb"]]
        return f"缺少任务编号或编号有误，例如：{_EXAMPLES[kind]}"
    return f"未能识别指令「{_short(normal.strip())}」"


def _short(text: str, limit: int = 20) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
