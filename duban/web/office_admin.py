"""The office's other pages: task-list import (preview, then confirm), 改革试点/典型, 问责, people
and invitations, and a channel's test message. Only the office (`admin`) sees them.

The import keeps the uploaded file server-side by its SHA-256 (`TaskListHold`) between the
dry-run preview and the confirm: the confirm form carries the digest, never the content, and
imports exactly the bytes previewed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from duban.app import commands as cmd
from duban.app.accountability import AccountabilityRegister
from duban.app.delivery_adapters import NotifierError, open_deliverer
from duban.app.errors import ApplicationError, DomainError, Forbidden, InvalidRequest
from duban.app.importer import FileKind, checked_units, parse_task_list
from duban.app.notices import queue_notices_now
from duban.app.office_desk import TaskListHold
from duban.app.roles import Identity, authorize
from duban.app.routing import chat_titles
from duban.app.validation_messages import translate
from duban.app.vocabulary import (
    MEASURE_LABELS,
    PLATFORM_LABELS,
    RECOGNITION_KIND_LABELS,
    RECOGNITION_LABELS,
    ROLE_LABELS,
)
from duban.web.auth import CsrfForm, Viewer, forbidden_page, render
from duban.web.context import Ctx, WebContext
from duban.web.masked import Unmasked

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_KINDS: dict[str, FileKind] = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".yaml": "yaml",
    ".yml": "yaml",
}
_ACTIONS = {"create": "新增", "revise": "修改", "unchanged": "无变化"}
_FIELDS = {"reason": "理由", "title": "名称", "kind": "类别", "level": "级别"}
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


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _refusal(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(p["message"] for p in translate(exc.errors(), _FIELDS))
    return str(getattr(exc, "message", exc))


def _done(path: str, done: str, subject: str = "") -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'done': done, 'subject': subject})}", 303)


def _confirmation(request: Request) -> str | None:
    text = _DONE.get(request.query_params.get("done", ""))
    subject = request.query_params.get("subject", "")
    return None if text is None else (f"{text}：{subject}" if subject else text)


def _page(
    request: Request, name: str, context: Mapping[str, Any], status_code: int = 200
) -> HTMLResponse:
    page = {"done": _confirmation(request), **context}
    return render(request, name, page, status_code=status_code)


def _guarded(request: Request, who: Identity, show: Callable[[], Response]) -> Response:
    """The page for the office; a Chinese 403 for anyone else."""
    try:
        authorize(who, "admin")
    except Forbidden as exc:
        return forbidden_page(request, str(exc))
    return show()


# ---- task-list import -----------------------------------------------------------------------


def _import_page(
    request: Request, context: Mapping[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    return _page(request, "office_import.html", context or {}, status_code)


def _preview(ctx: WebContext, data: bytes, kind: FileKind, who: Identity) -> dict[str, Any]:
    """The dry run: every bad row and column named, or the rows to add and change."""
    result = checked_units(parse_task_list(data, kind), ctx.config)
    if result.errors:
        return {"errors": [str(error) for error in result.errors]}
    changes = ctx.ledger.import_tasks(result.rows, who, dry_run=True)
    titles = {row.code: row.title for row in result.rows}
    rows = [
        {
            "code": c.code,
            "title": titles.get(c.code, ""),
            "action": _ACTIONS[c.action],
            "changed": "、".join(c.changes) if c.action == "revise" else "",
        }
        for c in changes
    ]
    counts = {
        label: sum(1 for c in changes if _ACTIONS[c.action] == label) for label in _ACTIONS.values()
    }
    return {"rows": rows, "counts": counts}


@router.get("/office/import", response_class=HTMLResponse)
def import_page(request: Request, who: Viewer) -> Response:
    return _guarded(request, who, lambda: _import_page(request))


@router.post("/office/import", response_class=HTMLResponse)
async def import_preview(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _guarded(
            request,
            who,
            lambda: _import_page(
                request, {"errors": ["请选择要上传的任务清单文件（.csv、.xlsx 或 .yaml）"]}, 400
            ),
        )
    suffix = PurePath(upload.filename).suffix.lower()
    data = await upload.read()
    return _guarded(request, who, lambda: _previewed(request, ctx, who, data, suffix, upload))


def _previewed(
    request: Request,
    ctx: WebContext,
    who: Identity,
    data: bytes,
    suffix: str,
    upload: UploadFile,
) -> Response:
    kind = _KINDS.get(suffix)
    if kind is None:
        message = f"不支持的文件类型「{suffix or '无扩展名'}」：请使用 .csv、.xlsx 或 .yaml"
        return _import_page(request, {"errors": [message]}, 400)
    try:
        preview = _preview(ctx, data, kind, who)
    except USER_ERRORS as exc:
        return _import_page(request, {"errors": [_refusal(exc)]}, 400)
    if "errors" in preview:
        return _import_page(request, {**preview, "name": upload.filename}, 400)
    digest = TaskListHold.of(ctx.reads.services).keep(data, suffix)
    return _import_page(request, {**preview, "name": upload.filename, "digest": Unmasked(digest)})


@router.post("/office/import/confirm", response_class=HTMLResponse)
def import_confirm(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    return _guarded(request, who, lambda: _imported(request, ctx, who, _field(form, "digest")))


def _imported(request: Request, ctx: WebContext, who: Identity, digest: str) -> Response:
    hold = TaskListHold.of(ctx.reads.services)
    try:
        data, suffix = hold.take(digest)
        result = checked_units(parse_task_list(data, _KINDS[suffix]), ctx.config)
        if result.errors:
            raise InvalidRequest("；".join(str(error) for error in result.errors))
        changes = ctx.ledger.import_tasks(result.rows, who)
    except USER_ERRORS as exc:
        return _import_page(request, {"errors": [_refusal(exc)]}, 400)
    hold.drop(digest)
    queue_notices_now(ctx.reads.services)  # 交办通知 queued at once, as `duban import` does
    added = sum(1 for c in changes if c.action == "create")
    revised = sum(1 for c in changes if c.action == "revise")
    return _done("/office/import", "imported", f"新增 {added} 项，修改 {revised} 项")


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
    return _page(request, "office_recognitions.html", context, status)


@router.get("/office/recognitions", response_class=HTMLResponse)
def recognitions(request: Request, ctx: Ctx, who: Viewer) -> Response:
    return _guarded(request, who, lambda: _recognitions_page(request, ctx))


@router.post("/office/recognitions", response_class=HTMLResponse)
def recognise(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    def act() -> Response:
        code = _field(form, "code")
        try:
            rec = cmd.Recognise(
                kind=_field(form, "kind"),
                level=_field(form, "level"),
                title=_field(form, "title"),
            )
            ctx.ledger.recognise(code, rec, who)
        except USER_ERRORS as exc:
            extra = {"error": _refusal(exc), "form": dict(form.items())}
            return _recognitions_page(request, ctx, extra, 400)
        return _done("/office/recognitions", "recognised", code)

    return _guarded(request, who, act)


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
    return _page(request, "office_accountability.html", context, status)


@router.get("/office/accountability", response_class=HTMLResponse)
def accountability(request: Request, ctx: Ctx, who: Viewer) -> Response:
    return _guarded(request, who, lambda: _accountability_page(request, ctx, who))


@router.post("/office/accountability", response_class=HTMLResponse)
def record_measure(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    def act() -> Response:
        code = _field(form, "code")
        try:
            on = _date(_field(form, "on"))
            _register(ctx).record(
                code,
                _field(form, "unit"),
                _field(form, "kind"),
                _field(form, "reason"),
                _field(form, "document_no"),
                who,
                on,
            )
        except USER_ERRORS as exc:
            extra = {"error": _refusal(exc), "form": dict(form.items())}
            return _accountability_page(request, ctx, who, extra, 400)
        return _done("/office/accountability", "measure", code)

    return _guarded(request, who, act)


def _date(text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"措施日期「{text}」不是有效日期，请写成 2024-06-30") from None


# ---- people ---------------------------------------------------------------------------------


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
    return _page(request, "office_people.html", context, status)


def _moment(at: Any, ctx: WebContext) -> str:
    if isinstance(at, dt.datetime):
        return at.astimezone(ctx.config.tz).strftime("%Y-%m-%d %H:%M")
    return str(at or "")


@router.get("/office/people", response_class=HTMLResponse)
def people(request: Request, ctx: Ctx, who: Viewer) -> Response:
    return _guarded(request, who, lambda: _people_page(request, ctx, who))


@router.post("/office/people/invite", response_class=HTMLResponse)
def invite(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    """The link is shown once, on this answer (no redirect: it is not kept anywhere)."""

    def act() -> Response:
        address = str(request.base_url).rstrip("/")
        try:
            issued = ctx.people.invite(_field(form, "person"), who, address)
        except USER_ERRORS as exc:
            extra = {"error": _refusal(exc), "form": dict(form.items())}
            return _people_page(request, ctx, who, extra, 400)
        shown = {
            "name": issued.name,
            "link": Unmasked(issued.link),
            "expires": _moment(issued.expires_at, ctx),
        }
        return _people_page(request, ctx, who, {"issued": shown})

    return _guarded(request, who, act)


@router.post("/office/people/add", response_class=HTMLResponse)
def add_person(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    def act() -> Response:
        name = _field(form, "name")
        try:
            ctx.people.add(
                _field(form, "role"), name, _field(form, "login"), who, _field(form, "reason")
            )
        except USER_ERRORS as exc:
            extra = {"error": _refusal(exc), "form": dict(form.items())}
            return _people_page(request, ctx, who, extra, 400)
        return _done("/office/people", "added", name)

    return _guarded(request, who, act)


@router.post("/office/people/revoke", response_class=HTMLResponse)
def revoke_sessions(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    """Every live session of one person (they sign in again with a new link or password)."""

    def act() -> Response:
        person = _field(form, "person")
        live = [s for s in ctx.people.sessions(who) if s["live"] and s["person"] == person]
        try:
            for session in live:
                ctx.people.revoke(session["session_id"], who, "改革办在工作台注销")
        except USER_ERRORS as exc:
            return _people_page(request, ctx, who, {"error": _refusal(exc)}, 400)
        name = live[0]["name"] if live else ""
        return _done("/office/people", "revoked", f"{name} {len(live)} 个".strip())

    return _guarded(request, who, act)


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
    return _page(
        request, "office_channels.html", {"channels": _channels(ctx), **(extra or {})}, status
    )


@router.get("/office/channels", response_class=HTMLResponse)
def channels(request: Request, ctx: Ctx, who: Viewer) -> Response:
    return _guarded(request, who, lambda: _channels_page(request, ctx))


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
        return _done("/office/channels", "tested" if report.delivered else "untested", known[name])

    return _guarded(request, who, act)
