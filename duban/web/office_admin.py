"""The office's other pages, and what they share. This module: 改革试点/典型 and 问责, and the
helpers of every office page besides the 工作台 (`field`, `refusal`, `admin_page`, `guarded`,
`done_redirect`). Task-list import is `duban.web.office_import`; people, invitations and
channels are `duban.web.office_people`. Only the office (`admin`) sees them.

A refused form comes back with what was typed shown as typed (`duban.web.masked.as_typed`):
masking a typed mobile number would lose the person's input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from duban.app import commands as cmd
from duban.app.accountability import AccountabilityRegister
from duban.app.errors import ApplicationError, DomainError, Forbidden, InvalidRequest
from duban.app.roles import Identity, authorize
from duban.app.vocabulary import MEASURE_LABELS, RECOGNITION_KIND_LABELS, RECOGNITION_LABELS
from duban.web.auth import CsrfForm, Viewer, forbidden_page, render
from duban.web.context import Ctx, WebContext
from duban.web.forms import field, refusal
from duban.web.masked import as_typed

__all__ = [
    "USER_ERRORS",
    "admin_page",
    "done_redirect",
    "field",
    "guarded",
    "refusal",
    "router",
]

router = APIRouter(include_in_schema=False)

_DONE = {
    "recognised": "已登记",
    "measure": "已登记追责问责措施",
    "imported": "任务清单已导入",
    "revoked": "已注销登录会话",
    "added": "已添加人员",
    "tested": "测试消息已送达",
    "untested": "测试消息未送达",
}
USER_ERRORS = (ValidationError, DomainError, ApplicationError)


def done_redirect(path: str, done: str, subject: str = "") -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'done': done, 'subject': subject})}", 303)


def confirmation(request: Request) -> str | None:
    text = _DONE.get(request.query_params.get("done", ""))
    subject = request.query_params.get("subject", "")
    return None if text is None else (f"{text}：{subject}" if subject else text)


def admin_page(
    request: Request, name: str, context: Mapping[str, Any], status_code: int = 200
) -> HTMLResponse:
    page = {"done": confirmation(request), **context}
    return render(request, name, page, status_code=status_code)


def guarded(request: Request, who: Identity, show: Callable[[], Response]) -> Response:
    """The page for the office; a Chinese 403 for anyone else."""
    try:
        authorize(who, "admin")
    except Forbidden as exc:
        return forbidden_page(request, str(exc))
    return show()


# ---- recognitions and 问责 ------------------------------------------------------------------


def _recognitions(ctx: WebContext) -> list[dict[str, Any]]:
    found = []
    for row in ctx.reads.board():
        for item in row.get("recognitions") or ():
            found.append(
                {"code": row["code"], "task_title": row["title"], "unit": row["lead_unit"], **item}
            )
    return found


def _recognitions_page(
    request: Request, ctx: WebContext, extra: Mapping[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    context = {
        "items": _recognitions(ctx),
        "kinds": RECOGNITION_KIND_LABELS,
        "levels": RECOGNITION_LABELS,
        "codes": ctx.ledger.task_codes(),
        "form": {},
        **(extra or {}),
    }
    return admin_page(request, "office_recognitions.html", context, status)


@router.get("/office/recognitions", response_class=HTMLResponse)
def recognitions(request: Request, ctx: Ctx, who: Viewer) -> Response:
    return guarded(request, who, lambda: _recognitions_page(request, ctx))


@router.post("/office/recognitions", response_class=HTMLResponse)
def recognise(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    def act() -> Response:
        code = field(form, "code")
        try:
            rec = cmd.Recognise(
                kind=field(form, "kind"),
                level=field(form, "level"),
                title=field(form, "title"),
            )
            ctx.ledger.recognise(code, rec, who)
        except USER_ERRORS as exc:
            extra = {"error": refusal(exc), "form": as_typed(form)}
            return _recognitions_page(request, ctx, extra, 400)
        return done_redirect("/office/recognitions", "recognised", code)

    return guarded(request, who, act)


def _register(ctx: WebContext) -> AccountabilityRegister:
    return AccountabilityRegister(ctx.ledger, ctx.config.tz)


def _accountability_page(
    request: Request,
    ctx: WebContext,
    who: Identity,
    extra: Mapping[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "items": _register(ctx).listing(who),
        "kinds": MEASURE_LABELS,
        "codes": ctx.ledger.task_codes(),
        "units": [u.name for u in ctx.config.units],
        "form": {},
        **(extra or {}),
    }
    return admin_page(request, "office_accountability.html", context, status)


@router.get("/office/accountability", response_class=HTMLResponse)
def accountability(request: Request, ctx: Ctx, who: Viewer) -> Response:
    return guarded(request, who, lambda: _accountability_page(request, ctx, who))


@router.post("/office/accountability", response_class=HTMLResponse)
def record_measure(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    def act() -> Response:
        code = field(form, "code")
        try:
            on = _date(field(form, "on"))
            _register(ctx).record(
                code,
                field(form, "unit"),
                field(form, "kind"),
                field(form, "reason"),
                field(form, "document_no"),
                who,
                on,
            )
        except USER_ERRORS as exc:
            extra = {"error": refusal(exc), "form": as_typed(form)}
            return _accountability_page(request, ctx, who, extra, 400)
        return done_redirect("/office/accountability", "measure", code)

    return guarded(request, who, act)


def _date(text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"措施日期「{text}」不是有效日期，请写成 2024-06-30") from None
