"""审计留痕 for messages received from a group chat (`domain.inbound.InboundMessage`).

「县财政局 李静 在县财政局群回复：2024-03 进展 60% 出让细则已起草（原文摘要 SHA-256 3f2a…）；
已办理：2024-03 进展已报送（60%）」 — the unit and person (a stranger by the platform and the
name the platform gave), the group by the conversation's own title or the config's name of the
channel, the text as written without the @-mentions, the digest of the raw body, then what came
of it. The task event it caused follows in the same trail (its door: 「（群内回复）」). Merged into
`projections.audit_text` by event type name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from domain.inbound import REFUSALS
from domain.vocabulary import PLATFORM_LABELS

__all__ = ["INBOUND_TEXTS", "shown_text"]

_Text = Callable[[Any, str, Any], str]  # (event fields, who acted, Names) -> text
_MENTIONS = re.compile(r"@_(?:user_\d+|all)\s*")
_OUTCOMES = {"help": "已回复使用帮助", "mine": "已回复待办任务清单"}


def shown_text(text: Any, width: int = 200) -> str:
    """The message as a reader sees it in the group: Feishu's @ placeholders dropped."""
    shown = " ".join(_MENTIONS.sub("", str(text or "")).split())
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def _received(e: Any, w: str, n: Any) -> str:
    platform = PLATFORM_LABELS.get(str(e.platform), "群聊")
    if e.actor:
        sender = w
    else:
        sender = f"{platform}用户{(' ' + e.sender_name) if e.sender_name else ''}（未登记）"
    group = str(e.conversation_title or "") or n.chat(e.channel)
    digest = str(e.body_sha256 or "")
    said = f"{sender} 在{group}回复：{shown_text(e.text)}（原文摘要 SHA-256 {digest}）"
    if e.outcome == "done":
        return f"{said}；已办理：{_after_name(e.answer)}"
    if e.outcome in _OUTCOMES:
        return f"{said}；{_OUTCOMES[e.outcome]}"
    return f"{said}；未办理：{REFUSALS.get(str(e.reason), '未能办理')}"


def _after_name(answer: Any) -> str:
    """「李静：2024-03 进展已报送」 → 「2024-03 进展已报送」 (the person is named already)."""
    return str(answer or "").partition("：")[2] or str(answer or "")


INBOUND_TEXTS: dict[str, _Text] = {"InboundMessage.Received": _received}
