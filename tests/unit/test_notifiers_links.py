"""Links to the task pages in chat messages (issue 15): the trusted link, the digest lines, the
three robots' payloads (DingTalk ActionCard, Feishu card, WeCom markdown) and the splitter,
which counts the links and never cuts one."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.reminder import ChatMessage
from notifiers import (
    DingTalkNotifier,
    FeishuMention,
    FeishuNotifier,
    OutgoingMessage,
    WeComNotifier,
)
from notifiers._webhook import WebhookNotifier
from notifiers.links import TrustedLink, link_spans, sole_task_link, task_link, task_url
from notifiers.messages import wire_parts
from notifiers.render import DigestItem, Renderer
from notifiers.split import split_message, strip_numbering, utf8_len
from tests.conftest import TZ
from tests.fakes.chat_markup import markup

BASE = "https://duban.example.gov.cn"
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
HOOKS = {
    "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
    "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=t",
    "feishu": "https://open.feishu.cn/open-apis/bot/v2/hook/h",
}
ROBOTS: dict[str, Callable[..., WebhookNotifier]] = {
    "wecom": WeComNotifier,
    "dingtalk": DingTalkNotifier,
    "feishu": FeishuNotifier,
}


def _item(code: str, title: str = "推进改革任务", names: tuple[str, ...] = ()) -> DigestItem:
    return DigestItem(
        task_code=code, title=title, rung="urge", rung_label="催办",
        deadline=dt.date(2026, 12, 1), days=1, last_report=None,
        lead_unit="县发展和改革局", mention_names=names,
    )  # fmt: skip


def _robot(platform: str, sent: list[dict[str, object]]) -> WebhookNotifier:
    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok", "code": 0})

    client = httpx.Client(transport=httpx.MockTransport(handle))
    return ROBOTS[platform](HOOKS[platform], client=client, clock=lambda: 1_764_468_000.0)


def _notice(code: str = "2026-01", mobiles: tuple[str, ...] = ()) -> ChatMessage:
    link = task_link(BASE, code)
    said = f"任务 **{code}** 的延期申请已批准。\n\n审批意见：同意"
    body = f"{said}\n\n{link}\n\n（县委改革办，2026-11-30 10:00）"
    return ChatMessage(
        message_key="k", channel="c", kind="decision_notice", title=f"延期申请已批准｜{code}",
        parts=[body], mention_mobiles=list(mobiles), reminder_keys=[], task_codes=[code],
        actor="system:duban", at=NOW,
    )  # fmt: skip


# ---- the link ----------------------------------------------------------------------------


def test_a_task_code_is_quoted_into_the_path_so_it_cannot_end_the_link() -> None:
    url = task_url(BASE, "2026/01 )[点我](http://evil")

    assert url == f"{BASE}/tasks/2026%2F01%20%29%5B%E7%82%B9%E6%88%91%5D%28http%3A%2F%2Fevil"
    assert [m for kind, m in markup(str(TrustedLink("查看任务", url))) if kind == "link"] == [
        f"[查看任务]({url})",
        "https://",
    ]


def test_no_link_without_a_public_address() -> None:
    assert task_link(None, "2026-01") is None
    assert task_link("", "2026-01") is None


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://x/a)b", "https://x/ a"])
def test_a_trusted_link_refuses_an_address_that_is_not_a_plain_web_address(url: str) -> None:
    with pytest.raises(ValueError, match="safe"):
        TrustedLink("查看任务", url)


# ---- the digest --------------------------------------------------------------------------


def test_every_digest_line_links_to_its_task_and_a_title_cannot_add_a_link() -> None:
    items = [_item("2026-01"), _item("2026-02", "[点我](http://evil.example) <@all>"), _item("A B")]

    _, body = Renderer(public_url=BASE).render_digest("县发展和改革局", items, NOW)

    links = [m for kind, m in markup(body) if kind == "link" and m.startswith("[")]
    assert links == [
        f"[查看任务]({BASE}/tasks/2026-01)",
        f"[查看任务]({BASE}/tasks/2026-02)",
        f"[查看任务]({BASE}/tasks/A%20B)",
    ]
    assert "evil" not in "".join(links)
    assert not [m for kind, m in markup(body) if kind == "mention" and "all" in m]


# ---- the robots --------------------------------------------------------------------------


def test_dingtalk_sends_a_one_task_notice_as_an_action_card_with_one_button() -> None:
    sent: list[dict[str, object]] = []
    robot = _robot("dingtalk", sent)

    for part in wire_parts(_notice(), robot):
        robot.send(part)

    (body,) = sent
    assert body["msgtype"] == "actionCard"
    card = body["actionCard"]
    assert isinstance(card, dict)
    assert card["singleTitle"] == "查看任务"
    assert card["singleURL"] == f"{BASE}/tasks/2026-01"
    assert "](" not in card["text"]  # the button replaces the link line
    assert "审批意见：同意" in card["text"]


def test_dingtalk_keeps_markdown_and_the_inline_link_when_someone_must_be_mentioned() -> None:
    sent: list[dict[str, object]] = []
    robot = _robot("dingtalk", sent)

    for part in wire_parts(_notice(mobiles=("13800000001",)), robot):
        robot.send(part)

    (body,) = sent
    assert body["msgtype"] == "markdown"
    text = body["markdown"]["text"]  # type: ignore[index]
    assert f"[查看任务]({BASE}/tasks/2026-01)" in text
    assert "@13800000001" in text


def test_feishu_sends_a_one_task_notice_as_an_interactive_card_with_a_button() -> None:
    sent: list[dict[str, object]] = []
    robot = _robot("feishu", sent)

    for part in wire_parts(_notice(), robot):
        robot.send(part)

    (body,) = sent
    assert body["msg_type"] == "interactive"
    card = body["card"]
    assert isinstance(card, dict)
    assert card["header"]["title"]["content"] == "延期申请已批准｜2026-01"
    div, action = card["elements"]
    assert div["text"]["tag"] == "lark_md"
    assert "**2026-01**" in div["text"]["content"]
    assert action["actions"][0]["url"] == f"{BASE}/tasks/2026-01"
    assert action["actions"][0]["text"]["content"] == "查看任务"


def test_feishu_tags_people_in_a_post_with_the_link_as_an_a_element() -> None:
    robot = FeishuNotifier(HOOKS["feishu"], clock=lambda: 1_764_468_000.0)
    markdown = f"任务 2026-01 已退回。\n\n{task_link(BASE, '2026-01')}"
    message = OutgoingMessage(
        "退回",
        markdown,
        feishu_mentions=(FeishuMention("ou_1", "李静"),),
        link=f"{BASE}/tasks/2026-01",
    )

    body = robot.payload(message)

    assert body["msg_type"] == "post"
    elements = [e for line in body["content"]["post"]["zh_cn"]["content"] for e in line]
    assert {"tag": "a", "text": "查看任务", "href": f"{BASE}/tasks/2026-01"} in elements
    assert {"tag": "at", "user_id": "ou_1", "user_name": "李静"} in elements


def test_wecom_sends_the_link_in_markdown() -> None:
    sent: list[dict[str, object]] = []
    robot = _robot("wecom", sent)

    for part in wire_parts(_notice(), robot):
        robot.send(part)

    (body,) = sent
    assert body["msgtype"] == "markdown"
    assert f"[查看任务]({BASE}/tasks/2026-01)" in body["markdown"]["content"]  # type: ignore[index]


def test_a_digest_of_several_tasks_gets_no_button() -> None:
    _, body = Renderer(public_url=BASE).render_digest("c", [_item("1"), _item("2")], NOW)
    message = ChatMessage(
        message_key="k", channel="c", kind="digest", title="t", parts=[body], mention_mobiles=[],
        reminder_keys=[], task_codes=["1", "2"], actor="system:duban", at=NOW,
    )  # fmt: skip

    assert sole_task_link(body) is None
    assert all(part.link is None for part in wire_parts(message, _robot("dingtalk", [])))


# ---- limits: the splitter and the robots count the links -----------------------------------

_codes = st.lists(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=12),
    min_size=1, max_size=60, unique=True,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(codes=_codes, budget=st.integers(400, 3000), filler=st.integers(0, 3000))
def test_the_splitter_keeps_every_link_whole_and_every_line_once(
    codes: list[str], budget: int, filler: int
) -> None:
    lines = [f"- 任务{'甲' * (filler // 3)}｜{task_link(BASE, code)}" for code in codes]
    text = "\n".join(lines)

    parts = split_message(text, budget)

    assert all(utf8_len(part) <= budget for part in parts)
    assert "".join(strip_numbering(p) for p in parts) == text
    bodies = [strip_numbering(part) for part in parts]
    whole = [body[a:b] for body in bodies for a, b in link_spans(body)]
    assert whole == [str(task_link(BASE, code)) for code in codes]


@settings(max_examples=25, deadline=None)
@given(
    platform=st.sampled_from(sorted(ROBOTS)),
    count=st.integers(1, 500),
    title=st.text(min_size=0, max_size=40),
)
def test_a_digest_with_links_is_cut_into_parts_within_the_platform_limit(
    platform: str, count: int, title: str
) -> None:
    items = [_item(f"2026-{i:03d}", title or "推进") for i in range(count)]
    digest_title, body = Renderer(public_url=BASE).render_digest("县发展和改革局", items, NOW)
    robot = _robot(platform, [])
    message = OutgoingMessage(digest_title, body)

    parts = robot.parts(message)

    assert all(robot._measure(part) <= robot.max_body_bytes for part in parts)
    joined = "".join(strip_numbering(part.markdown) for part in parts)
    for item in items:
        assert joined.count(f"]({BASE}/tasks/{item.task_code})") == 1
    links = [s for part in parts for s in link_spans(part.markdown)]
    assert len(links) == count
