"""What the people registry hands out: plain data, never a live aggregate nor a stored digest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from domain.person import Person, WebSession
from domain.roles import Identity

__all__ = ["IssuedInvitation", "OpenSession", "describe_person", "describe_session"]


@dataclass(frozen=True)
class IssuedInvitation:
    """The one moment the link exists in clear: hand it over, then forget it."""

    invitation_id: str
    link: str
    person: str
    name: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class OpenSession:
    """A valid session: the cookie to set (only right after opening), its id and who it is."""

    session_id: str
    identity: Identity
    person: str
    expires_at: dt.datetime
    cookie: str | None = None


def describe_person(record: Person) -> dict[str, Any]:
    """What the office's list shows: never the password hash."""
    return {
        "person": record.actor_key,
        "role": record.role,
        "name": record.name,
        "unit": record.unit,
        "login": record.login,
        "active": record.active,
        "has_password": record.password is not None,
        "added_by": record.added_by,
        "added_at": record.added_at,
    }


def describe_session(record: WebSession, now: dt.datetime) -> dict[str, Any]:
    return {
        "session_id": record.session_id,
        "person": record.person,
        "name": record.name,
        "how": record.how,
        "opened_at": record.opened_at,
        "expires_at": record.expires_at,
        "revoked": record.revoked,
        "live": record.live(now),
    }
