"""前置初审: a major reform plan is reviewed by the office before it goes to the committee."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent, event

from domain.errors import PlanReviewError
from domain.ids import natural_id

__all__ = ["STATUS_LABELS", "PlanReview", "PlanStatus"]


class PlanStatus:
    SUBMITTED = "submitted"  # 已报送
    IN_REVIEW = "in_review"  # 审核中
    APPROVED = "approved"  # 已通过
    RETURNED = "returned"  # 已退回


STATUS_LABELS = {
    PlanStatus.SUBMITTED: "已报送",
    PlanStatus.IN_REVIEW: "审核中",
    PlanStatus.APPROVED: "已通过",
    PlanStatus.RETURNED: "已退回",
}


class PlanReview(Aggregate):
    """One plan (改革方案) through pre-review: submitted → opinions → approved or returned; a
    returned plan is resubmitted as a new version and reviewed again. Every version (its title,
    text and time) and every review (its kind, reason, reviewer and time) is kept."""

    # The event classes the @event decorators below create (typed for dispatch and scans).
    Submitted: ClassVar[type[DomainEvent]]
    OpinionAdded: ClassVar[type[DomainEvent]]
    Approved: ClassVar[type[DomainEvent]]
    Returned: ClassVar[type[DomainEvent]]
    Resubmitted: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(plan_code: str) -> UUID:
        return natural_id("plan", plan_code)

    @event("Submitted")
    def __init__(
        self,
        plan_code: str,
        title: str,
        unit: str,
        task_code: str | None,
        actor: str,
        at: dt.datetime,
        milestone: str | None = None,
        text: str = "",
        via: str | None = None,
    ) -> None:
        # `milestone`, `text` and `via` (the web session or API token the person acted through,
        # `domain.roles.Identity.via`) came later: plans of older stores replay without them.
        self.plan_code = plan_code
        self.title = title
        self.unit = unit
        self.task_code = task_code
        self.milestone = milestone
        self.status = PlanStatus.SUBMITTED
        self.opinions: list[dict[str, str]] = []
        self.versions: list[dict[str, Any]] = [_version(1, title, text, actor, at)]
        self.reviews: list[dict[str, Any]] = []

    @property
    def revision(self) -> int:
        """The plan's current version number (1 for the first submission)."""
        return len(self.versions)

    def add_opinion(self, text: str, actor: str, at: dt.datetime, via: str | None = None) -> None:
        self._require_under_review()
        self._opinion_added(text=text, actor=actor, at=at, via=via)

    def approve(self, reason: str, actor: str, at: dt.datetime, via: str | None = None) -> None:
        self._require_under_review()
        self._approved(reason=reason, actor=actor, at=at, via=via)

    def return_plan(self, reason: str, actor: str, at: dt.datetime, via: str | None = None) -> None:
        self._require_under_review()
        self._returned(reason=reason, actor=actor, at=at, via=via)

    def resubmit(
        self, title: str, text: str, actor: str, at: dt.datetime, via: str | None = None
    ) -> None:
        """A returned plan, revised, goes back to review as its next version."""
        if self.status != PlanStatus.RETURNED:
            raise PlanReviewError(
                f"方案 {self.plan_code} 当前{STATUS_LABELS[self.status]}，"
                "只有被退回的方案才能修改后重新报送"
            )
        self._resubmitted(title=title, text=text, actor=actor, at=at, via=via)

    def _require_under_review(self) -> None:
        if self.status not in (PlanStatus.SUBMITTED, PlanStatus.IN_REVIEW):
            hint = "，请修改后重新报送" if self.status == PlanStatus.RETURNED else ""
            raise PlanReviewError(
                f"方案 {self.plan_code} 不在审核中（当前：{STATUS_LABELS[self.status]}）{hint}"
            )

    def _review(self, kind: str, reason: str, actor: str, at: dt.datetime) -> None:
        self.reviews.append(
            {"kind": kind, "reason": reason, "by": actor, "at": at, "version": self.revision}
        )

    @event("OpinionAdded")
    def _opinion_added(
        self, text: str, actor: str, at: dt.datetime, via: str | None = None
    ) -> None:
        self.status = PlanStatus.IN_REVIEW
        self.opinions.append({"by": actor, "text": text})
        self._review("opinion", text, actor, at)

    @event("Approved")
    def _approved(self, reason: str, actor: str, at: dt.datetime, via: str | None = None) -> None:
        self.status = PlanStatus.APPROVED
        self._review("approve", reason, actor, at)

    @event("Returned")
    def _returned(self, reason: str, actor: str, at: dt.datetime, via: str | None = None) -> None:
        self.status = PlanStatus.RETURNED
        self._review("return", reason, actor, at)

    @event("Resubmitted")
    def _resubmitted(
        self, title: str, text: str, actor: str, at: dt.datetime, via: str | None = None
    ) -> None:
        self.title = title
        self.status = PlanStatus.SUBMITTED
        self.versions.append(_version(self.revision + 1, title, text, actor, at))


def _version(number: int, title: str, text: str, actor: str, at: dt.datetime) -> dict[str, Any]:
    return {"version": number, "title": title, "text": text, "by": actor, "at": at}
