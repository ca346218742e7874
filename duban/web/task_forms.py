"""The task page's forms: 签收, 报送进展, 申请延期, 提交销号 and 答复批示 (POST routes).

Each route: the caller must be signed in (`Viewer`) and send the page's CSRF field
(`CsrfForm`); `authorize` is asked before anything is kept, so a liaison of another unit
uploads nothing. The fields are validated by the command's own model
(`duban.app.task_commands`); the files of a multipart form are then streamed into the
EvidenceStore (`EvidenceFiles.upload`: its size, type and count limits are `[web]`'s) and the
command runs with their refs. Anything refused (a field, a file, the domain's rule) re-shows
the task page with the Chinese reason and the input kept; nothing is recorded. Success is a
303 to the task page with a confirmation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile

from duban.app import commands as cmd
from duban.app import task_commands as tc
from duban.app.errors import ApplicationError, DomainError, Forbidden, TaskNotFound
from duban.app.evidence import EvidenceFiles
from duban.app.instructions import InstructionDesk
from duban.app.notices import queue_notices_now
from duban.app.roles import Action, Identity, authorize
from duban.app.validation_messages import translate
from duban.web.auth import CsrfForm, Viewer, forbidden_page, render
from duban.web.context import Ctx, WebContext
from duban.web.forms import field
from duban.web.task_page import FormState, task_page_response

__all__ = ["FIELD_LABELS", "router", "text_of", "uploads_of"]

router = APIRouter(include_in_schema=False)
Body = TypeVar("Body", bound=BaseModel)

# The forms' fields by their Chinese names (validation messages name them).
FIELD_LABELS = {
    "text": "进展情况",
    "percent": "完成进度",
    "milestone": "阶段节点",
    "new_deadline": "延期至",
    "reason": "延期理由",
    "summary": "办结情况",
    "files": "附件",
    "answer_by": "答复时限",
}
_FIELDS = {
    "report": ("text", "percent", "milestone"),
    "extension": ("new_deadline", "reason"),
    "completion": ("summary",),
}


class Refused(Exception):
    """A form we do not carry out: the Chinese reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


text_of = field  # a text field as sent ("" when missing, or a file in its place)


def uploads_of(form: FormData, name: str = "files") -> list[UploadFile]:
    """The files chosen in a file input (a browser sends an empty part when none was)."""
    return [f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename]


def _parse(command: tc.TaskCommand[Body], fields: Mapping[str, Any]) -> Body:
    try:
        return command.parse(**fields)
    except ValidationError as exc:
        problems = translate(exc.errors(), FIELD_LABELS)
        raise Refused("；".join(p["message"] for p in problems[:3])) from None


def _file_choices(ctx: WebContext, form: FormData, who: Identity) -> tuple[cmd.FileChoice, ...]:
    parts = uploads_of(form)
    if not parts:
        return ()
    desk = EvidenceFiles(ctx.ledger, ctx.config.web.max_files)
    refs = desk.upload([(part.file, part.filename or "附件") for part in parts], who)
    return tuple(cmd.FileChoice(sha256=ref.sha256, name=ref.name) for ref in refs)


def _done(code: str, what: str) -> RedirectResponse:
    return RedirectResponse(f"/tasks/{quote(code, safe='')}?done={what}", status_code=303)


def _carry_out(
    request: Request,
    ctx: WebContext,
    code: str,
    who: Identity,
    form_name: str,
    values: Mapping[str, str],
    act: Callable[[], None],
) -> Response:
    """Run `act`; the task page again with the reason when anything refuses it."""
    try:
        act()
    except TaskNotFound as exc:
        return render(request, "not_found.html", {"message": exc.message}, status_code=404)
    except Forbidden as exc:
        return forbidden_page(request, str(exc))
    except (Refused, DomainError, ApplicationError) as exc:
        refused = FormState(form_name, exc.message, values)
        return task_page_response(request, ctx, code, who, refused=refused)
    queue_notices_now(ctx.reads.services)  # a message the command queues goes out at once
    return _done(code, form_name)


def _task_command(
    request: Request,
    ctx: WebContext,
    code: str,
    who: Identity,
    form: FormData,
    form_name: str,
    command: tc.TaskCommand[Body],
) -> Response:
    """A command with fields and files: authorized, validated, files kept, then run."""
    values = {name: text_of(form, name) for name in _FIELDS[form_name]}

    def act() -> None:
        row = ctx.reads.task_row(code)
        action = _ACTIONS[form_name]
        authorize(who, action, row["lead_unit"], row["co_units"], row["official"])
        fields: dict[str, Any] = {k: v for k, v in values.items() if v}
        _parse(command, fields)  # the fields first: a wrong one keeps no file
        body = _parse(command, {**fields, "files": _file_choices(ctx, form, who)})
        command.run(ctx.ledger, code, body, who)

    return _carry_out(request, ctx, code, who, form_name, values, act)


_ACTIONS: dict[str, Action] = {
    "claim": "claim",
    "report": "report",
    "extension": "request_extension",
    "completion": "submit",
}


@router.post("/tasks/{code}/claim")
def claim(request: Request, code: str, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    def act() -> None:
        tc.CLAIM.run(ctx.ledger, code, tc.CLAIM.parse(), who)

    return _carry_out(request, ctx, code, who, "claim", {}, act)


@router.post("/tasks/{code}/report")
def report(request: Request, code: str, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    return _task_command(request, ctx, code, who, form, "report", tc.REPORT)


@router.post("/tasks/{code}/extension")
def extension(request: Request, code: str, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    return _task_command(request, ctx, code, who, form, "extension", tc.REQUEST_EXTENSION)


@router.post("/tasks/{code}/completion")
def completion(request: Request, code: str, ctx: Ctx, who: Viewer, form: CsrfForm) -> Response:
    return _task_command(request, ctx, code, who, form, "completion", tc.SUBMIT)


@router.post("/tasks/{code}/instructions/{number}/answer")
def answer(
    request: Request, code: str, number: int, ctx: Ctx, who: Viewer, form: CsrfForm
) -> Response:
    text = text_of(form, "answer")
    values = {"answer": text, "ref": str(number)}

    def act() -> None:
        if not text:
            raise Refused("请填写答复内容")
        InstructionDesk(ctx.ledger, ctx.config.tz).answer(f"{code}/{number}", text, who)

    return _carry_out(request, ctx, code, who, "answer", values, act)
