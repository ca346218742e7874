"""Bearer tokens for the HTTP API: issue, revoke, list, and turn a presented token into an Identity.

A token reads `dbn_<token_id>_<secret>`. The public `token_id` names the `AccessToken` aggregate,
so checking a token is one small read; only the SHA-256 digest of the whole token is stored.
A registry keeps the identities it has checked (`duban.app.people_watch.ChangeWatch`, keyed by
the digest) and re-checks them per request with two small reads that notice any token or
person event recorded since, by any process: a revocation or a disabled person takes effect on
the next request, a token issued elsewhere works at once.

The directory (`domain.token.TokenDirectory`, from the config: `duban.app.reconcile.
token_directory`) is the source of truth for bindings: a token is issued only for a unit, a
liaison or an official it lists, and a presented token whose unit or person it no longer lists
is refused at request time. A running server reads the config when it starts: after removing a
unit, run `duban init` (which records the removal and revokes the tokens) and restart it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.person import Person
from domain.roles import Identity, authorize
from domain.token import (
    AccessToken,
    InvalidTokenRequest,
    TokenDirectory,
    TokenNotFound,
    binding,
    token_aggregate_id,
)
from duban.app.errors import Unauthenticated
from duban.app.ledger import Ledger
from duban.app.people_watch import ChangeWatch, event_topics
from duban.app.reconcile import token_directory
from duban.app.services import Services

__all__ = ["IssuedToken", "TokenRegistry", "digest", "token_id_of"]

PREFIX = "dbn"
_SHAPE = re.compile(rf"^{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_\-]{{20,100}})$")


@dataclass(frozen=True)
class IssuedToken:
    """The one moment the token exists in clear: hand it over, then forget it."""

    token_id: str
    token: str
    role: str
    name: str
    unit: str | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_id_of(token: str) -> str | None:
    match = _SHAPE.match(token)
    return match.group(1) if match else None


class TokenRegistry:
    """Token administration for the office, and token checking for every API request."""

    def __init__(self, ledger: Ledger, directory: TokenDirectory | None = None) -> None:
        """`directory` None only where no config exists (tools and tests that issue tokens
        straight into a store): the entry points always pass the config's."""
        self.ledger = ledger
        self.directory = directory
        self.known: ChangeWatch[Identity] = ChangeWatch(
            ledger.recorder, event_topics((AccessToken, Person))
        )

    @classmethod
    def of(cls, services: Services) -> TokenRegistry:
        """The registry of a running process: its store, bound to its config's directory."""
        return cls(services.ledger, token_directory(services.config))

    def issue(
        self, role: str, name: str | None, unit: str | None, who: Identity, reason: str = ""
    ) -> IssuedToken:
        authorize(who, "admin")
        role_, name_, unit_ = binding(role, name, unit)
        refusal = self._refusal(role_, name_, unit_)
        if refusal is not None:
            raise InvalidTokenRequest(
                f"无法签发令牌：{refusal}（请先在配置文件中登记，并运行 duban init）"
            )
        while True:
            token_id = secrets.token_hex(6)
            token = f"{PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
            record = AccessToken(
                token_id=token_id, role=role_, name=name_, unit=unit_, digest=digest(token),
                actor=who.actor, at=self.ledger.clock(), reason=reason or "签发访问令牌",
            )  # fmt: skip
            try:
                self.ledger.save(record)
            except IntegrityError:  # the same 48-bit id drawn twice: draw again
                continue
            return IssuedToken(token_id, token, role_, name_, unit_)

    def revoke(self, token_id: str, who: Identity, reason: str = "") -> dict[str, Any]:
        authorize(who, "admin")
        record = self._require(token_id)
        record.revoke(reason or "吊销访问令牌", who.actor, self.ledger.clock())
        self.ledger.save(record)
        return describe(record)

    def token(self, token_id: str, who: Identity) -> dict[str, Any]:
        authorize(who, "admin")
        return describe(self._require(token_id))

    def tokens(self, who: Identity) -> list[dict[str, Any]]:
        """Every token ever issued, oldest first, without anything that could be used to act."""
        authorize(who, "admin")
        found: list[dict[str, Any]] = []
        for _, issued in self.ledger.events_of(AccessToken.Issued):
            record = self._get(issued.token_id)
            if record is not None:
                found.append(describe(record))
        return found

    def identify(self, presented: str | None) -> Identity:
        """The identity a presented token speaks for, acting through it (`Identity.via`);
        raises `Unauthenticated` otherwise."""
        if not presented:
            raise Unauthenticated("缺少访问令牌：请在 Authorization 头中提供 Bearer 令牌")
        position = self.known.position()  # before anything is loaded (`ChangeWatch`)
        key = digest(presented)
        known = self.known.get(key)
        if known is not None:
            return known
        found = self._identify(presented)
        self.known.remember(key, found, position)
        return found

    def cached(self, presented: str | None) -> Identity | None:
        """The identity last worked out for this token, *not* checked against the store since:
        no I/O, for the event loop to let a known token's request through (its body may be
        read); `identify` must still confirm it before the request acts or reads anything."""
        return self.known.get(digest(presented)) if presented else None

    def _identify(self, presented: str) -> Identity:
        token_id = token_id_of(presented)
        record = self._get(token_id) if token_id else None
        if record is None or not hmac.compare_digest(record.digest, digest(presented)):
            raise Unauthenticated("访问令牌无效")
        refusal = self._refusal(record.role, record.name, record.unit)
        if refusal is not None:
            raise Unauthenticated(f"{refusal}，令牌已失效")
        if record.revoked:
            raise Unauthenticated("访问令牌已吊销")
        identity = record.identity()
        if self._disabled(identity):
            raise Unauthenticated("该人员已被停用，令牌已失效")
        return identity.through("token", record.token_id)  # what its actions record

    def _refusal(self, role: str, name: str, unit: str | None) -> str | None:
        return None if self.directory is None else self.directory.refusal(role, name, unit)

    def _disabled(self, identity: Identity) -> bool:
        """A token is bound to its person's account: disabling the person ends it too (one
        small read; a person never invited has no account and keeps the token's binding)."""
        try:
            person: Person = self.ledger.repository.get(Person.create_id(identity.actor))
        except AggregateNotFoundError:
            return False
        return not person.active

    def _require(self, token_id: str) -> AccessToken:
        record = self._get(token_id)
        if record is None:
            raise TokenNotFound(f"没有编号为 {token_id} 的令牌")
        return record

    def _get(self, token_id: str) -> AccessToken | None:
        try:
            record: AccessToken = self.ledger.repository.get(token_aggregate_id(token_id))
        except AggregateNotFoundError:
            return None
        return record


def describe(record: AccessToken) -> dict[str, Any]:
    return {
        "token_id": record.token_id,
        "role": record.role,
        "name": record.name,
        "unit": record.unit,
        "issued_by": record.issued_by,
        "issued_at": record.issued_at,
        "revoked": record.revoked,
        "revoked_by": record.revoked_by,
        "revoked_at": record.revoked_at,
    }
