"""Task-list import on the office's pages (`/office/import`): a preview, then a confirm.

The import keeps the uploaded file server-side by its SHA-256 (`TaskListHold`) between the
dry-run preview and the confirm: the confirm form carries the digest, never the content, and
imports exactly the bytes previewed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from duban.app.errors import InvalidRequest
from duban.app.importer import FileKind, checked_units, parse_task_list
from duban.app.notices import queue_notices_now
from duban.app.office_desk import TaskListHold
from duban.app.roles import Identity
from duban.web.auth import CsrfForm, Viewer
from duban.web.context import Ctx, WebContext
from duban.web.masked import Unmasked
from duban.web.office_admin import USER_ERRORS, admin_page, done_redirect, field, guarded, refusal

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


def _import_page(
    request: Request, context: Mapping[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    return admin_page(request, "office_import.html", context or {}, status_code)


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
    return guarded(request, who, lambda: _import_page(request))


@router.post("/office/import", response_class=HTMLResponse)
async def import_preview(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return guarded(
            request,
            who,
            lambda: _import_page(
                request, {"errors": ["请选择要上传的任务清单文件（.csv、.xlsx 或 .yaml）"]}, 400
            ),
        )
    suffix = PurePath(upload.filename).suffix.lower()
    data = await upload.read()
    return guarded(request, who, lambda: _previewed(request, ctx, who, data, suffix, upload))


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
        return _import_page(request, {"errors": [refusal(exc)]}, 400)
    if "errors" in preview:
        return _import_page(request, {**preview, "name": upload.filename}, 400)
    digest = TaskListHold.of(ctx.reads.services).keep(data, suffix)
    return _import_page(request, {**preview, "name": upload.filename, "digest": Unmasked(digest)})


@router.post("/office/import/confirm", response_class=HTMLResponse)
def import_confirm(request: Request, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    return guarded(request, who, lambda: _imported(request, ctx, who, field(form, "digest")))


def _imported(request: Request, ctx: WebContext, who: Identity, digest: str) -> Response:
    hold = TaskListHold.of(ctx.reads.services)
    try:
        data, suffix = hold.take(digest)
        result = checked_units(parse_task_list(data, _KINDS[suffix]), ctx.config)
        if result.errors:
            raise InvalidRequest("；".join(str(error) for error in result.errors))
        changes = ctx.ledger.import_tasks(result.rows, who)
    except USER_ERRORS as exc:
        return _import_page(request, {"errors": [refusal(exc)]}, 400)
    hold.drop(digest)
    queue_notices_now(ctx.reads.services)  # 交办通知 queued at once, as `duban import` does
    added = sum(1 for c in changes if c.action == "create")
    revised = sum(1 for c in changes if c.action == "revise")
    return done_redirect("/office/import", "imported", f"新增 {added} 项，修改 {revised} 项")
