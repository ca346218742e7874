"""领导批示 and 追责问责 endpoints: the rules are the application's (`duban.app.instructions`,
`duban.app.accountability`); these routes only translate HTTP.

- `POST /tasks/{code}/instructions` (the task's leading official or the office), `GET` (who
  may read the task), `POST /tasks/{code}/instructions/{number}/answer` (the lead unit);
- `POST /accountability` (the office), `GET /accountability?year=` (the register as the
  caller may read it).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from duban.api.deps import Caller, Code, ConfirmingRoute, Ctx, ServiceContext
from duban.app import commands as cmd
from duban.app.accountability import AccountabilityRegister
from duban.app.instructions import InstructionDesk
from duban.app.notices import queue_notices_now

__all__ = ["router"]

router = APIRouter(tags=["instructions"], route_class=ConfirmingRoute)

InstructionText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)
]
Number = Annotated[int, Path(ge=1, le=999_999, description="批示序号（任务内）")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IssueInstruction(_Body):
    text: InstructionText
    answer_by: dt.date | None = Field(default=None, description="答复时限 (YYYY-MM-DD)")


class AnswerInstruction(_Body):
    text: InstructionText


class InstructionView(_Answer):
    ref: str = Field(description="批示编号：任务编号/序号")
    task_code: str
    unit: str
    text: str
    answer_by: dt.date | None
    issued_by: str
    issued_by_name: str = Field(description="批示人（中文）")
    issued_at: dt.datetime
    answered: bool
    answer_text: str | None
    answered_by: str | None
    answered_by_name: str | None
    answered_at: dt.datetime | None
    overdue: bool
    urges: int = Field(description="已发出的批示催办次数")


class RecordMeasure(_Body):
    task_code: cmd.TaskCode
    unit: cmd.Name
    kind: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] = (
        Field(description="interview 约谈 | criticism 通报批评 | accountability 问责（中文亦可）")
    )
    reason: cmd.Reason
    document_no: cmd.Name = Field(description="文号")
    date: dt.date | None = Field(default=None, description="措施日期（默认登记当日）")


class MeasureView(_Answer):
    task_code: str
    unit: str
    kind: str
    kind_label: str
    reason: str
    document_no: str
    date: dt.date
    recorded_by: str
    recorded_by_name: str
    recorded_at: dt.datetime


def _desk(ctx: ServiceContext) -> InstructionDesk:
    return InstructionDesk(ctx.ledger, ctx.config.tz)


def _register(ctx: ServiceContext) -> AccountabilityRegister:
    return AccountabilityRegister(ctx.ledger, ctx.config.tz)


@router.get("/tasks/{code}/instructions", summary="任务的领导批示 instructions on a task")
def instructions(code: Code, ctx: Ctx, who: Caller) -> list[InstructionView]:
    return [InstructionView.model_validate(i) for i in _desk(ctx).of_task(code, who)]


@router.post("/tasks/{code}/instructions", status_code=201, summary="作出批示 issue an instruction")
def issue_instruction(code: Code, body: IssueInstruction, ctx: Ctx, who: Caller) -> InstructionView:
    with ctx.writes.hold(code):
        done = _desk(ctx).issue(code, body.text, body.answer_by, who)
    queue_notices_now(ctx.reads.services)  # the 批示 reaches the lead unit at once
    return InstructionView.model_validate(done)


@router.post("/tasks/{code}/instructions/{number}/answer", summary="答复批示 the lead unit answers")
def answer_instruction(
    code: Code, number: Number, body: AnswerInstruction, ctx: Ctx, who: Caller
) -> InstructionView:
    return InstructionView.model_validate(_desk(ctx).answer(f"{code}/{number}", body.text, who))


@router.get("/accountability", summary="追责问责登记簿 the register of measures")
def measures(
    ctx: Ctx,
    who: Caller,
    year: Annotated[int | None, Query(ge=2000, le=2099, description="只看该年")] = None,
) -> list[MeasureView]:
    return [MeasureView.model_validate(m) for m in _register(ctx).listing(who, year)]


@router.post("/accountability", status_code=201, summary="登记追责问责措施 record a measure")
def record_measure(body: RecordMeasure, ctx: Ctx, who: Caller) -> MeasureView:
    done = _register(ctx).record(
        body.task_code, body.unit, body.kind, body.reason, body.document_no, who, body.date
    )
    queue_notices_now(ctx.reads.services)  # the measure reaches the unit at once
    return MeasureView.model_validate(done)
