"""People of the web workspace: invitations, sign-in, browser sessions, and the office's list.

Built like `duban.app.access.TokenRegistry`; the secrets and the rate limit live in
`duban.app.people_keys`, the lookups in `duban.app.people_directory`, the plain data handed
out in `duban.app.people_views` (all importable from here). Someone the directory no longer
lists is refused at sign-in and on every request, like a token.

Sign-in goes through a `SignInMethod` (an invitation link or a password): the platforms'
免登/OAuth can be added as another one later.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

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
from duban.app.ledger import Ledger
from duban.app.people_directory import PeopleRecords
from duban.app.people_keys import (
    INVITATION_PREFIX,
    SESSION_PREFIX,
    RateLimit,
    SignInRefused,
    digest,
    new_secret,
    shape_id,
)
from duban.app.people_views import (
    IssuedInvitation,
    OpenSession,
    describe_person,
    describe_session,
)
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
    "describe_person",
    "describe_session",
    "digest",
    "shape_id",
]

DEFAULT_ADDRESS = "http://127.0.0.1:8000"
_ROLE_NAMES = {
    "office": "县委改革办",
    "liaison": "联络员",
    "official": "领衔领导",
    "auditor": "审计",
}


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


class PeopleRegistry(PeopleRecords):
    """The office's people administration, sign-in, and session checking for every page."""

    def __init__(self, ledger: Ledger, config: Config) -> None:
        super().__init__(ledger, config)
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
            public, token = new_secret(INVITATION_PREFIX)
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
        public, cookie = new_secret(SESSION_PREFIX)
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
