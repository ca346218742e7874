"""The task page `/tasks/{code}`: the task's facts and trail, and the forms its reader may use.

Who reads it is checked with `read_details` (a liaison: only their unit's tasks as lead or
co-unit). Which forms are shown follows the task's state and the reader's unit
(`applicable_forms`): the lead unit's liaison 签收, 报送进展, 申请延期, 提交销号 and answers
open 批示; a co-unit's liaison 报送进展 only. The forms post to `duban.web.task_forms`, which
re-renders this page (`task_page_response`) with the reason and the input kept when a command
is refused. Why the task came back (a returned 办结 or a refused 延期) is read from the task's
own events (`refusals`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from duban.app.calendar_watch import calendar_banner
from duban.app.errors import Forbidden, TaskNotFound
from duban.app.instructions import open_instructions
from duban.app.roles import Identity, authorize
from duban.app.routing import chat_titles
from duban.web.auth import Viewer, forbidden_page, render
from duban.web.context import WebContext
from duban.web.masked import Unmasked, as_typed
from duban.web.timeline import format_value, timeline

__all__ = [
    "DONE_TEXTS",
    "FormState",
    "applicable_forms",
    "co_unit_reports",
    "deadline_note",
    "refusals",
    "router",
    "task_page_response",
]

router = APIRouter(include_in_schema=False)

OPEN_STATUSES = ("assigned", "claimed", "submitted")
RESHOWN = ("report", "extension", "completion")  # forms shown again with a refusal
# The confirmation a page shows after a form went through (`?done=`): fixed texts, never the
# query's own words.
DONE_TEXTS = {
    "claim": "已签收。请按时报送进展。",
    "report": "进展已报送。",
    "extension": "延期申请已提交，等待县委改革办审批。",
    "completion": "销号申请已提交，等待县委改革办审核。",
    "answer": "批示已答复。",
    "instruction": "批示已发出，已通知牵头单位。",
}


@dataclass
class FormState:
    """What a refused form sent back: which form, the reason, the fields as typed (shown as
    typed: a mobile number the person wrote must not come back masked, i.e. lost)."""

    form: str
    error: str
    values: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.values = as_typed(self.values)

    def kept(self, form: str, name: str) -> Unmasked:
        """Field `name` as typed when `form` is the refused one, else nothing."""
        return Unmasked(self.values.get(name, "")) if form == self.form else Unmasked("")


_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def deadline_note(deadline: str | None, text: str | None) -> str | None:
    """The deadline as the task list wrote it, when it says more than the date shown: 「2024年
    6月底」 beside 2024-06-30 yes; 「2024-06-30」, 「2024/6/30」 or 「持续推进」 again no (an import
    keeps a date cell's ISO form as its text, which is why it used to appear twice)."""
    written = (text or "").strip()
    if not written or written == (deadline or "持续推进"):
        return None
    found = _DATE_TEXT.match(written)
    if found and deadline:
        try:
            if dt.date(*(int(part) for part in found.groups())).isoformat() == deadline:
                return None
        except ValueError:
            return written
    return written


def co_unit_reports(row: dict[str, Any], tz: dt.tzinfo) -> list[dict[str, Any]]:
    """Each co-unit's latest report (unit, day, percent, text), in the order they first
    reported; the percent is the one the co-unit gave for its own part (not the task's), as
    the board keeps it with the report (None for a report stored before it kept one)."""
    return [
        {
            "unit": report["unit"],
            "day": _day(report["at"], tz),
            "percent": report.get("percent"),
            "text": report["text"],
        }
        for report in row.get("co_unit_reports", [])
    ]


def _day(at: Any, tz: dt.tzinfo) -> str:
    try:
        moment = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
    except ValueError:
        return str(at)[:10]
    return (moment.astimezone(tz) if moment.tzinfo else moment).date().isoformat()


# ---- which forms apply ------------------------------------------------------------------


def applicable_forms(
    who: Identity, row: Mapping[str, Any], instructions: list[dict[str, Any]]
) -> set[str]:
    """The forms `who` may use on this task now: a subset of claim, report, extension,
    completion, answer (the domain still decides; this only keeps pointless forms away)."""
    if who.role != "liaison" or row["status"] not in OPEN_STATUSES:
        return set()
    if who.unit != row["lead_unit"]:
        return {"report"} if who.unit in row["co_units"] else set()
    if row["status"] == "assigned":
        return {"claim"}
    forms = {"report"}
    if row["deadline"] and not row["pending_extension"]:
        forms.add("extension")
    if row["status"] == "claimed":
        forms.add("completion")
    if instructions:
        forms.add("answer")
    return forms


def refusals(history: list[dict[str, Any]]) -> dict[str, str]:
    """Why the task came back, while it still applies: `returned` (the last 办结 return, until
    the next submission) and `denied` (the last refused 延期, until the next request)."""
    found: dict[str, str] = {}
    for event in history:
        kind = str(event.get("type", "")).rsplit(".", 1)[-1]
        if kind == "CompletionReturned":
            found["returned"] = str(event.get("reason", ""))
        elif kind == "CompletionSubmitted":
            found.pop("returned", None)
        elif kind == "ExtensionDenied":
            found["denied"] = str(event.get("reason", ""))
        elif kind in ("ExtensionRequested", "ExtensionGranted"):
            found.pop("denied", None)
    return found


def _open_milestones(state: Mapping[str, Any]) -> list[str]:
    closed = set(state.get("closed_milestones") or ())
    return [m["name"] for m in state["milestones"] if m["name"] not in closed]


def _with_links(entries: list[Any]) -> list[Any]:
    """File links in the trail shown as they are (a digest must not be masked)."""
    for entry in entries:
        entry.files[:] = [(text, Unmasked(href)) for text, href in entry.files]
    return entries


# ---- the page ---------------------------------------------------------------------------


def task_context(ctx: WebContext, code: str, who: Identity) -> dict[str, Any]:
    """Everything task.html shows (raises TaskNotFound / Forbidden)."""
    row = ctx.reads.task_row(code)
    authorize(who, "read_details", row["lead_unit"], row["co_units"], row["official"])
    state = ctx.ledger.task(code, who)
    tz = ctx.config.tz
    instructions = open_instructions(ctx.ledger, code, ctx.reads.today())
    return {
        "task": row,
        "deadline_note": deadline_note(row["assigned_deadline"], row["deadline_text"]),
        "instructions": instructions,
        "co_reports": co_unit_reports(row, tz),
        "milestones": state["milestones"],
        "open_milestones": _open_milestones(state),
        "notes": state["notes"],
        "entries": _with_links(timeline(ctx.reads.audit(task=code), tz, chat_titles(ctx.config))),
        "fmt": lambda value: format_value(value, tz),
        "banner": calendar_banner(ctx.reads.services, ctx.ledger.clock()),
        "forms": applicable_forms(who, row, instructions),
        "refusals": refusals(ctx.ledger.task_history(code, who)),
        "max_files": ctx.config.web.max_files,
        "max_mib": ctx.config.web.max_upload_bytes // (1024 * 1024),
    }


def task_page_response(
    request: Request,
    ctx: WebContext,
    code: str,
    who: Identity,
    refused: FormState | None = None,
    done: str | None = None,
) -> HTMLResponse:
    """The task page for `who`: 404/403 pages when it cannot be shown; with a refused form's
    reason and input (status 400), or a confirmation."""
    try:
        context = task_context(ctx, code, who)
    except TaskNotFound as exc:
        return render(request, "not_found.html", {"message": exc.message}, status_code=404)
    except Forbidden as exc:
        return forbidden_page(request, str(exc))
    if refused is not None and refused.form in RESHOWN:
        context["forms"] = context["forms"] | {refused.form}  # what was typed is never lost
    context["refused"] = refused
    context["kept"] = refused.kept if refused else lambda form, name: Unmasked("")
    context["done"] = DONE_TEXTS.get(done or "")
    return render(request, "task.html", context, status_code=400 if refused else 200)


@router.get("/tasks/{code}", response_class=HTMLResponse)
def task_page(request: Request, code: str, who: Viewer) -> HTMLResponse:
    ctx: WebContext = request.app.state.duban
    return task_page_response(request, ctx, code, who, done=request.query_params.get("done"))
