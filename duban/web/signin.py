"""Signing in and out: the invitation link, the password form, and setting one's password.

GET /invite only shows a confirm button: link previewers (chat apps fetch every link) must not
spend a one-time link; the POST spends it. Every POST carries the CSRF field (`CsrfForm`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from duban.app.people import OpenSession, PersonError
from duban.web.auth import (
    SESSION_COOKIE,
    CsrfForm,
    Viewer,
    open_session,
    render,
    set_cookie,
)
from duban.web.context import Ctx
from duban.web.masked import Unmasked

__all__ = ["router", "safe_next"]

router = APIRouter(include_in_schema=False)


def safe_next(value: object) -> str:
    """Where to go after signing in: a path of ours only (never `//host` nor a full URL)."""
    text = value if isinstance(value, str) else ""
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return "/"
    return text


def _client(request: Request) -> str:
    return request.client.host if request.client else "-"


def _signed_in(response: Response, request: Request, session: OpenSession, hours: int) -> None:
    if session.cookie is not None:
        set_cookie(response, request, SESSION_COOKIE, session.cookie, max_age=hours * 3600)


@router.get("/invite", response_class=HTMLResponse)
def invite_page(request: Request, t: str = "") -> HTMLResponse:
    return render(request, "invite.html", {"token": t})


@router.post("/invite", response_class=HTMLResponse)
def invite_redeem(request: Request, ctx: Ctx, form: CsrfForm) -> HTMLResponse:
    token = form.get("t")
    try:
        session = ctx.people.redeem(token if isinstance(token, str) else "", _client(request))
    except PersonError as exc:
        return render(request, "invite.html", {"error": str(exc)}, status_code=400)
    request.state.duban_session = session  # the page below already shows them signed in
    hours = ctx.config.web.session_hours
    page = {"done": True, "name": session.identity.name, "hours": hours}
    response = render(request, "invite.html", page)
    _signed_in(response, request, session, hours)
    return response


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, next: str = "/") -> Response:
    if open_session(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "signin.html", {"next": safe_next(next), "login": ""})


@router.post("/signin", response_class=HTMLResponse)
def signin_submit(request: Request, ctx: Ctx, form: CsrfForm) -> Response:
    login, password = str(form.get("login") or ""), str(form.get("password") or "")
    target = safe_next(form.get("next"))
    try:
        session = ctx.people.sign_in(login, password, _client(request))
    except PersonError as exc:
        page = {"error": str(exc), "next": target, "login": Unmasked(login)}  # as typed
        return render(request, "signin.html", page, status_code=400)
    response = RedirectResponse(target, status_code=303)
    _signed_in(response, request, session, ctx.config.web.session_hours)
    return response


@router.post("/signout")
def signout(request: Request, ctx: Ctx, form: CsrfForm) -> Response:
    ctx.people.sign_out(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/password", response_class=HTMLResponse)
def password_page(request: Request, who: Viewer) -> HTMLResponse:
    return render(request, "password.html", {})


@router.post("/password", response_class=HTMLResponse)
def password_submit(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> HTMLResponse:
    password, confirm = str(form.get("password") or ""), str(form.get("confirm") or "")
    if password != confirm:
        return render(request, "password.html", {"error": "两次输入的密码不一致"}, 400)
    try:
        login = ctx.people.set_password(who, password)
    except PersonError as exc:
        return render(request, "password.html", {"error": str(exc)}, status_code=400)
    return render(request, "password.html", {"done": True, "login": login})
