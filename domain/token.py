"""访问令牌: a bearer token that binds an API caller to a role (and, for liaisons, a unit).

The token itself is shown once, when it is issued, and never stored: the aggregate keeps only
its SHA-256 digest. Issue and revocation are events with the actor, the time and the reason,
so an auditor can see who could act as whom, and since when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent, event

from domain.errors import DomainError
from domain.ids import natural_id
from domain.roles import Identity, Role

__all__ = [
    "ISSUABLE_ROLES",
    "AccessToken",
    "InvalidTokenRequest",
    "TokenAlreadyRevoked",
    "TokenDirectory",
    "TokenError",
    "TokenNotFound",
    "token_aggregate_id",
]

ISSUABLE_ROLES: tuple[Role, ...] = ("office", "liaison", "official", "auditor")
_DEFAULT_NAMES = {"office": "改革办", "auditor": "督查"}
UNNAMED_LIAISON = "联络员"  # a liaison token issued without --name: bound to the unit only


class TokenError(DomainError):
    code = "token_error"


class InvalidTokenRequest(TokenError):
    """The role and its binding do not fit together (a liaison without a unit, …)."""

    code = "invalid_token_request"


class TokenNotFound(TokenError):
    code = "token_not_found"


class TokenAlreadyRevoked(TokenError):
    code = "token_already_revoked"


def token_aggregate_id(token_id: str) -> UUID:
    return natural_id("token", token_id)


def binding(role: str, name: str | None, unit: str | None) -> tuple[Role, str, str | None]:
    """The (role, name, unit) a token may be issued for; raises `InvalidTokenRequest`."""
    if role not in ISSUABLE_ROLES:
        raise InvalidTokenRequest(
            f"无法为角色 {role} 签发令牌（可选：{'、'.join(ISSUABLE_ROLES)}）"
        )
    if role == "liaison" and not unit:
        raise InvalidTokenRequest("联络员令牌必须指定所在单位（--unit）")
    if role != "liaison" and unit:
        raise InvalidTokenRequest("只有联络员令牌绑定单位")
    if role == "official" and not name:
        raise InvalidTokenRequest("领衔领导令牌必须指定姓名（--name），以对应其领衔的任务")
    return role, name or _DEFAULT_NAMES.get(role, UNNAMED_LIAISON), unit or None


@dataclass(frozen=True)
class TokenDirectory:
    """Who a token may be bound to: the directory's units with their liaisons' names, and its
    leading officials (the config is its source; `duban init` records its changes)."""

    units: Mapping[str, frozenset[str]]
    officials: frozenset[str]

    def refusal(self, role: str, name: str, unit: str | None) -> str | None:
        """Why a token bound to (role, name, unit) cannot speak for anyone; None if it can.
        Office and auditor tokens name no directory entry; a liaison token without a name
        is bound to its unit only."""
        if role == "liaison":
            if unit is None or unit not in self.units:
                return f"单位「{unit}」不在名录中"
            if name != UNNAMED_LIAISON and name not in self.units[unit]:
                return f"{name} 不在名录中{unit}的联络员之列"
        if role == "official" and name not in self.officials:
            return f"领衔领导「{name}」不在名录中"
        return None


class AccessToken(Aggregate):
    """One issued token: who it speaks for, the digest that proves it, and whether it is revoked."""

    # The event classes the @event decorators below create (typed for dispatch and scans).
    Issued: ClassVar[type[DomainEvent]]
    Revoked: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(token_id: str) -> UUID:
        return token_aggregate_id(token_id)

    @event("Issued")
    def __init__(
        self,
        token_id: str,
        role: str,
        name: str,
        unit: str | None,
        digest: str,
        actor: str,
        at: dt.datetime,
        reason: str,
    ) -> None:
        self.token_id = token_id
        self.role = role
        self.name = name
        self.unit = unit
        self.digest = digest
        self.issued_by = actor
        self.issued_at = at
        self.revoked_by: str | None = None
        self.revoked_at: dt.datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def identity(self) -> Identity:
        role, name, unit = binding(self.role, self.name, self.unit)
        return Identity(role=role, name=name, unit=unit)

    def revoke(self, reason: str, actor: str, at: dt.datetime) -> None:
        if self.revoked:
            raise TokenAlreadyRevoked(f"令牌 {self.token_id} 已于 {self.revoked_at} 吊销")
        self._revoked(reason=reason, actor=actor, at=at)

    @event("Revoked")
    def _revoked(self, reason: str, actor: str, at: dt.datetime) -> None:
        self.revoked_by = actor
        self.revoked_at = at
