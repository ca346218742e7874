"""The audit trail names sign-in events in Chinese and never shows a digest, a hash or a key."""

from __future__ import annotations

import datetime as dt

from domain.person import Invitation, Person, WebSecret, WebSession
from projections.audit_text import describe

AT = dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
LIAISON = "liaison:县发展和改革局/张伟"


def _events() -> list[object]:
    person = Person(
        actor_key=LIAISON, role="liaison", name="张伟", unit="县发展和改革局",
        login="13800000001", actor="office:改革办", at=AT, reason="首次邀请，来自名录",
    )  # fmt: skip
    person.set_password("longpassword1", LIAISON, AT)
    invitation = Invitation(
        invitation_id="0123456789ab", person=LIAISON, digest="d" * 64,
        expires_at=AT + dt.timedelta(hours=72), actor="office:改革办", at=AT,
    )  # fmt: skip
    invitation.redeem("ba9876543210", AT)
    session = WebSession(
        session_id="ba9876543210", person=LIAISON, role="liaison", name="张伟",
        unit="县发展和改革局", digest="e" * 64, how="invitation", at=AT,
        expires_at=AT + dt.timedelta(hours=12),
    )  # fmt: skip
    session.revoke("退出登录", LIAISON, AT)
    secret = WebSecret(key="f" * 64, at=AT)
    return [e for a in (person, invitation, session, secret) for e in a.collect_events()]


def test_every_sign_in_event_is_told_in_chinese_without_secrets() -> None:
    texts = [describe(event) for event in _events()]
    assert texts[0] == "改革办 添加单位联络员 县发展和改革局 张伟：首次邀请，来自名录"
    assert texts[1] == "县发展和改革局 张伟 设置了自己的登录密码"
    assert "向 县发展和改革局 张伟 发出一次性登录邀请，有效至 2024年3月4日 10:00" in texts[2]
    assert texts[4].startswith("县发展和改革局 张伟 通过邀请链接登录工作台")
    assert texts[5] == "县发展和改革局 张伟 注销登录会话：退出登录"
    joined = "\n".join(texts)
    for secret in (
        "d" * 16,
        "e" * 16,
        "f" * 16,
        "longpassword1",
        "pbkdf2",
        "invitation",
        "liaison",
    ):
        assert secret not in joined, secret
