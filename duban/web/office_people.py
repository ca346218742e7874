"""People, invitations and chat channels on the office's pages (`/office/people`,
`/office/channels`): invite or add a person, end someone's sessions, send a channel a test
message. Only the office (`admin`) sees them; a webhook is never shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from duban.app.delivery_adapters import NotifierError, open_deliverer
from duban.app.roles import Identity
from duban.app.routing import chat_titles
from duban.app.vocabulary import PLATFORM_LABELS, ROLE_LABELS
from duban.web.auth import CsrfForm, Viewer
from duban.web.context import Ctx, WebContext
from duban.web.masked import Unmasked, as_typed
from duban.web.office_admin import USER_ERRORS, admin_page, done_redirect, field, guarded, refusal

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _people_page(
    request: Request,
    ctx: WebContext,
    who: Identity,
    extra: Mapping[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    sessions = ctx.people.sessions(who)
    live: dict[str, int] = {}
    for session in sessions:
        if session["live"]:
            live[session["person"]] = live.get(session["person"], 0) + 1
    context = {
        "people": ctx.people.people(who),
        "live": live,
        "roles": ROLE_LABELS,
        "addable": {"office": ROLE_LABELS["office"], "auditor": ROLE_LABELS["auditor"]},
        "form": {},
        "fmt_moment": lambda at: _moment(at, ctx),
        **(extra or {}),
    }
    return admin_page(request, "office_people.html", context, status)


def _moment(at: Any, ctx: WebContext) -> str:
    if isinstance(at, dt.datetime):
        return at.astimezone(ctx.config.tz).strftime("%Y-%m-%d %H:%M")
    return str(at or "")


@router.get("/office/people", response_class=HTMLResponse)
def people(request: Request, ctx: Ctx, who: Viewer) -> Response:
    return guarded(request, who, lambda: _people_page(request, ctx, who))


@router.post("/office/people/invite", response_class=HTMLResponse)
def invite(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    """The link is shown once, on this answer (no redirect: it is not kept anywhere)."""

    def act() -> Response:
        address = str(request.base_url).rstrip("/")
        try:
            issued = ctx.people.invite(field(form, "person"), who, address)
        except USER_ERRORS as exc:
            extra = {"error": refusal(exc), "form": as_typed(form)}
            return _people_page(request, ctx, who, extra, 400)
        shown = {
            "name": issued.name,
            "link": Unmasked(issued.link),
            "expires": _moment(issued.expires_at, ctx),
        }
        return _people_page(request, ctx, who, {"issued": shown})

    return guarded(request, who, act)


@router.post("/office/people/add", response_class=HTMLResponse)
def add_person(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    def act() -> Response:
        name = field(form, "name")
        try:
            ctx.people.add(
                field(form, "role"), name, field(form, "login"), who, field(form, "reason")
            )
        except USER_ERRORS as exc:
            extra = {"error": refusal(exc), "form": as_typed(form)}
            return _people_page(request, ctx, who, extra, 400)
        return done_redirect("/office/people", "added", name)

    return guarded(request, who, act)


@router.post("/office/people/revoke", response_class=HTMLResponse)
def revoke_sessions(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    """Every live session of one person (they sign in again with a new link or password)."""

    def act() -> Response:
        person = field(form, "person")
        live = [s for s in ctx.people.sessions(who) if s["live"] and s["person"] == person]
        try:
            for session in live:
                ctx.people.revoke(session["session_id"], who, "改革办在工作台注销")
        except USER_ERRORS as exc:
            return _people_page(request, ctx, who, {"error": refusal(exc)}, 400)
        name = live[0]["name"] if live else ""
        return done_redirect("/office/people", "revoked", f"{name} {len(live)} 个".strip())

    return guarded(request, who, act)


# ---- channels -------------------------------------------------------------------------------


def _channels(ctx: WebContext) -> list[dict[str, Any]]:
    """Each channel: its name as people call it, platform and units; never a webhook."""
    titles = chat_titles(ctx.config)
    office = ctx.config.office
    found = []
    for channel in ctx.config.channels:
        units = [u.name for u in ctx.config.units if u.channel == channel.name]
        if channel.name == office.channel:
            units.insert(0, "县委改革办")
        if channel.name == office.leaders_channel:
            units.append("县领导")
        found.append(
            {
                "name": channel.name,
                "title": titles.get(channel.name, channel.name),
                "platform": PLATFORM_LABELS.get(channel.platform, "群机器人"),
                "units": units,
            }
        )
    return found


def _channels_page(
    request: Request, ctx: WebContext, extra: Mapping[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    return admin_page(
        request, "office_channels.html", {"channels": _channels(ctx), **(extra or {})}, status
    )


@router.get("/office/channels", response_class=HTMLResponse)
def channels(request: Request, ctx: Ctx, who: Viewer) -> Response:
    return guarded(request, who, lambda: _channels_page(request, ctx))


@router.post("/office/channels/{name}/test", response_class=HTMLResponse)
def test_channel(request: Request, name: str, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    def act() -> Response:
        known = {c["name"]: c["title"] for c in _channels(ctx)}
        if name not in known:
            return _channels_page(request, ctx, {"error": "配置文件中没有这个群"}, 404)
        try:
            with open_deliverer(ctx.reads.services) as deliverer:
                report = deliverer.send_test(name, ctx.ledger.clock())
        except NotifierError as exc:
            return _channels_page(request, ctx, {"error": f"{known[name]}：{exc}"}, 400)
        outcome = "tested" if report.delivered else "untested"
        return done_redirect("/office/channels", outcome, known[name])

    return guarded(request, who, act)
