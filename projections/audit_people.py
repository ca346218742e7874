"""审计留痕 for the people of the web workspace: who was added, invited, signed in or out.

Never the invitation's or the session's digest, the password hash or the CSRF key: each text
names the person and the moment only. Merged into `projections.audit_text` by event type name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.vocabulary import ROLE_LABELS, SIGNIN_HOW_LABELS, actor_text, moment_text

__all__ = ["PEOPLE_TEXTS"]

_Text = Callable[[Any, str, Any], str]  # (event fields, who acted, Names) -> text


def _then(reason: Any) -> str:
    return f"：{reason}" if reason else ""


def _added(e: Any, w: str, _n: Any) -> str:
    unit = f"{e.unit} " if e.unit else ""
    return f"{w} 添加{ROLE_LABELS.get(e.role, '人员')} {unit}{e.name}{_then(e.reason)}"


def _opened(e: Any, _w: str, _n: Any) -> str:
    how = SIGNIN_HOW_LABELS.get(e.how, "其他方式")
    until = moment_text(e.expires_at)
    return f"{actor_text(e.person)} 通过{how}登录工作台（会话 {e.session_id}，有效至 {until}）"


PEOPLE_TEXTS: dict[str, _Text] = {
    "Person.Added": _added,
    "Person.PasswordSet": lambda e, w, n: f"{w} 设置了自己的登录密码",
    "Person.Disabled": lambda e, w, n: f"{w} 停用人员，其登录会话全部注销{_then(e.reason)}",
    "Invitation.Issued": lambda e, w, n: (
        f"{w} 向 {actor_text(e.person)} 发出一次性登录邀请，有效至 {moment_text(e.expires_at)}"
    ),
    "Invitation.Redeemed": lambda e, w, n: f"登录邀请已使用（会话 {e.session_id}）",
    "WebSession.Opened": _opened,
    "WebSession.Revoked": lambda e, w, n: f"{w} 注销登录会话{_then(e.reason)}",
    "WebSecret.Made": lambda e, w, n: "系统生成表单校验密钥（不显示）",
}
