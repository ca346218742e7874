"""Every error the application layer raises, and the domain's errors the entry points answer for.

Two trees, one per layer, each with a stable `code` and a Chinese `message` a person can act on:
`DomainError` (the aggregates' rules, `domain.errors` and beside the aggregates) and
`ApplicationError` (this module: who is calling, what is missing, who got there first). The
entry points import both from here and map them by class, never by code: `duban.api.errors`
to HTTP statuses, `duban.cli.common` to exit codes.
"""

from __future__ import annotations

from domain.errors import (
    DomainError,
    ExtensionDateNotLater,
    Forbidden,
    NoDeadline,
    TaskNotFound,
)
from domain.token import InvalidTokenRequest, TokenNotFound

__all__ = [
    "ApplicationError",
    "Conflict",
    "DomainError",
    "ExtensionDateNotLater",
    "Forbidden",
    "InvalidRequest",
    "InvalidTokenRequest",
    "NoDeadline",
    "PlanNotFound",
    "SweepError",
    "TaskNotFound",
    "TokenNotFound",
    "Unauthenticated",
    "UserError",
]


class ApplicationError(Exception):
    """A request the application cannot carry out as asked, whatever the aggregates say."""

    code = "application_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(ApplicationError):
    """No token, a malformed, unknown or revoked one: the caller is nobody."""

    code = "unauthenticated"


class Conflict(ApplicationError):
    """Another writer changed the task first and the command no longer applies."""

    code = "conflict"


class PlanNotFound(ApplicationError):
    code = "plan_not_found"


class InvalidRequest(ApplicationError):
    """Input that passes the schema but not a rule of the command (e.g. a missing unit)."""

    code = "invalid_request"


class SweepError(ApplicationError):
    """The sweep could not write after repeated conflicts (the store is too busy)."""

    code = "sweep_gave_up"


# What the entry points catch: an error a person can act on, with its code and message.
UserError = DomainError | ApplicationError
