"""前置初审 endpoints: units submit major reform plans, the office reviews them, everyone reads.

The rules (who submits for which unit, what a review may do) are the ledger's
(`duban.app.plan_reviews`); these routes only translate HTTP.
"""

from __future__ import annotations

from fastapi import APIRouter

from duban.api.deps import Caller, ConfirmingRoute, Ctx
from duban.api.schemas import PlanCode, PlanView, ResubmitPlan, ReviewPlan, SubmitPlan
from duban.app.notices import queue_notices_now

__all__ = ["router"]

router = APIRouter(tags=["plans"], route_class=ConfirmingRoute)


@router.get("/plans", summary="前置初审方案列表 plans under pre-review")
def plans(ctx: Ctx, who: Caller) -> list[PlanView]:
    return [PlanView.model_validate(plan) for plan in ctx.ledger.plans(who)]


@router.get("/plans/{plan_code}", summary="方案详情 one plan with its review opinions")
def plan(plan_code: PlanCode, ctx: Ctx, who: Caller) -> PlanView:
    return PlanView.model_validate(ctx.ledger.plan(plan_code, who))


@router.post("/plans", status_code=201, summary="报送方案 submit a plan for pre-review")
def submit_plan(body: SubmitPlan, ctx: Ctx, who: Caller) -> PlanView:
    ctx.ledger.submit_plan(
        body.plan_code,
        body.title,
        body.unit,
        body.task_code,
        who,
        milestone=body.milestone,
        text=body.text,
    )
    return PlanView.model_validate(ctx.ledger.plan(body.plan_code, who))


@router.post(
    "/plans/{plan_code}/versions", summary="重新报送 resubmit a returned plan as its next version"
)
def resubmit_plan(plan_code: PlanCode, body: ResubmitPlan, ctx: Ctx, who: Caller) -> PlanView:
    ctx.ledger.resubmit_plan(plan_code, body.title, body.text, who)
    return PlanView.model_validate(ctx.ledger.plan(plan_code, who))


@router.post("/plans/{plan_code}/reviews", summary="初审意见 review: opinion, approve, return")
def review_plan(plan_code: PlanCode, body: ReviewPlan, ctx: Ctx, who: Caller) -> PlanView:
    ctx.ledger.review_plan(plan_code, body.verdict, body.text, who)
    queue_notices_now(ctx.reads.services)  # an approval or a return reaches the unit at once
    return PlanView.model_validate(ctx.ledger.plan(plan_code, who))
