"""The domain's error hierarchy: every illegal transition has a named error a person can act on.

Every error has a stable `code` (what the API answers as `error`) and a Chinese `message`.
The aggregates that have errors of their own keep them beside them (`domain.token`,
`domain.report_round`), all subclasses of `DomainError`. The application layer's errors are in
`duban.app.errors`; the entry points map both to HTTP statuses and exit codes by class.
"""

from __future__ import annotations

__all__ = [
    "AlreadyClaimed",
    "CompletionAlreadySubmitted",
    "CompletionNotSubmitted",
    "DomainError",
    "ExtensionAlreadyPending",
    "ExtensionDateNotLater",
    "Forbidden",
    "MilestoneAlreadyClosed",
    "MilestoneNotFound",
    "MilestoneNotYours",
    "NoDeadline",
    "NoPendingExtension",
    "NotClaimed",
    "PlanReviewError",
    "TaskClosed",
    "TaskNotFound",
]


class DomainError(Exception):
    """A command that the current state of an aggregate does not allow."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Forbidden(DomainError):
    """The acting role may not do this (`domain.roles.authorize`)."""

    code = "forbidden"


class TaskNotFound(DomainError):
    code = "task_not_found"


class TaskClosed(DomainError):
    """The task is completed (销号) or cancelled: nothing more can happen to it."""

    code = "task_closed"


class AlreadyClaimed(DomainError):
    code = "already_claimed"


class NotClaimed(DomainError):
    code = "not_claimed"


class NoDeadline(DomainError):
    """Ongoing tasks (持续推进) have no deadline to extend."""

    code = "no_deadline"


class ExtensionDateNotLater(DomainError):
    code = "extension_date_not_later"


class ExtensionAlreadyPending(DomainError):
    code = "extension_already_pending"


class NoPendingExtension(DomainError):
    code = "no_pending_extension"


class CompletionNotSubmitted(DomainError):
    code = "completion_not_submitted"


class CompletionAlreadySubmitted(DomainError):
    code = "completion_already_submitted"


class PlanReviewError(DomainError):
    code = "plan_review_error"


class MilestoneNotFound(DomainError):
    """The task has no 阶段节点 of that name."""

    code = "milestone_not_found"


class MilestoneAlreadyClosed(DomainError):
    code = "milestone_already_closed"


class MilestoneNotYours(DomainError):
    """Only the lead unit (or the office) says a 阶段节点 is reached."""

    code = "milestone_not_yours"
