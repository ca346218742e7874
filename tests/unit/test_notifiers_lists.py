"""Markdown tables arrive in the chats as lists: WeCom and DingTalk markdown (and a Feishu
post) show a table as rows of ``|``. The limits still hold after the change."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifiers._webhook import WebhookNotifier
from notifiers.base import OutgoingMessage
from notifiers.dingtalk import DingTalkNotifier
from notifiers.limits import BODY_LIMITS, split_for_platform
from notifiers.lists import for_platform, tables_as_lists
from notifiers.render import escape_markdown
from notifiers.split import strip_numbering, utf8_len
from notifiers.wecom import WeComNotifier

RANKING = "\n".join(
    [
        "## 2026年度全面深化改革督查考核结果",
        "",
        "| 名次 | 单位 | 得分 | 加分 | 扣分 |",
        "|---|---|---|---|---|",
        "| 1 | 县财政局 | 98.5 | +0 | -1.5 |",
        "| 1 | 县委编办 | 98.5 | +1 | -2.5 |",
        "| 无任务 | 县审计局 | — | — | — |",
        "",
        "### 追责问责",
        "- 无",
    ]
)


def test_a_ranking_becomes_a_list_with_ranks_as_words() -> None:
    assert tables_as_lists(RANKING).split("\n") == [
        "## 2026年度全面深化改革督查考核结果",
        "",
        "- 第1名 县财政局：得分98.5，加分+0，扣分-1.5",
        "- 第1名 县委编办：得分98.5，加分+1，扣分-2.5",  # a tie stays a tie: no renumbering
        "- 县审计局（无任务）",
        "",
        "### 追责问责",
        "- 无",
    ]


def test_a_table_without_a_rank_column_or_a_header() -> None:
    table = "| 单位 | 任务数 |\n|:--|--:|\n| 县财政局 | 3 |"
    assert tables_as_lists(table) == "- 县财政局：任务数3"
    assert tables_as_lists("| 县财政局 | 3 |") == "- 县财政局：3"


def test_text_without_tables_is_kept_exactly() -> None:
    text = "### 标题\n- **2026-01** 任务｜牵头：县财政局\n\n（1/2）\n"
    assert tables_as_lists(text) == text


@given(st.lists(st.text(max_size=12), max_size=6))
def test_escaped_values_never_start_a_row_and_the_change_is_idempotent(values: list[str]) -> None:
    text = "\n".join(f"- {escape_markdown(v)}" for v in values) + "\n" + RANKING
    once = tables_as_lists(text)
    assert tables_as_lists(once) == once
    assert not any(line.lstrip().startswith("|") for line in once.split("\n"))


def test_only_the_console_keeps_tables() -> None:
    assert for_platform("console", RANKING) == RANKING
    for platform in ("wecom", "dingtalk", "feishu"):
        assert "|" not in for_platform(platform, RANKING)


LONG = "\n".join(
    ["| 名次 | 单位 | 得分 | 加分 | 扣分 |", "|---|---|---|---|---|"]
    + [f"| {i} | 县第{i}个改革牵头单位（经济体制改革专项小组） | {99 - i / 10:g} | +1 | -2 |"
       for i in range(1, 400)]
)  # fmt: skip


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_a_long_table_planned_for_a_chat_fits_as_a_list(platform: str) -> None:
    parts = split_for_platform(platform, LONG, "各单位得分情况")
    assert len(parts) > 1
    assert all(utf8_len(part) <= BODY_LIMITS[platform] for part in parts)
    whole = "".join(strip_numbering(part) for part in parts)
    assert whole == tables_as_lists(LONG)
    assert "- 第399名 县第399个改革牵头单位（经济体制改革专项小组）：得分59.1" in whole


@pytest.mark.parametrize(
    ("robot", "hook"),
    [
        (WeComNotifier, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"),
        (DingTalkNotifier, "https://oapi.dingtalk.com/robot/send?access_token=t"),
    ],
)
def test_a_table_queued_as_it_is_is_sent_as_a_list_within_the_limit(
    robot: type[WebhookNotifier], hook: str
) -> None:
    notifier = robot(hook)
    parts = notifier.parts(
        OutgoingMessage("各单位得分情况", LONG, mention_mobiles=("13800000001",))
    )
    assert len(parts) > 1
    for part in parts:
        assert notifier._measure(part) <= notifier.max_body_bytes
        assert not any(line.startswith("|") for line in part.markdown.split("\n"))
    assert parts[-1].mention_mobiles == ("13800000001",)
    notifier.close()
