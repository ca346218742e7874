"""The one chat escaper (`notifiers.render.escape_markdown`) against the test's own recogniser
of what WeCom, DingTalk and Feishu render (`tests.fakes.chat_markup`): whatever the text, once
escaped and placed in a line of our markup it adds no link, no mention and no formatting."""

from __future__ import annotations

import datetime as dt

from hypothesis import example, given
from hypothesis import strategies as st

from domain.reminder import ChatMessage
from notifiers import escape_markdown
from notifiers.feishu import post_paragraphs
from notifiers.messages import failure_notice
from tests.fakes.chat_markup import INVISIBLE, kinds, markup

FRAGMENTS = [
    "[", "]", "(", ")", "](", "[点我](javascript:alert(1))", "![x](http://e.example/a.png)",
    "<@all>", '<at user_id="all">所有人</at>', "<http://evil.example/>", "<font color=red>",
    "</font>", "**", "__", "*", "_", "`", "```", "~~", "#", "## ", ">", "> ", "|", "- ", "1. ",
    "---", "\n", "\r\n", "\r", "\u2028", "\x85", "@all", "@所有人", "@", "@13800000001", ":",
    "//", "http://", "https://evil.example", "&lt;", "&#60;", "&amp;", "\\", "!", "\u200b",
    "\u200f", "\u202e", "\u2066", "\u2060", "\ufeff", " ", "县财政局",
]  # fmt: skip
hostile_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=24
).map("".join)

# Lines of our own markup that carry a value: a digest line, a round heading, a report line,
# an assessment table row, a notice sentence.
LINES = [
    "- **2024-01** {}｜牵头：县财政局｜时限：2024-06-30",
    "#### {}（2项）@张伟",
    "- {}：3项：🔴1 🟡1 🟢1 ⚪0，逾期1",
    "| 1 | {} | 100 | +0 | -0 |",
    "发往{}群的消息《月分析》未能送达，已停止重试。",
    "**总体** {} 平均进度40%",
]


@given(value=st.one_of(st.text(), hostile_text), line=st.sampled_from(LINES))
@example(value="[点我](javascript:alert(1))", line=LINES[0])
@example(value="数字\u200b经济\u202e改革", line=LINES[1])
def test_an_escaped_value_adds_no_link_mention_or_formatting(value: str, line: str) -> None:
    shown = line.format(escape_markdown(value))
    assert kinds(shown) == kinds(line.format("")), [
        token for token in markup(shown) if token not in markup(line.format(""))
    ]


@given(value=st.one_of(st.text(), hostile_text))
def test_an_escaped_value_becomes_no_feishu_link_or_mention(value: str) -> None:
    for paragraph in post_paragraphs(LINES[0].format(escape_markdown(value))):
        assert [e for e in paragraph if e["tag"] != "text"] == []


def test_zero_width_and_bidi_controls_are_removed_not_spaced() -> None:
    hidden = "".join(sorted(INVISIBLE))
    assert escape_markdown(f"数字{hidden}经济") == "数字经济"


def test_feishu_links_only_for_http_addresses() -> None:
    (paragraph,) = post_paragraphs("见[方案](https://gov.example/a) 和[点我](javascript:alert(1))")
    links = [e for e in paragraph if e["tag"] == "a"]
    assert links == [{"tag": "a", "text": "方案", "href": "https://gov.example/a"}]
    assert "[点我](javascript:alert(1))" in "".join(e["text"] for e in paragraph)


def test_the_failure_notice_shows_the_chat_title_and_answer_as_text() -> None:
    now = dt.datetime(2024, 6, 3, 10, tzinfo=dt.UTC)
    hostile = ChatMessage(
        message_key="k", channel="<@all>群", kind="digest", title="[点我](javascript:x)",
        parts=["x"], mention_mobiles=[], reminder_keys=[], task_codes=["2024-01"],
        actor="test", at=now,
    )  # fmt: skip
    notice = failure_notice(hostile, '消息内容被拒：<at user_id="all">', "office", now)
    assert notice is not None
    tokens = markup(notice.title + "\n" + "\n".join(notice.parts))
    assert [t for t in tokens if t[0] in ("link", "mention", "html")] == []
