"""前置初审 endpoints: units submit major reform plans, the office reviews them, everyone reads."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter

from domain.errors import DomainError
from domain.plan_review import PlanReview
from domain.roles import Forbidden, Identity, authorize
from duban.api.deps import Caller, Ctx
from duban.api.errors import InvalidRequest
from duban.api.schemas import PlanCode, PlanView, ReviewPlan, SubmitPlan
from duban.app.ledger import Ledger

__all__ = ["PlanNotFound", "router"]

router = APIRouter(tags=["plans"])


class PlanNotFound(DomainError):
    code = "plan_not_found"


def _plan(ledger: Ledger, plan_code: str) -> PlanView:
    try:
        plan: PlanReview = ledger.repository.get(PlanReview.create_id(plan_code))
    except AggregateNotFoundError:
        raise PlanNotFound(f"没有编号为 {plan_code} 的方案") from None
    state: dict[str, Any] = {name: getattr(plan, name) for name in PlanView.model_fields}
    return PlanView.model_validate(state)


def _plan_codes(ledger: Ledger) -> list[str]:
    return [submitted.plan_code for _, submitted in ledger.events_of(PlanReview.Submitted)]


def _submitting_unit(body: SubmitPlan, who: Identity) -> str:
    if who.role == "liaison":
        if body.unit not in (None, who.unit):
            raise Forbidden(f"联络员（{who.unit}）只能报送本单位的方案")
        return str(who.unit)
    if body.unit is None:
        raise InvalidRequest("body.unit：请指明报送方案的单位")
    return body.unit


@router.get("/plans", summary="前置初审方案列表 plans under pre-review")
def plans(ctx: Ctx, who: Caller) -> list[PlanView]:
    authorize(who, "read")
    return [_plan(ctx.ledger, code) for code in _plan_codes(ctx.ledger)]


@router.get("/plans/{plan_code}", summary="方案详情 one plan with its review opinions")
def plan(plan_code: PlanCode, ctx: Ctx, who: Caller) -> PlanView:
    authorize(who, "read")
    return _plan(ctx.ledger, plan_code)


@router.post("/plans", status_code=201, summary="报送方案 submit a plan for pre-review")
def submit_plan(body: SubmitPlan, ctx: Ctx, who: Caller) -> PlanView:
    authorize(who, "submit_plan")
    unit = _submitting_unit(body, who)
    ctx.ledger.submit_plan(body.plan_code, body.title, unit, body.task_code, who)
    return _plan(ctx.ledger, body.plan_code)


@router.post("/plans/{plan_code}/reviews", summary="初审意见 review: opinion, approve, return")
def review_plan(plan_code: PlanCode, body: ReviewPlan, ctx: Ctx, who: Caller) -> PlanView:
    authorize(who, "review_plan")
    _plan(ctx.ledger, plan_code)
    ctx.ledger.review_plan(plan_code, body.verdict, body.text, who)
    return _plan(ctx.ledger, plan_code)
