"""The door an action came through, as the audit trail shows it.

Events a person causes record `via` beside `actor` (`domain.roles.Identity.via`):
``session:<public id>`` for a web session, ``token:<token_id>`` for an API token,
``chat:<inbound message id>`` for a reply written to the robot in a group chat, None from the
command line and the system (and in every event stored before it was recorded). A 阶段节点's
`MilestoneClosed` already names by `via` how the milestone was confirmed (report, office, plan),
so it records the door as `through`. The trail shows the door in words after the person,
「县财政局 李静（网页登录）」 or 「改革办（接口令牌 ab12cd34ef56）」, and the JSON keeps the
identifier: only public ids, never a secret. A value of any other shape is not shown at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["VIA_LABELS", "via_of", "via_text"]

# The doors, as a county office names them (listed here, beside the one rule that uses them).
VIA_LABELS = {"session": "网页登录", "token": "接口令牌", "chat": "群内回复"}
_SHAPE = re.compile(r"^(session|token|chat):([A-Za-z0-9_-]{1,64})$")


def via_of(data: Mapping[str, Any]) -> str | None:
    """The door an event's fields (its ``__dict__`` or the stored JSON) record, or None."""
    found = data.get("through") if "through" in data else data.get("via")
    return found if isinstance(found, str) and _SHAPE.match(found) else None


def via_text(via: str | None) -> str:
    """「（网页登录）」 for a web session, 「（接口令牌 ab12cd34ef56）」 for an API token (the
    token's public id: it names the token to revoke), else nothing. A session's public id is
    not shown: it means nothing to a reader, and the JSON keeps it."""
    match = _SHAPE.match(via) if via else None
    if match is None:
        return ""
    kind, public_id = match.groups()
    if kind == "token":
        return f"（{VIA_LABELS[kind]} {public_id}）"
    return f"（{VIA_LABELS[kind]}）"  # a chat's message: its entry beside it shows the text
