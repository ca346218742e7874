"""People who sign in to the web workspace, their invitations and their browser sessions.

Like `domain.token.AccessToken`, nothing that proves who someone is is ever stored in clear:
an invitation link and a session cookie are kept as their SHA-256 digest, a password as a salted
scrypt hash with its parameters. Each public id names its aggregate, so checking a presented
link or cookie is one small read. Every change is an event with who, when and why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent, event

from domain.errors import DomainError
from domain.ids import natural_id
from domain.roles import Identity, Role

__all__ = [
    "PERSON_ROLES",
    "Invitation",
    "Person",
    "PersonError",
    "WebSecret",
    "WebSession",
    "hash_password",
    "invitation_refusal",
    "password_matches",
    "password_problem",
]

PERSON_ROLES: tuple[Role, ...] = ("office", "liaison", "official", "auditor")
ADDABLE_ROLES: tuple[Role, ...] = ("office", "auditor")  # the others come from the directory
MIN_PASSWORD = 8
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class PersonError(DomainError):
    code = "person_error"


def password_problem(password: str) -> str | None:
    """Why a password may not be used, in Chinese; None when it may."""
    if len(password) < MIN_PASSWORD:
        return f"密码至少需要 {MIN_PASSWORD} 个字符"
    if len(password) > 200:
        return "密码不能超过 200 个字符"
    if len(set(password)) < 4:
        return "密码过于简单，请混用字母、数字或符号"
    return None


def hash_password(password: str, salt: bytes | None = None) -> dict[str, Any]:
    """A salted scrypt hash with the parameters that made it (so they can change later)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    derived = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return {"scheme": "scrypt", "salt": salt.hex(), "hash": derived.hex(), **_SCRYPT}


def password_matches(password: str, stored: dict[str, Any] | None) -> bool:
    if not stored or stored.get("scheme") != "scrypt":
        return False
    derived = hashlib.scrypt(
        password.encode("utf-8"), salt=bytes.fromhex(stored["salt"]), dklen=32,
        n=int(stored["n"]), r=int(stored["r"]), p=int(stored["p"]),
        maxmem=64 * 1024 * 1024,
    )  # fmt: skip
    return hmac.compare_digest(derived.hex(), str(stored["hash"]))


class Person(Aggregate):
    """Someone who may sign in, keyed by the actor string events record for them."""

    Added: ClassVar[type[DomainEvent]]
    PasswordSet: ClassVar[type[DomainEvent]]
    Disabled: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(actor_key: str) -> UUID:
        return natural_id("person", actor_key)

    @event("Added")
    def __init__(
        self,
        actor_key: str,
        role: str,
        name: str,
        unit: str | None,
        login: str,
        actor: str,
        at: dt.datetime,
        reason: str,
    ) -> None:
        self.actor_key = actor_key
        self.role = role
        self.name = name
        self.unit = unit
        self.login = login
        self.added_by = actor
        self.added_at = at
        self.password: dict[str, Any] | None = None
        self.active = True

    def identity(self) -> Identity:
        role: Role = self.role  # type: ignore[assignment]  # only PERSON_ROLES are stored
        return Identity(role=role, name=self.name, unit=self.unit)

    def set_password(self, password: str, actor: str, at: dt.datetime) -> None:
        problem = password_problem(password)
        if problem is not None:
            raise PersonError(problem)
        self._password_set(password=hash_password(password), actor=actor, at=at)

    @event("PasswordSet")
    def _password_set(self, password: dict[str, Any], actor: str, at: dt.datetime) -> None:
        self.password = dict(password)

    def disable(self, reason: str, actor: str, at: dt.datetime) -> None:
        if not self.active:
            raise PersonError(f"{self.name} 已停用")
        self._disabled(reason=reason, actor=actor, at=at)

    @event("Disabled")
    def _disabled(self, reason: str, actor: str, at: dt.datetime) -> None:
        self.active = False


def invitation_refusal(expires_at: dt.datetime, used: bool, now: dt.datetime) -> str | None:
    """Why an invitation link no longer signs anyone in, in Chinese; None while it does."""
    if used:
        return "该邀请链接已使用过，不能再次使用。请联系县委改革办重新发送邀请。"
    if now >= expires_at:
        return "该邀请链接已过期。请联系县委改革办重新发送邀请。"
    return None


class Invitation(Aggregate):
    """A one-time sign-in link for one person; only the digest of its token is kept."""

    Issued: ClassVar[type[DomainEvent]]
    Redeemed: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(invitation_id: str) -> UUID:
        return natural_id("invitation", invitation_id)

    @event("Issued")
    def __init__(
        self,
        invitation_id: str,
        person: str,
        digest: str,
        expires_at: dt.datetime,
        actor: str,
        at: dt.datetime,
    ) -> None:
        self.invitation_id = invitation_id
        self.person = person
        self.digest = digest
        self.expires_at = expires_at
        self.issued_by = actor
        self.issued_at = at
        self.used = False

    def redeem(self, session_id: str, at: dt.datetime) -> None:
        refusal = invitation_refusal(self.expires_at, self.used, at)
        if refusal is not None:
            raise PersonError(refusal)
        self._redeemed(session_id=session_id, at=at)

    @event("Redeemed")
    def _redeemed(self, session_id: str, at: dt.datetime) -> None:
        self.used = True


class WebSession(Aggregate):
    """A signed-in browser: its cookie's digest, whose it is, until when, and whether revoked."""

    Opened: ClassVar[type[DomainEvent]]
    Revoked: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(session_id: str) -> UUID:
        return natural_id("web_session", session_id)

    @event("Opened")
    def __init__(
        self,
        session_id: str,
        person: str,
        role: str,
        name: str,
        unit: str | None,
        digest: str,
        how: str,
        at: dt.datetime,
        expires_at: dt.datetime,
    ) -> None:
        self.session_id = session_id
        self.person = person
        self.role = role
        self.name = name
        self.unit = unit
        self.digest = digest
        self.how = how
        self.opened_at = at
        self.expires_at = expires_at
        self.revoked = False

    def identity(self) -> Identity:
        role: Role = self.role  # type: ignore[assignment]  # only PERSON_ROLES are stored
        return Identity(role=role, name=self.name, unit=self.unit)

    def live(self, now: dt.datetime) -> bool:
        return not self.revoked and now < self.expires_at

    def revoke(self, reason: str, actor: str, at: dt.datetime) -> None:
        if not self.revoked:
            self._revoked(reason=reason, actor=actor, at=at)

    @event("Revoked")
    def _revoked(self, reason: str, actor: str, at: dt.datetime) -> None:
        self.revoked = True


class WebSecret(Aggregate):
    """The server's key for CSRF tokens, made once, so every process and restart agrees."""

    Made: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id() -> UUID:
        return natural_id("web_secret", "csrf")

    @event("Made")
    def __init__(self, key: str, at: dt.datetime) -> None:
        self.key = key
