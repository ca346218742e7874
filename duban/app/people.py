"""People of the web workspace: invitations, sign-in, browser sessions, and the office's list.

Built like `duban.app.access.TokenRegistry`. An invitation link reads `dbi_<id>_<secret>`, a
session cookie `dbs_<id>_<secret>`; the public id names the aggregate, so checking one is one
small read, and only the SHA-256 digest of the whole value is stored.

Liaisons and officials come from the config's directory (a `Person` is recorded when they are
first invited); the office adds its own staff and auditors. Someone the directory no longer lists
is refused at sign-in and on every request, like a token.

Sign-in goes through a `SignInMethod` (an invitation link or a password): the platforms'
免登/OAuth can be added as another one later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.person import (
    ADDABLE_ROLES,
    Invitation,
    Person,
    PersonError,
    WebSecret,
    WebSession,
    invitation_refusal,
    password_matches,
)
from domain.roles import Identity, authorize
from domain.token import TokenDirectory
from duban.app.ledger import Ledger
from duban.app.reconcile import token_directory
from duban.app.services import Services
from duban.settings.config import Config

__all__ = [
    "IssuedInvitation",
    "OpenSession",
    "PeopleRegistry",
    "PersonError",
    "RateLimit",
    "SignInMethod",
    "SignInRefused",
    "shape_id",
]

INVITATION_PREFIX = "dbi"
SESSION_PREFIX = "dbs"
DEFAULT_ADDRESS = "http://127.0.0.1:8000"
_ROLE_NAMES = {
    "office": "县委改革办",
    "liaison": "联络员",
    "official": "领衔领导",
    "auditor": "审计",
}


class SignInRefused(PersonError):
    """An invitation, a password or a session that does not sign anyone in (reason in Chinese)."""

    code = "sign_in_refused"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def shape_id(prefix: str, value: str | None) -> str | None:
    """The public id of a `<prefix>_<12hex>_<secret>` value, or None if it is not one."""
    found = re.match(rf"^{prefix}_([0-9a-f]{{12}})_([A-Za-z0-9_\-]{{20,100}})$", value or "")
    return found.group(1) if found else None


def _new(prefix: str) -> tuple[str, str]:
    public = secrets.token_hex(6)
    return public, f"{prefix}_{public}_{secrets.token_urlsafe(32)}"


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


class SignInMethod(Protocol):
    """One way of proving who one is; returns the `Person` it signs in (or raises
    `SignInRefused`). `how` is what the session's Opened event records."""

    @property
    def how(self) -> str: ...

    def person(self, registry: PeopleRegistry, client: str) -> Person: ...


@dataclass(frozen=True)
class InvitationLink:
    token: str
    how: str = "invitation"

    def person(self, registry: PeopleRegistry, client: str) -> Person:
        return registry._redeemable(self.token)


@dataclass(frozen=True)
class PasswordSignIn:
    login: str
    password: str
    how: str = "password"

    def person(self, registry: PeopleRegistry, client: str) -> Person:
        return registry._password_person(self.login, self.password, client)


class PeopleRegistry:
    """The office's people administration, sign-in, and session checking for every page."""

    def __init__(self, ledger: Ledger, config: Config) -> None:
        self.ledger = ledger
        self.config = config
        self.directory: TokenDirectory = token_directory(config)
        web = config.web
        self.limit = RateLimit(web.signin_attempts, dt.timedelta(minutes=web.signin_window_minutes))
        self._secret: bytes | None = None

    @classmethod
    def of(cls, services: Services) -> PeopleRegistry:
        return cls(services.ledger, services.config)

    # ---- the office's administration ------------------------------------------------------

    def invite(self, person: str, who: Identity, address: str | None = None) -> IssuedInvitation:
        """A one-time link for `person` (a liaison's name or mobile, an official's name, or an
        added person's login), valid for `config.web.invitation_hours`."""
        authorize(who, "admin")
        record = self._person_for(person, who)
        if not record.active:
            raise PersonError(f"{record.name} 已停用，不能邀请")
        now = self.ledger.clock()
        expires = now + dt.timedelta(hours=self.config.web.invitation_hours)
        base = (self.config.web.public_url or address or DEFAULT_ADDRESS).rstrip("/")
        while True:
            public, token = _new(INVITATION_PREFIX)
            invitation = Invitation(
                invitation_id=public, person=record.actor_key, digest=digest(token),
                expires_at=expires, actor=who.actor, at=now,
            )  # fmt: skip
            try:
                self.ledger.save(*([record] if record.pending_events else []), invitation)
            except IntegrityError:  # the same 48-bit id drawn twice: draw again
                continue
            link = f"{base}/invite?t={token}"
            return IssuedInvitation(public, link, record.actor_key, record.name, expires)

    def add(
        self, role: str, name: str, login: str, who: Identity, reason: str = ""
    ) -> dict[str, Any]:
        """An office member or an auditor (the others come from the directory)."""
        authorize(who, "admin")
        if role not in ADDABLE_ROLES:
            raise PersonError("只能添加县委改革办工作人员或审计人员；联络员和领衔领导来自名录")
        if not name.strip() or not re.match(r"^[^\s:/]{2,40}$", login):
            raise PersonError("请填写姓名，登录名须为 2 到 40 个字符且不含空格、冒号或斜杠")
        if self._by_login(login) is not None or self._directory_login(login) is not None:
            raise PersonError(f"登录名「{login}」已被使用")
        identity = Identity(role=role, name=name.strip())
        if self._get(identity.actor) is not None:
            raise PersonError(f"{_ROLE_NAMES[role]}「{name}」已存在")
        record = self._new_person(identity, login, who, reason or "添加人员")
        self.ledger.save(record)
        return describe_person(record)

    def disable(self, person: str, who: Identity, reason: str = "") -> dict[str, Any]:
        """Stop a person signing in; every open session of theirs is revoked at once."""
        authorize(who, "admin")
        record = self._find(person)
        if record is None:
            raise PersonError(f"没有找到「{person}」（请写姓名、手机号或登录名）")
        now = self.ledger.clock()
        record.disable(reason or "停用", who.actor, now)
        sessions = [s for s in self._sessions() if s.person == record.actor_key and s.live(now)]
        for session in sessions:
            session.revoke("人员已停用", who.actor, now)
        self.ledger.save(record, *sessions)
        return describe_person(record)

    def people(self, who: Identity) -> list[dict[str, Any]]:
        authorize(who, "admin")
        return [describe_person(p) for p in self._people()]

    def sessions(self, who: Identity) -> list[dict[str, Any]]:
        authorize(who, "admin")
        now = self.ledger.clock()
        return [describe_session(s, now) for s in self._sessions()]

    def revoke(self, session_id: str, who: Identity, reason: str = "") -> dict[str, Any]:
        """Revoke one session (the office's `duban session revoke`)."""
        authorize(who, "admin")
        session = self._session(session_id)
        if session is None:
            raise PersonError(f"没有编号为 {session_id} 的登录会话")
        session.revoke(reason or "注销登录会话", who.actor, self.ledger.clock())
        self.ledger.save(session)
        return describe_session(session, self.ledger.clock())

    # ---- signing in and out ---------------------------------------------------------------

    def redeem(self, token: str, client: str = "") -> OpenSession:
        """A session for the person an unused, unexpired invitation names; the link is spent."""
        return self.sign_in_with(InvitationLink(token), client)

    def sign_in(self, login: str, password: str, client: str = "") -> OpenSession:
        return self.sign_in_with(PasswordSignIn(login, password), client)

    def sign_in_with(self, method: SignInMethod, client: str) -> OpenSession:
        person = method.person(self, client)
        self._check_listed(person)
        now = self.ledger.clock()
        expires = now + dt.timedelta(hours=self.config.web.session_hours)
        public, cookie = _new(SESSION_PREFIX)
        who = person.identity()
        session = WebSession(
            session_id=public, person=person.actor_key, role=who.role, name=who.name,
            unit=who.unit, digest=digest(cookie), how=method.how, at=now, expires_at=expires,
        )  # fmt: skip
        spent = self._spend_invitation(method, public, now)
        self.ledger.save(session, *spent)
        return OpenSession(public, who, person.actor_key, expires, cookie)

    def sign_out(self, cookie: str | None) -> None:
        found = self.session(cookie)
        record = self._session(found.session_id) if found else None
        if record is not None and found is not None:
            record.revoke("退出登录", found.identity.actor, self.ledger.clock())
            self.ledger.save(record)

    def set_password(self, who: Identity, password: str) -> str:
        """The signed-in person's own password (for signing in without a new link); returns
        the login to sign in with."""
        record = self._get(who.actor)
        if record is None or not record.active:
            raise PersonError("找不到您的人员记录，请联系县委改革办")
        record.set_password(password, who.actor, self.ledger.clock())
        self.ledger.save(record)
        return record.login

    def session(self, cookie: str | None) -> OpenSession | None:
        """The live session a cookie names (one small read), or None: revoked, expired,
        forged, or its person no longer in the directory."""
        public = shape_id(SESSION_PREFIX, cookie)
        record = self._session(public) if public else None
        if record is None or cookie is None:
            return None
        if not hmac.compare_digest(record.digest, digest(cookie)):
            return None
        who = record.identity()
        if not record.live(self.ledger.clock()) or self._refusal(who) is not None:
            return None
        return OpenSession(record.session_id, who, record.person, record.expires_at)

    def csrf_secret(self) -> bytes:
        """The server's CSRF key: made once in the store, the same for every process."""
        if self._secret is None:
            self._secret = bytes.fromhex(self._stored_secret())
        return self._secret

    # ---- inside -------------------------------------------------------------------------

    def _stored_secret(self) -> str:
        try:
            found: WebSecret = self.ledger.repository.get(WebSecret.create_id())
            return found.key
        except AggregateNotFoundError:
            pass
        made = WebSecret(key=secrets.token_hex(32), at=self.ledger.clock())
        try:
            self.ledger.save(made)
        except IntegrityError:  # another process made it first: use theirs
            again: WebSecret = self.ledger.repository.get(WebSecret.create_id())
            return again.key
        return made.key

    def _redeemable(self, token: str) -> Person:
        public = shape_id(INVITATION_PREFIX, token)
        invitation = self._invitation(public) if public else None
        if invitation is None or not hmac.compare_digest(invitation.digest, digest(token)):
            raise SignInRefused("邀请链接无效。请核对链接是否完整，或联系县委改革办重新发送。")
        refusal = invitation_refusal(invitation.expires_at, invitation.used, self.ledger.clock())
        if refusal is not None:
            raise SignInRefused(refusal)
        person = self._get(invitation.person)
        if person is None or not person.active:
            raise SignInRefused("该人员已停用，邀请链接无效")
        return person

    def _spend_invitation(
        self, method: SignInMethod, session_id: str, now: dt.datetime
    ) -> list[Invitation]:
        if not isinstance(method, InvitationLink):
            return []
        public = shape_id(INVITATION_PREFIX, method.token)
        invitation = self._invitation(public) if public else None
        if invitation is None:
            raise SignInRefused("邀请链接无效")
        try:
            invitation.redeem(session_id, now)
        except PersonError as exc:
            raise SignInRefused(str(exc)) from exc
        return [invitation]

    def _password_person(self, login: str, password: str, client: str) -> Person:
        key = f"{login}|{client}"
        now = self.ledger.clock()
        if not self.limit.allowed(key, now):
            minutes = self.config.web.signin_window_minutes
            raise SignInRefused(f"登录失败次数过多，请 {minutes} 分钟后再试")
        person = self._by_login(login.strip())
        stored = person.password if person is not None else None
        if person is None or not person.active or not password_matches(password, stored):
            self.limit.failed(key, now)
            raise SignInRefused("登录名或密码不正确")
        self.limit.cleared(key)
        return person

    def _check_listed(self, person: Person) -> None:
        refusal = self._refusal(person.identity())
        if refusal is not None:
            raise SignInRefused(f"{refusal}，不能登录")

    def _refusal(self, who: Identity) -> str | None:
        if who.role in ("liaison", "official"):
            return self.directory.refusal(who.role, who.name, who.unit)
        return None

    def _person_for(self, spec: str, who: Identity) -> Person:
        """The person `spec` names; a directory entry invited for the first time is created."""
        found = self._find(spec)
        if found is not None:
            return found
        entry = self._directory_entry(spec)
        if entry is None:
            raise PersonError(
                f"名录中没有「{spec}」：请写联络员的姓名或手机号、领衔领导的姓名，"
                "或用 duban person add 添加的登录名"
            )
        identity, login = entry
        return self._new_person(identity, login, who, "首次邀请，来自名录")

    def _find(self, spec: str) -> Person | None:
        entry = self._directory_entry(spec)
        if entry is not None:
            return self._get(entry[0].actor)
        return self._by_login(spec)

    def _directory_entry(self, spec: str) -> tuple[Identity, str] | None:
        """(identity, login) of the liaison or official `spec` names; a name two units share
        must be given as the mobile."""
        spec = spec.strip()
        found: list[tuple[Identity, str]] = []
        for unit in self.config.units:
            for liaison in unit.liaisons:
                if spec in (liaison.name, liaison.mobile):
                    who = Identity(role="liaison", name=liaison.name, unit=unit.name)
                    found.append((who, liaison.mobile))
        for official in self.config.officials:
            if spec == official.name or (official.mobile and spec == official.mobile):
                found.append(
                    (
                        Identity(role="official", name=official.name),
                        official.mobile or official.name,
                    )
                )
        if len(found) > 1:
            units = "、".join(who.unit or "领衔领导" for who, _ in found)
            raise PersonError(f"名录中有多位「{spec}」（{units}），请改用手机号")
        return found[0] if found else None

    def _directory_login(self, login: str) -> Identity | None:
        try:
            entry = self._directory_entry(login)
        except PersonError:
            return None
        return entry[0] if entry else None

    def _new_person(self, identity: Identity, login: str, who: Identity, reason: str) -> Person:
        return Person(
            actor_key=identity.actor, role=identity.role, name=identity.name, unit=identity.unit,
            login=login, actor=who.actor, at=self.ledger.clock(), reason=reason,
        )  # fmt: skip

    def _by_login(self, login: str) -> Person | None:
        entry = self._directory_login(login)
        if entry is not None:
            return self._get(entry.actor)
        for person in self._people():
            if person.login == login:
                return person
        return None

    def _people(self) -> list[Person]:
        keys = dict.fromkeys(added.actor_key for _, added in self.ledger.events_of(Person.Added))
        return [p for p in (self._get(key) for key in keys) if p is not None]

    def _sessions(self) -> list[WebSession]:
        ids = [opened.session_id for _, opened in self.ledger.events_of(WebSession.Opened)]
        return [s for s in (self._session(i) for i in ids) if s is not None]

    def _get(self, actor_key: str) -> Person | None:
        found = self._read(Person.create_id(actor_key))
        return found if isinstance(found, Person) else None

    def _session(self, session_id: str) -> WebSession | None:
        found = self._read(WebSession.create_id(session_id))
        return found if isinstance(found, WebSession) else None

    def _invitation(self, invitation_id: str) -> Invitation | None:
        found = self._read(Invitation.create_id(invitation_id))
        return found if isinstance(found, Invitation) else None

    def _read(self, aggregate_id: UUID) -> object:
        try:
            found: object = self.ledger.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found


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
