"""The secrets of sign-in: invitation links and session cookies, their digests, and the rate limit.

An invitation link reads `dbi_<id>_<secret>`, a session cookie `dbs_<id>_<secret>`; the public id
names the aggregate, so checking one is one small read, and only the SHA-256 digest of the whole
value is stored. Failed password sign-ins are counted per login and client (`RateLimit`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import threading
from collections import deque

from domain.person import PersonError

__all__ = [
    "INVITATION_PREFIX",
    "SESSION_PREFIX",
    "RateLimit",
    "SignInRefused",
    "digest",
    "new_secret",
    "shape_id",
]

INVITATION_PREFIX = "dbi"
SESSION_PREFIX = "dbs"


class SignInRefused(PersonError):
    """An invitation, a password or a session that does not sign anyone in (reason in Chinese)."""

    code = "sign_in_refused"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def shape_id(prefix: str, value: str | None) -> str | None:
    """The public id of a `<prefix>_<12hex>_<secret>` value, or None if it is not one."""
    found = re.match(rf"^{prefix}_([0-9a-f]{{12}})_([A-Za-z0-9_\-]{{20,100}})$", value or "")
    return found.group(1) if found else None


def new_secret(prefix: str) -> tuple[str, str]:
    """(public id, whole value) of a fresh link or cookie; the id is 48 random bits."""
    public = secrets.token_hex(6)
    return public, f"{prefix}_{public}_{secrets.token_urlsafe(32)}"


class RateLimit:
    """At most `attempts` failed sign-ins per key in any `window`; kept in memory (per process).

    Pure apart from the lock: the caller passes the time, so the rule can be tested as such.
    """

    def __init__(self, attempts: int, window: dt.timedelta) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[dt.datetime]] = {}
        self._lock = threading.Lock()

    def allowed(self, key: str, now: dt.datetime) -> bool:
        with self._lock:
            recent = self._recent(key, now)
            return len(recent) < self.attempts

    def failed(self, key: str, now: dt.datetime) -> None:
        with self._lock:
            self._recent(key, now).append(now)

    def cleared(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: dt.datetime) -> deque[dt.datetime]:
        recent = self._failures.setdefault(key, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        return recent
