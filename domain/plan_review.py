"""前置初审: a major reform plan is reviewed by the office before it goes to the committee."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent, event

from domain.errors import PlanReviewError
from domain.ids import natural_id

__all__ = ["PlanReview", "PlanStatus"]


class PlanStatus:
    SUBMITTED = "submitted"  # 已报送
    IN_REVIEW = "in_review"  # 审核中
    APPROVED = "approved"  # 已通过
    RETURNED = "returned"  # 已退回


class PlanReview(Aggregate):
    """One plan (改革方案) through pre-review: submitted → opinions → approved or returned."""

    # The event classes the @event decorators below create (typed for dispatch and scans).
    Submitted: ClassVar[type[DomainEvent]]
    OpinionAdded: ClassVar[type[DomainEvent]]
    Approved: ClassVar[type[DomainEvent]]
    Returned: ClassVar[type[DomainEvent]]

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
    ) -> None:
        self.plan_code = plan_code
        self.title = title
        self.unit = unit
        self.task_code = task_code
        self.status = PlanStatus.SUBMITTED
        self.opinions: list[dict[str, str]] = []

    def add_opinion(self, text: str, actor: str, at: dt.datetime) -> None:
        self._require_under_review()
        self._opinion_added(text=text, actor=actor, at=at)

    def approve(self, reason: str, actor: str, at: dt.datetime) -> None:
        self._require_under_review()
        self._approved(reason=reason, actor=actor, at=at)

    def return_plan(self, reason: str, actor: str, at: dt.datetime) -> None:
        self._require_under_review()
        self._returned(reason=reason, actor=actor, at=at)

    def _require_under_review(self) -> None:
        if self.status not in (PlanStatus.SUBMITTED, PlanStatus.IN_REVIEW):
            raise PlanReviewError(f"方案 {self.plan_code} 不在审核中（当前：{self.status}）")

    @event("OpinionAdded")
    def _opinion_added(self, text: str, actor: str, at: dt.datetime) -> None:
        self.status = PlanStatus.IN_REVIEW
        self.opinions.append({"by": actor, "text": text})

    @event("Approved")
    def _approved(self, reason: str, actor: str, at: dt.datetime) -> None:
        self.status = PlanStatus.APPROVED

    @event("Returned")
    def _returned(self, reason: str, actor: str, at: dt.datetime) -> None:
        self.status = PlanStatus.RETURNED
