"""Task endpoints: the board and task reads, and every task command the CLI has.

Endpoints are plain `def`: FastAPI runs them in its worker threads, so the synchronous store is
never called on the event loop. Each command passes the caller's Identity to the ledger, which
authorizes it (domain.roles.authorize) and records it as the event's actor.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from domain.roles import authorize
from duban.api.deps import Caller, Code, Ctx
from duban.api.reads import BoardQuery
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
    TaskView,
)
from duban.app import commands as cmd

__all__ = ["router"]

router = APIRouter(tags=["tasks"])
Filter = Annotated[str | None, Query(max_length=100)]
CODE_PATTERN = r"^[0-9A-Za-z\-_.]+$"
DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _done(code: str, action: str, message: str) -> CommandDone:
    return CommandDone(code=code, action=action, message=message)


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
    return Board(
        today=ctx.reads.today(),
        count=len(rows),
        rows=[BoardRow.model_validate(_pick(row, BoardRow.model_fields)) for row in rows],
    )


def _pick(row: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in fields}


@router.get("/tasks/{code}", summary="任务详情 task")
def task(code: Code, ctx: Ctx, who: Caller) -> TaskView:
    state = ctx.ledger.task(code, who)
    row = ctx.reads.task_row(code)
    lights = {k: row[k] for k in ("status_label", "light", "light_label", "light_reasons")}
    escalation = {k: row[k] for k in ("next_milestone", "escalation", "escalation_label")}
    return TaskView.model_validate({**state, **lights, **escalation})


@router.get("/tasks/{code}/history", summary="任务事件历史 every event of the task")
def history(code: Code, ctx: Ctx, who: Caller) -> list[EventView]:
    return [EventView.model_validate(e) for e in ctx.ledger.task_history(code, who)]


@router.get("/tasks/{code}/audit", summary="任务审计留痕 the task's trail, reminders included")
def task_audit(code: Code, ctx: Ctx, who: Caller) -> list[AuditEntry]:
    ctx.ledger.task(code, who)  # authorizes the read; 404 for a task that does not exist
    return [AuditEntry.model_validate(e) for e in ctx.reads.audit(task=code)]


@router.get("/audit", summary="审计日志 the global audit trail, oldest first")
def audit_log(
    ctx: Ctx,
    who: Caller,
    task: Annotated[str | None, Query(min_length=1, max_length=40, pattern=CODE_PATTERN)] = None,
    since: Annotated[str | None, Query(pattern=DAY_PATTERN, description="YYYY-MM-DD")] = None,
) -> list[AuditEntry]:
    authorize(who, "read")
    entries = ctx.reads.audit(task=task, since=_day("since", since))
    return [AuditEntry.model_validate(e) for e in entries]


def _day(name: str, text: str | None) -> dt.date | None:
    """A calendar day given exactly as YYYY-MM-DD (not a timestamp, not `2024-1-1`)."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problem = {"type": "date_from_datetime_parsing", "loc": ("query", name), "input": text}
        raise RequestValidationError([{**problem, "msg": "不是有效的日期（YYYY-MM-DD）"}]) from None


# ---- 交办 ----------------------------------------------------------------------------------


@router.post("/tasks", status_code=201, summary="交办 assign one task")
def assign(row: cmd.AssignTask, ctx: Ctx, who: Caller) -> Assigned:
    task_id = ctx.ledger.assign(row, who)
    return Assigned(code=row.code, id=str(task_id))


@router.post("/tasks/import", summary="导入任务清单 import rows (all or nothing)")
def import_rows(body: ImportRequest, ctx: Ctx, who: Caller) -> ImportResult:
    changes = ctx.ledger.import_tasks(body.rows, who, dry_run=body.dry_run)
    views = [ImportChangeView.model_validate(vars(c)) for c in changes]
    return ImportResult(dry_run=body.dry_run, changes=views)


# ---- the lifecycle -----------------------------------------------------------------------


@router.post("/tasks/{code}/claim", summary="签收 claim (lead unit)")
def claim(code: Code, ctx: Ctx, who: Caller) -> CommandDone:
    with ctx.writes.hold(code):
        ctx.ledger.claim(code, who)
    return _done(code, "claim", f"{code} 已签收")


@router.post("/tasks/{code}/reports", summary="进展报送 report progress")
def report(code: Code, body: cmd.ReportProgress, ctx: Ctx, who: Caller) -> CommandDone:
    with ctx.writes.hold(code):
        ctx.ledger.report(code, body, who)
    return _done(code, "report", f"{code} 进展已报送（{body.percent}%）")


@router.post("/tasks/{code}/extension/request", summary="延期申请 request an extension")
def request_extension(code: Code, body: cmd.RequestExtension, ctx: Ctx, who: Caller) -> CommandDone:
    with ctx.writes.hold(code):
        ctx.ledger.request_extension(code, body, who)
    return _done(code, "request_extension", f"{code} 已申请延期至 {body.new_deadline}")


@router.post("/tasks/{code}/extension/grant", summary="批准延期 grant the extension (office)")
def grant_extension(code: Code, body: cmd.DecideExtension, ctx: Ctx, who: Caller) -> CommandDone:
    with ctx.writes.hold(code):
        ctx.ledger.grant_extension(code, body, who)
    return _done(code, "grant_extension", f"{code} 延期已批准")


@router.post("/tasks/{code}/extension/deny", summary="不予延期 deny the extension (office)")
def deny_extension(code: Code, body: cmd.DecideExtension, ctx: Ctx, who: Caller) -> CommandDone:
    with ctx.writes.hold(code):
        ctx.ledger.deny_extension(code, body, who)
    return _done(code, "deny_extension", f"{code} 延期未批准")


@router.post("/tasks/{code}/completion/submit", summary="申请办结 submit completion (lead unit)")
def submit(code: Code, body: cmd.SubmitCompletion, ctx: Ctx, who: Caller) -> CommandDone:
    with ctx.writes.hold(code):
        ctx.ledger.submit_completion(code, body, who)
    return _done(code, "submit", f"{code} 已申请办结")


@router.post("/tasks/{code}/completion/accept", summary="销号 accept completion (office)")
def accept(code: Code, body: cmd.Decision, ctx: Ctx, who: Caller) -> CommandDone:
    with ctx.writes.hold(code):
        ctx.ledger.accept_completion(code, body, who)
    return _done(code, "accept", f"{code} 已销号")


@router.post("/tasks/{code}/completion/return", summary="退回办结申请 return completion (office)")
def return_(code: Code, body: cmd.Decision, ctx: Ctx, who: Caller) -> CommandDone:
    with ctx.writes.hold(code):
        ctx.ledger.return_completion(code, body, who)
    return _done(code, "return", f"{code} 办结申请已退回")


@router.post("/tasks/{code}/cancel", summary="撤销任务 cancel (office)")
def cancel(code: Code, body: cmd.Decision, ctx: Ctx, who: Caller) -> CommandDone:
    with ctx.writes.hold(code):
        ctx.ledger.cancel(code, body, who)
    return _done(code, "cancel", f"{code} 已撤销")


@router.post("/tasks/{code}/recognitions", summary="改革试点/典型 recognise (office)")
def recognise(code: Code, body: cmd.Recognise, ctx: Ctx, who: Caller) -> CommandDone:
    with ctx.writes.hold(code):
        ctx.ledger.recognise(code, body, who)
    return _done(code, "recognise", f"{code} 已记录{body.title}")
