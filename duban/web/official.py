"""`/official` 领衔领导: the tasks the signed-in official leads, with their lights, and a 批示
form on each (`InstructionDesk.issue`: the text and an optional 答复时限).

Only an official has this page (the office goes to its 工作台; anyone else gets the Chinese
403 page). A 批示 is posted to `/tasks/{code}/instructions`; the desk checks that the official
leads the task; the message to the lead unit is queued at once. A refused 批示 re-shows the
page with the reason and the text kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from duban.app.errors import ApplicationError, DomainError, Forbidden, TaskNotFound
from duban.app.instructions import InstructionDesk, open_instructions
from duban.app.notices import queue_notices_now
from duban.app.roles import Identity
from duban.web.auth import CsrfForm, Viewer, forbidden_page, render
from duban.web.context import Ctx, WebContext
from duban.web.task_forms import text_of
from duban.web.task_page import DONE_TEXTS, OPEN_STATUSES, FormState

__all__ = ["official_tasks", "router"]

router = APIRouter(include_in_schema=False)
NOT_AN_OFFICIAL = "「领衔领导」页面只供领衔领导使用"


def official_tasks(ctx: WebContext, who: Identity) -> list[dict[str, Any]]:
    """The tasks `who` leads: open ones first (red, yellow, green), then the closed; each with
    its unanswered 批示."""
    today = ctx.reads.today()
    order = {"red": 0, "yellow": 1, "green": 2, "closed": 3}
    rows = [r for r in ctx.reads.board() if r["official"] == who.name]
    rows.sort(key=lambda r: (order.get(r["light"], 4), r["deadline"] or "9999", r["code"]))
    return [
        {"row": r, "open": r["status"] in OPEN_STATUSES,
         "instructions": open_instructions(ctx.ledger, r["code"], today)}
        for r in rows
    ]  # fmt: skip


def _page(
    request: Request, ctx: WebContext, who: Identity, refused: FormState | None = None
) -> Response:
    if who.role == "office":
        return RedirectResponse("/office", status_code=303)
    if who.role != "official":
        return forbidden_page(request, NOT_AN_OFFICIAL)
    context = {
        "tasks": official_tasks(ctx, who),
        "refused": refused,
        "done": DONE_TEXTS.get(request.query_params.get("done") or ""),
        "today": ctx.reads.today(),
    }
    return render(request, "official.html", context, status_code=400 if refused else 200)


@router.get("/official")
def official_page(request: Request, ctx: Ctx, who: Viewer) -> Response:
    return _page(request, ctx, who)


def _answer_by(text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ApplicationError("答复时限须是日期，例如 2024-03-31") from None


@router.post("/tasks/{code}/instructions")
def issue(request: Request, code: str, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    """A 批示 from /official (an official or the office)."""
    values = {"text": text_of(form, "text"), "answer_by": text_of(form, "answer_by"), "code": code}
    try:
        if who.role not in ("official", "office"):
            raise Forbidden(NOT_AN_OFFICIAL)
        desk = InstructionDesk(ctx.ledger, ctx.config.tz)
        desk.issue(code, values["text"], _answer_by(values["answer_by"]), who)
    except TaskNotFound as exc:
        return render(request, "not_found.html", {"message": exc.message}, status_code=404)
    except Forbidden as exc:
        return forbidden_page(request, str(exc))
    except (DomainError, ApplicationError) as exc:
        return _page(request, ctx, who, FormState(code, exc.message, values))
    queue_notices_now(ctx.reads.services)  # the 批示 reaches the lead unit at once
    return RedirectResponse(f"/official?done=instruction#task-{quote(code, safe='')}", 303)
