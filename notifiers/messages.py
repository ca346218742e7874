"""What delivery writes itself: a message as a robot's wire parts, a platform's answer as it is
stored, the reason a message failed, the office's failure notice and the test message.

The notice and the test message are chat Markdown too: the chat's name (whom it addresses,
never its code name), the failed message's title, the reason and the task codes pass through
the chat escaper (`notifiers.render.escape_markdown`) like every other value in a message."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.dates import chinese_date
from domain.reminder import ChatMessage
from domain.vocabulary import PLATFORM_LABELS
from notifiers.base import DeliveryAnswer, Notifier, OutgoingMessage
from notifiers.links import sole_task_link, task_path
from notifiers.render import escape_markdown as md
from notifiers.split import strip_numbering

__all__ = [
    "ACTOR",
    "FAILURE_NOTICE",
    "TEST",
    "answer_data",
    "failure_notice",
    "failure_reason",
    "probe_message",
    "wire_parts",
]

ACTOR = "system:delivery"
FAILURE_NOTICE = "failure_notice"
TEST = "test"
_NOTICE_TASKS_SHOWN = 20


def wire_parts(message: ChatMessage, robot: Notifier) -> list[OutgoingMessage]:
    """The message as this robot sends it, in the fewest parts its platform allows.

    Parts the sweep numbered with `split_message` are one digest cut by a planning budget:
    they are joined back and cut again by the robot, which measures its own envelope (a
    Feishu post wraps every line) and so packs each part as full as the platform takes.
    Parts queued otherwise are kept apart. The mentions ride on the last part. The result is
    the same on every pass for one config, which is what `parts_sent` counts. A message about
    one task whose text links to that task's page carries the link as its button.
    """
    texts = list(message.parts)
    if len(texts) > 1 and all(strip_numbering(t) != t for t in texts):
        texts = ["".join(strip_numbering(t) for t in texts)]
    found: list[OutgoingMessage] = []
    for i, text in enumerate(texts):
        mobiles = tuple(message.mention_mobiles) if i == len(texts) - 1 else ()
        link = _button(message, texts)
        found += robot.parts(OutgoingMessage(message.title, text, mobiles, link=link))
    return found


def _button(message: ChatMessage, texts: list[str]) -> str | None:
    """The task page a one-part, one-task message links to (its button), else None."""
    if len(texts) != 1 or len(message.task_codes) != 1:
        return None
    url = sole_task_link(texts[0])
    return url if url is not None and url.endswith(task_path(message.task_codes[0])) else None


def answer_data(
    answer: DeliveryAnswer, robot: Notifier, index: int, total: int, failures: int
) -> dict[str, Any]:
    """The platform's answer as stored: its classified fields and the robot's fingerprint.
    `detail` was scrubbed of every key, token and secret by the notifier."""
    return {
        "ok": answer.ok,
        "kind": answer.kind,
        "code": answer.code,
        "detail": answer.detail,
        "http_status": answer.http_status,
        "retry_after_s": answer.retry_after_s,
        "remainder": "mentions" if answer.remainder is not None else None,
        "robot": robot.robot,
        "platform": robot.platform,
        "part": index,
        "parts": total,
        "failures": failures,
    }


_KINDS = {
    "config": "机器人配置错误",
    "content": "消息内容被拒",
    "retry_later": "多次重试仍未送达",
}
_CODES: dict[str, dict[int, str]] = {
    "wecom": {
        93000: "机器人地址无效",
        40058: "消息内容超长",
        45009: "发送过于频繁",
        -1: "平台繁忙",
    },
    "dingtalk": {
        300001: "机器人令牌无效",
        310000: "签名、关键词或IP白名单校验未通过",
        460101: "消息内容超长",
        130101: "发送过于频繁",
        -1: "平台繁忙",
    },
    "feishu": {
        19001: "机器人地址无效",
        19021: "签名或时间戳校验未通过",
        19022: "IP不在白名单内",
        19024: "消息未含关键词",
        11232: "发送过于频繁",
        9499: "请求格式有误或平台繁忙",
    },
}
"""What the platforms' codes mean (PLATFORMS.md): the notice says it in Chinese. The
platform's own words stay in the stored answer (`answer_data`)."""


def failure_reason(answer: DeliveryAnswer, robot: Notifier) -> str:
    """What the office reads, e.g. 「消息内容被拒（企业微信机器人 1a2b…，错误码 40058：
    消息内容超长）」: the platform's own words stay in the stored answer."""
    where = [f"{PLATFORM_LABELS.get(robot.platform, robot.platform)}机器人 {robot.robot}"]
    if answer.code is not None:
        meaning = _CODES.get(robot.platform, {}).get(answer.code)
        where.append(f"错误码 {answer.code}" + (f"：{meaning}" if meaning else ""))
    if answer.http_status is not None and not 200 <= answer.http_status < 300:
        where.append(f"状态码 {answer.http_status}")
    if answer.code is None and answer.http_status is None:
        where.append("网络连接失败或超时")
    return f"{_KINDS.get(answer.kind, '未能送达')}（{'，'.join(where)}）"


def failure_notice(
    message: ChatMessage, reason: str, office: str, now: dt.datetime, chat: str = ""
) -> ChatMessage | None:
    """The office's notice that `message` failed; None for a test, a notice, or the office's
    own chat (it is the one failing: nobody to tell). `chat` is whom the chat addresses
    (「县委编办」: `ChannelSpec.display_name`); the notice never prints its code name."""
    if message.kind in (TEST, FAILURE_NOTICE) or message.channel == office:
        return None
    codes = message.task_codes
    shown = "、".join(md(code) for code in codes[:_NOTICE_TASKS_SHOWN])
    more = f"等{len(codes)}项" if len(codes) > _NOTICE_TASKS_SHOWN else ""
    name = md(chat) if chat else "有关单位"
    text = (
        f"发往{name}群的消息《{md(message.title)}》未能送达，已停止重试。\n\n"
        f"原因：{md(reason)}\n\n涉及任务：{shown or '无'}{more}\n\n"
        "请检查该群机器人的配置（机器人地址、签名密钥、关键词）后重新发送。"
    )
    return ChatMessage(
        message_key=f"failure|{message.message_key}",
        channel=office,
        kind=FAILURE_NOTICE,
        title=f"消息投递失败｜{name}",
        parts=[text],
        mention_mobiles=[],
        reminder_keys=[],
        task_codes=list(codes),
        actor=ACTOR,
        at=now,
    )


def probe_message(channel: str, now: dt.datetime) -> ChatMessage:
    """`duban notify test`'s message for `channel` at `now`."""
    when = f"{chinese_date(now)} {now:%H:%M:%S}"
    text = f"这是一条来自督办系统的测试消息（{when}），收到即表示机器人配置正确。"
    return ChatMessage(
        message_key=f"test|{channel}|{now.isoformat()}", channel=channel, kind=TEST,
        title="督办系统测试消息", parts=[text], mention_mobiles=[], reminder_keys=[],
        task_codes=[], actor=ACTOR, at=now,
    )  # fmt: skip
