"""Task endpoints: the board and task reads, and every task command the CLI has.

Endpoints are plain `def`: FastAPI runs them in its worker threads, so the synchronous store is
never called on the event loop. Each task command is carried out through its description in
`duban.app.task_commands` (the body model, the ledger call, the success text), the same the CLI
uses; the ledger authorizes the caller's Identity and records it as the event's actor.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from duban.api.deps import Caller, Code, ConfirmingRoute, Ctx, ServiceContext
from duban.api.schemas import (
    Assigned,
    AuditEntry,
    Board,
    BoardRow,
    CommandDone,
    EventView,
    ImportChangeView,
    ImportRequest,
    ImportResult,
    ReportBody,
    TaskView,
)
from duban.app import commands as cmd
from duban.app import task_commands as tc
from duban.app.audit_view import audit_for, codes_visible_to
from duban.app.dates import in_range, out_of_range_message
from duban.app.importer import unchecked_units_warning, unit_message, unknown_units_in
from duban.app.instructions import InstructionDesk, open_counts, open_instructions
from duban.app.notices import queue_notices_now
from duban.app.reads import BoardQuery
from duban.app.roles import Identity, authorize

__all__ = ["router"]

router = APIRouter(tags=["tasks"], route_class=ConfirmingRoute)
Filter = Annotated[str | None, Query(max_length=100)]
CODE_PATTERN = r"^[0-9A-Za-z\-_.]+$"
DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
Body = TypeVar("Body", bound=BaseModel)


def _perform(
    ctx: ServiceContext, command: tc.TaskCommand[Body], code: str, body: Body, who: Identity
) -> CommandDone:
    """One task command, its writers in this process taking turns (`TaskLocks`)."""
    with ctx.writes.hold(code):
        message = command.run(ctx.ledger, code, body, who)
    _notices_after(ctx, command.action)
    return CommandDone(code=code, action=command.action, message=message)


RECEIPTS = frozenset({tc.CLAIM.action, tc.REPORT.action})
"""Commands whose only message is the office's receipt (`[office] tell_receipts`, off by
default; `duban.app.submission_notices.RECEIPT_EVENTS`); a report's 批示 answers tell no one."""


def _notices_after(ctx: ServiceContext, action: str) -> None:
    """A decision's or a request's message queued at once (`queue_notices_now`). A claim or a
    report that nobody is told of skips the step: it would read the log and write the step's
    position, a second transaction on the write path for nothing (the sweep runs it anyway)."""
    if action in RECEIPTS and not ctx.config.office.tell_receipts:
        return
    queue_notices_now(ctx.reads.services)


# ---- reads -------------------------------------------------------------------------------


@router.get("/board", summary="任务看板 board, with lights and filters")
def board(
    ctx: Ctx,
    who: Caller,
    unit: Filter = None,
    group: Filter = None,
    official: Filter = None,
    light: Annotated[str | None, Query(pattern="^(red|yellow|green|closed)$")] = None,
) -> Board:
    authorize(who, "read")
    query = BoardQuery(unit=unit, group=group, official=official, light=light)
    rows = ctx.reads.board(query)
    waiting = open_counts(ctx.ledger)  # 批示 not yet answered, per task
    return Board(
        today=ctx.reads.today(),
        count=len(rows),
        rows=[
            BoardRow.model_validate(
                {
                    **_pick(row, BoardRow.model_fields),
                    "open_instructions": waiting.get(row["code"], 0),
                }
            )
            for row in rows
        ],
    )


def _pick(row: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in fields if name in row}  # a missing required one fails


@router.get("/tasks/{code}", summary="任务详情 task")
def task(code: Code, ctx: Ctx, who: Caller) -> TaskView:
    state = ctx.ledger.task(code, who)
    row = ctx.reads.task_row(code)
    lights = {k: row[k] for k in ("status_label", "light", "light_label", "light_reasons")}
    escalation = {k: row[k] for k in ("next_milestone", "escalation", "escalation_label")}
    instructions = open_instructions(ctx.ledger, code, ctx.reads.today())  # 批示 (issue 12)
    return TaskView.model_validate(
        {**state, **lights, **escalation, "open_instructions": instructions}
    )


@router.get("/tasks/{code}/history", summary="任务事件历史 every event of the task")
def history(code: Code, ctx: Ctx, who: Caller) -> list[EventView]:
    return [EventView.model_validate(e) for e in ctx.ledger.task_history(code, who)]


@router.get("/tasks/{code}/audit", summary="任务审计留痕 the task's trail, reminders included")
def task_audit(code: Code, ctx: Ctx, who: Caller) -> list[AuditEntry]:
    ctx.ledger.task(code, who)  # authorizes the read; 404 for a task that does not exist
    return _audience(ctx, who, ctx.reads.audit(task=code))


@router.get(
    "/audit",
    summary="审计日志 the global audit trail, oldest first (liaisons, officials: their tasks')",
)
def audit_log(
    ctx: Ctx,
    who: Caller,
    task: Annotated[str | None, Query(min_length=1, max_length=40, pattern=CODE_PATTERN)] = None,
    since: Annotated[str | None, Query(pattern=DAY_PATTERN, description="YYYY-MM-DD")] = None,
) -> list[AuditEntry]:
    authorize(who, "read")
    return _audience(ctx, who, ctx.reads.audit(task=task, since=_day("since", since)))


def _audience(
    ctx: ServiceContext, who: Identity, entries: list[dict[str, Any]]
) -> list[AuditEntry]:
    """The entries as `who` may read them (`duban.app.audit_view`): office and auditors all of
    them without secret material; liaisons and officials their tasks' only, mobiles masked."""
    shown = audit_for(who, entries, lambda: codes_visible_to(who, ctx.reads.board()))
    return [AuditEntry.model_validate(e) for e in shown]


def _day(name: str, text: str | None) -> dt.date | None:
    """A calendar day given exactly as YYYY-MM-DD (not a timestamp, not `2024-1-1`)."""
    if text is None:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        problem = {"type": "date_from_datetime_parsing", "loc": ("query", name), "input": text}
        raise RequestValidationError([{**problem, "msg": "不是有效的日期（YYYY-MM-DD）"}]) from None
    if not in_range(day):
        problem = {"type": "date_out_of_range", "loc": ("query", name), "input": text}
        raise RequestValidationError([{**problem, "msg": out_of_range_message(day)}])
    return day


# ---- 交办 ----------------------------------------------------------------------------------


@router.post("/tasks", status_code=201, summary="交办 assign one task")
def assign(row: cmd.AssignTask, ctx: Ctx, who: Caller) -> Assigned:
    authorize(who, "assign")  # a caller who may not assign learns nothing about the units
    _refuse_unknown_units_of(row, ctx)
    task_id = ctx.ledger.assign(row, who)
    queue_notices_now(ctx.reads.services)
    return Assigned(code=row.code, id=str(task_id))


def _refuse_unknown_units_of(row: cmd.AssignTask, ctx: ServiceContext) -> None:
    """The import's unit check for one task: a 422 naming each unknown unit's field."""
    problems = [
        {"type": "unknown_unit", "loc": ("body", field), "input": unit, "msg": unit_message(unit)}
        for _, field, unit in unknown_units_in([row], ctx.config)
    ]
    if problems:
        raise RequestValidationError(problems)


@router.post("/tasks/import", summary="导入任务清单 import rows (all or nothing)")
def import_rows(body: ImportRequest, ctx: Ctx, who: Caller) -> ImportResult:
    authorize(who, "assign")
    _refuse_unknown_units(body.rows, ctx)
    changes = ctx.ledger.import_tasks(body.rows, who, dry_run=body.dry_run)
    if not body.dry_run:
        queue_notices_now(ctx.reads.services)  # 交办通知 queued at once
    views = [ImportChangeView.model_validate(vars(c)) for c in changes]
    warnings = [w] if (w := unchecked_units_warning(ctx.config)) else []
    return ImportResult(dry_run=body.dry_run, changes=views, warnings=warnings)


def _refuse_unknown_units(rows: list[cmd.AssignTask], ctx: ServiceContext) -> None:
    """A 422 naming every lead or co-unit the config does not know (`[import] allow_new_units`)."""
    problems = [
        {
            "type": "unknown_unit",
            "loc": ("body", "rows", number - 1, field),
            "input": unit,
            "msg": f"第{number}行：{unit_message(unit)}",
        }
        for number, field, unit in unknown_units_in(rows, ctx.config)
    ]
    if problems:
        raise RequestValidationError(problems)


# ---- the lifecycle -----------------------------------------------------------------------


@router.post("/tasks/{code}/claim", summary="签收 claim (lead unit)")
def claim(code: Code, ctx: Ctx, who: Caller) -> CommandDone:
    return _perform(ctx, tc.CLAIM, code, tc.CLAIM.parse(), who)


@router.post("/tasks/{code}/reports", summary="进展报送 report progress (may answer 批示)")
def report(code: Code, body: ReportBody, ctx: Ctx, who: Caller) -> CommandDone:
    if not body.answers:
        return _perform(ctx, tc.REPORT, code, body.progress(), who)
    desk = InstructionDesk(ctx.ledger, ctx.config.tz)  # the report answers 批示 (issue 12)
    with ctx.writes.hold(code):
        message = desk.report(code, body.progress(), body.answers, who)
    _notices_after(ctx, tc.REPORT.action)
    return CommandDone(code=code, action=tc.REPORT.action, message=message)


@router.post("/tasks/{code}/milestones/close", summary="阶段节点完成 close a milestone (office)")
def close_milestone(code: Code, body: cmd.CloseMilestone, ctx: Ctx, who: Caller) -> CommandDone:
    return _perform(ctx, tc.CLOSE_MILESTONE, code, body, who)


@router.post("/tasks/{code}/extension/request", summary="延期申请 request an extension")
def request_extension(code: Code, body: cmd.RequestExtension, ctx: Ctx, who: Caller) -> CommandDone:
    return _perform(ctx, tc.REQUEST_EXTENSION, code, body, who)


@router.post("/tasks/{code}/extension/grant", summary="批准延期 grant the extension (office)")
def grant_extension(code: Code, body: cmd.DecideExtension, ctx: Ctx, who: Caller) -> CommandDone:
    return _perform(ctx, tc.GRANT_EXTENSION, code, body, who)


@router.post("/tasks/{code}/extension/deny", summary="不予延期 deny the extension (office)")
def deny_extension(code: Code, body: cmd.DecideExtension, ctx: Ctx, who: Caller) -> CommandDone:
    return _perform(ctx, tc.DENY_EXTENSION, code, body, who)


@router.post("/tasks/{code}/completion/submit", summary="申请办结 submit completion (lead unit)")
def submit(code: Code, body: cmd.SubmitCompletion, ctx: Ctx, who: Caller) -> CommandDone:
    return _perform(ctx, tc.SUBMIT, code, body, who)


@router.post("/tasks/{code}/completion/accept", summary="销号 accept completion (office)")
def accept(code: Code, body: cmd.Decision, ctx: Ctx, who: Caller) -> CommandDone:
    return _perform(ctx, tc.ACCEPT, code, body, who)


@router.post("/tasks/{code}/completion/return", summary="退回办结申请 return completion (office)")
def return_(code: Code, body: cmd.Decision, ctx: Ctx, who: Caller) -> CommandDone:
    return _perform(ctx, tc.RETURN, code, body, who)


@router.post("/tasks/{code}/cancel", summary="撤销任务 cancel (office)")
def cancel(code: Code, body: cmd.Decision, ctx: Ctx, who: Caller) -> CommandDone:
    return _perform(ctx, tc.CANCEL, code, body, who)


@router.post("/tasks/{code}/recognitions", summary="改革试点/典型 recognise (office)")
def recognise(code: Code, body: cmd.Recognise, ctx: Ctx, who: Caller) -> CommandDone:
    return _perform(ctx, tc.RECOGNISE, code, body, who)
