"""工作台 (`/office`): the office's queues, each item decided in one form with a reason.

Queues: 待签收（逾期）, 待审批延期, 待销号审核, 待前置初审, 待回复批示, 发送失败. A decision
posts to
`/office/...`, then redirects back to `/office` with a Chinese confirmation; a refused decision
shows the queue again with the reason beside that item and what was typed kept.

The office's other pages are in `duban.web.office_admin` (recognitions, 问责),
`duban.web.office_import` (task-list import) and `duban.web.office_people` (people, channels),
whose routers this one includes. Only the office (`admin`) sees them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from duban.app import commands as cmd
from duban.app.errors import ApplicationError, DomainError, Forbidden, InvalidRequest
from duban.app.instructions import InstructionDesk
from duban.app.notices import queue_notices_now
from duban.app.office_desk import PLAN_STATUS_LABELS, failed_deliveries, late_claims, open_request
from duban.app.roles import Identity, authorize
from duban.app.routing import chat_titles
from duban.web import office_admin, office_import, office_people
from duban.web.auth import CsrfForm, Viewer, forbidden_page, render
from duban.web.context import Ctx, WebContext
from duban.web.forms import field, refusal
from duban.web.masked import Unmasked, as_typed

__all__ = ["DONE_TEXTS", "field", "refusal", "router"]

router = APIRouter(include_in_schema=False)
router.include_router(office_admin.router)
router.include_router(office_import.router)
router.include_router(office_people.router)


# What the redirect's `done` code says (the page composes it; no text travels in the URL).
DONE_TEXTS = {
    "granted": "已批准延期",
    "denied": "已驳回延期申请",
    "accepted": "已销号",
    "returned": "已退回销号申请",
    "opinion": "已提出审核意见",
    "approve": "前置初审已通过",
    "return": "方案已退回",
    "recognised": "已登记",
    "measure": "已登记追责问责措施",
    "imported": "任务清单已导入",
    "revoked": "已注销登录会话",
    "added": "已添加人员",
    "tested": "测试消息已送达",
    "untested": "测试消息未送达",
}


def done_url(path: str, done: str, subject: str = "") -> str:
    return f"{path}?{urlencode({'done': done, 'subject': subject})}"


def confirmation(request: Request) -> str | None:
    """「已批准延期：2024-03」 from the redirect's query (its code mapped to our words only)."""
    text = DONE_TEXTS.get(request.query_params.get("done", ""))
    subject = request.query_params.get("subject", "")
    if text is None:
        return None
    return f"{text}：{subject}" if subject else text


def office_only(who: Identity) -> None:
    authorize(who, "admin")


# ---- the queues ---------------------------------------------------------------------------


def _asked(ctx: WebContext, rows: list[dict[str, Any]], kind: str, who: Identity) -> list[Any]:
    items = []
    for row in rows:
        asked = open_request(ctx.ledger, row["code"], who, kind) or {}
        items.append({**row, "asked": asked, "since": _day(asked.get("at"), ctx)})
    return items


def _day(at: Any, ctx: WebContext) -> str:
    if not isinstance(at, dt.datetime):
        return str(at or "")[:10]
    return at.astimezone(ctx.config.tz).date().isoformat()


def queues(ctx: WebContext, who: Identity) -> dict[str, list[Any]]:
    """Every queue's items, in board order (the office's 机构序列)."""
    board = ctx.reads.board()
    today = ctx.reads.today()
    instructions = InstructionDesk(ctx.ledger, ctx.config.tz).listing(who)
    plans = ctx.ledger.plans(who)
    return {
        "claims": late_claims(ctx.reads.services, board, today, who),
        "extensions": _asked(ctx, [r for r in board if r["pending_extension"]], "extension", who),
        "completions": _asked(
            ctx, [r for r in board if r["status"] == "submitted"], "completion", who
        ),
        "plans": [p for p in plans if p["status"] in ("submitted", "in_review")],
        "instructions": [i for i in instructions if not i["answered"]],
        "failed": failed_deliveries(ctx.ledger, who),
    }


def office_page(
    request: Request,
    ctx: WebContext,
    who: Identity,
    problem: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "queues": queues(ctx, who),
        "plan_status": PLAN_STATUS_LABELS,
        "chats": chat_titles(ctx.config),
        "done": confirmation(request),
        "problem": problem or {},
        "fmt_day": lambda at: _day(at, ctx),
        "kept": lambda item, name: _kept(problem or {}, item, name),
    }
    return render(request, "office.html", context, status_code=status_code)


def _kept(problem: Mapping[str, Any], item: str, name: str) -> Unmasked:
    """What was typed into field `name` of item `item`'s refused form, shown as typed (a
    Jinja macro's output would be masked again)."""
    if problem.get("item") != item:
        return Unmasked("")
    return Unmasked(problem.get("form", {}).get(name, ""))


@router.get("/office", response_class=HTMLResponse)
def office(request: Request, ctx: Ctx, who: Viewer) -> HTMLResponse:
    try:
        office_only(who)
    except Forbidden as exc:
        return forbidden_page(request, str(exc))
    return office_page(request, ctx, who)


def decide(
    request: Request,
    ctx: WebContext,
    who: Identity,
    item: str,
    form: FormData,
    act: Callable[[], str],
    subject: str | None = None,
) -> Response:
    """Run one decision; 303 to /office with its confirmation, or the queue again with the
    reason beside item `item` and the form's values kept (400)."""
    try:
        office_only(who)
    except Forbidden as exc:
        return forbidden_page(request, str(exc))
    try:
        done = act()
    except (ValidationError, DomainError, ApplicationError) as exc:
        problem = {"item": item, "message": refusal(exc), "form": as_typed(form)}
        return office_page(request, ctx, who, problem, status_code=400)
    queue_notices_now(ctx.reads.services)  # the decision reaches the unit's chat at once
    return RedirectResponse(done_url("/office", done, subject or item), status_code=303)


@router.post("/office/extensions/{code}")
def decide_extension(
    request: Request, code: str, ctx: Ctx, who: Viewer, form: CsrfForm
) -> Response:
    def act() -> str:
        decision = cmd.DecideExtension(
            reason=field(form, "reason"), new_deadline=field(form, "new_deadline") or None
        )
        if field(form, "decision") == "deny":
            ctx.ledger.deny_extension(code, decision, who)
            return "denied"
        ctx.ledger.grant_extension(code, decision, who)
        return "granted"

    return decide(request, ctx, who, code, form, act)


@router.post("/office/completions/{code}")
def decide_completion(
    request: Request, code: str, ctx: Ctx, who: Viewer, form: CsrfForm
) -> Response:
    def act() -> str:
        decision = cmd.Decision(reason=field(form, "reason"))
        if field(form, "decision") == "return":
            ctx.ledger.return_completion(code, decision, who)
            return "returned"
        ctx.ledger.accept_completion(code, decision, who)
        return "accepted"

    return decide(request, ctx, who, code, form, act)


VERDICTS = {"opinion": "opinion", "approve": "approve", "return": "return"}


@router.post("/office/plans/{plan_code}")
def review_plan(
    request: Request, plan_code: str, ctx: Ctx, who: Viewer, form: CsrfForm
) -> Response:
    def act() -> str:
        verdict = VERDICTS.get(field(form, "verdict"), "opinion")
        text = field(form, "text")
        if not text:
            raise InvalidRequest("请填写审核意见")
        ctx.ledger.review_plan(plan_code, verdict, text, who)  # type: ignore[arg-type]
        return verdict

    return decide(request, ctx, who, "plan:" + plan_code, form, act, plan_code)
