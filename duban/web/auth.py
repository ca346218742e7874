"""Who is looking at a page, and proof that a form was sent from one of our pages.

What pages use (every other web module builds on these names):

- `Viewer`: the `Identity` of the signed-in person. A signed-out request is sent to
  `/signin?next=<path>` (303); nothing of the page runs.
- `MaybeViewer`: the same, or None when nobody is signed in (the public board).
- `CsrfForm`: a POST form's fields, after its `csrf` field was checked; a missing or wrong
  token answers a Chinese 403 page and the endpoint never runs.
- `csrf_field()` (a Jinja global of `templates`): the hidden input every POST form carries.
- `templates`: the web's masked Jinja templates with `csrf_field` and `viewer` installed; `render`
  answers a page with them (and sets the pre-session cookie a sign-in form needs).

The CSRF token is HMAC(server secret, session id): a page can only be posted by someone who could
read one of our pages under that session. Before sign-in, a random pre-session cookie stands in
for the session. The secret is kept in the store, so every process and restart agrees. Origin is
not checked: under `Referrer-Policy: no-referrer` Chromium sends `Origin: null`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.datastructures import FormData

from duban.app.people import OpenSession
from duban.app.roles import Identity
from duban.web.context import Ctx, WebContext
from duban.web.masked import Unmasked, UnmaskedMarkup, masked_templates

__all__ = [
    "PRESESSION_COOKIE",
    "SESSION_COOKIE",
    "CsrfForm",
    "CsrfRefused",
    "MaybeViewer",
    "SignInRequired",
    "Viewer",
    "csrf_field",
    "csrf_token",
    "forbidden_page",
    "install_auth",
    "render",
    "set_cookie",
    "templates",
]

SESSION_COOKIE = "duban_session"
PRESESSION_COOKIE = "duban_pre"
HERE = Path(__file__).parent
templates = masked_templates(HERE / "templates")


class SignInRequired(Exception):
    """Raised by `Viewer` for a signed-out request: answered with a 303 to /signin."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class CsrfRefused(Exception):
    """Raised by `CsrfForm` when the form's token is missing or wrong: answered with a 403."""


def _ctx(request: Request) -> WebContext:
    context: WebContext = request.app.state.duban
    return context


def open_session(request: Request) -> OpenSession | None:
    """The request's valid session (read once per request), or None."""
    if "duban_session" in request.state._state:
        found: OpenSession | None = request.state.duban_session
        return found
    found = _ctx(request).people.session(request.cookies.get(SESSION_COOKIE))
    if found is not None:  # every action of this request records the session it came through
        found = replace(found, identity=found.identity.through("session", found.session_id))
    request.state.duban_session = found
    return found


def _maybe_viewer(request: Request) -> Identity | None:
    found = open_session(request)
    return found.identity if found else None


def _viewer(request: Request) -> Identity:
    who = _maybe_viewer(request)
    if who is None:
        raise SignInRequired(_here(request))
    return who


def _here(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


Viewer = Annotated[Identity, Depends(_viewer)]
MaybeViewer = Annotated[Identity | None, Depends(_maybe_viewer)]


# ---- CSRF ---------------------------------------------------------------------------------


def _basis(request: Request) -> str:
    """What the token is bound to: the session's id, else the pre-session cookie (made and
    remembered on the request when there is none yet; `render` sets it on the response)."""
    found = open_session(request)
    if found is not None:
        return "s:" + found.session_id
    pre = request.cookies.get(PRESESSION_COOKIE) or getattr(request.state, "duban_pre", None)
    if not pre:
        pre = secrets.token_urlsafe(24)
        request.state.duban_pre = pre
    return "p:" + pre


def csrf_token(request: Request) -> str:
    secret = _ctx(request).people.csrf_secret()
    return hmac.new(secret, _basis(request).encode(), hashlib.sha256).hexdigest()


@pass_context
def csrf_field(context: Context) -> Markup:
    """`{{ csrf_field() }}` inside a form: the hidden `csrf` input for this request, never
    masked (a hex token may hold an 11-digit run like 13812345678)."""
    request: Request = context["request"]
    field = UnmaskedMarkup('<input type="hidden" name="csrf" value="%s">')
    return field % Unmasked(csrf_token(request))


async def _csrf_form(request: Request) -> FormData:
    form = await request.form()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(request)):
        raise CsrfRefused
    return form


CsrfForm = Annotated[FormData, Depends(_csrf_form)]


# ---- answering pages ----------------------------------------------------------------------


def secure(request: Request) -> bool:
    public = _ctx(request).config.web.public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None
) -> None:
    """Our cookies: HttpOnly, SameSite=Lax, Path=/, Secure over https."""
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
        secure=secure(request),
    )  # fmt: skip


def _viewer_global(request: Request) -> dict[str, Any] | None:
    found = open_session(request)
    if found is None:
        return None
    return {"name": found.identity.name, "role": found.identity.role, "unit": found.identity.unit}


def render(
    request: Request, name: str, context: Mapping[str, Any], status_code: int = 200
) -> HTMLResponse:
    """The page `name` for this request; the top bar shows the signed-in person."""
    page = {"office": _ctx(request).config.office.name, "viewer": _viewer_global(request)}
    page.update(context)
    response = templates.TemplateResponse(request, name, page, status_code=status_code)
    pre = getattr(request.state, "duban_pre", None)
    if pre and not request.cookies.get(PRESESSION_COOKIE):
        set_cookie(response, request, PRESESSION_COOKIE, pre, max_age=None)
    return response


def forbidden_page(request: Request, message: str) -> HTMLResponse:
    return render(request, "forbidden.html", {"message": message}, status_code=403)


def _sign_in_redirect(request: Request, exc: Exception) -> Response:
    path = exc.path if isinstance(exc, SignInRequired) else "/"
    return RedirectResponse("/signin?next=" + quote(path, safe="/"), status_code=303)


def _csrf_refused(request: Request, exc: Exception) -> Response:
    message = "表单已过期或来源不明，未作任何处理。请返回上一页刷新后重新提交。"
    return forbidden_page(request, message)


def install_auth(app: FastAPI) -> None:
    """Answer `SignInRequired` and `CsrfRefused` for the whole app."""
    app.add_exception_handler(SignInRequired, _sign_in_redirect)
    app.add_exception_handler(CsrfRefused, _csrf_refused)


templates.env.globals["csrf_field"] = csrf_field

__all__ += ["Ctx", "open_session"]
