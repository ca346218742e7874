"""What the API answers, and (from `duban.api.bodies`) the request bodies it adds to
`duban.app.commands`: the OpenAPI contract."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from duban.api.bodies import (
    ImportRequest,
    IssueToken,
    PlanCode,
    ReportBody,
    ResubmitPlan,
    ReviewPlan,
    RevokeToken,
    SubmitPlan,
)
from duban.api.field_names import FIELD_NAMES, MODEL_FIELD_NAMES

__all__ = [
    "FIELD_NAMES",
    "MODEL_FIELD_NAMES",
    "Assigned",
    "AuditEntry",
    "Board",
    "BoardRow",
    "CommandDone",
    "ErrorBody",
    "EventView",
    "FieldProblem",
    "FileView",
    "ImportChangeView",
    "ImportRequest",
    "ImportResult",
    "IssueToken",
    "IssuedTokenView",
    "Me",
    "MilestoneView",
    "PlanCode",
    "PlanView",
    "ReportBody",
    "ResubmitPlan",
    "ReviewPlan",
    "RevokeToken",
    "SubmitPlan",
    "TaskView",
    "TokenView",
]

Light = Literal["red", "yellow", "green", "closed"]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- errors ------------------------------------------------------------------------------


class FieldProblem(_Answer):
    field: str = Field(description="where: body.percent, query.unit, path.code, …")
    message: str
    type: str


class ErrorBody(_Answer):
    """Every error: a stable code, a message a person can act on (Chinese), the fields at fault."""

    error: str = Field(description="stable code, e.g. forbidden, task_not_found, not_claimed")
    message: str
    fields: list[FieldProblem] = []


# ---- tasks -------------------------------------------------------------------------------


class FileView(_Answer):
    """An uploaded evidence file: attach it to a report, an extension request or a completion
    by its `sha256` (and a `name`)."""

    sha256: str
    name: str
    size: int = Field(description="bytes")
    type: str = Field(description="media type, from the content")


class CommandDone(_Answer):
    code: str
    action: str
    message: str


class MilestoneView(_Answer):
    name: str
    due: dt.date


class CoUnitReportView(_Answer):
    """A co-unit's latest report on the task (配合单位报送)."""

    unit: str
    by: str
    at: dt.datetime
    text: str
    percent: int | None = Field(
        default=None, description="the co-unit's own progress on its part (not the task's)"
    )


class TaskView(_Answer):
    """A task as it stands now (the ledger's state of the aggregate) with its light."""

    code: str
    title: str
    area: str | None
    lead_unit: str
    co_units: list[str]
    official: str | None
    group: str | None
    deadline: dt.date | None
    assigned_deadline: dt.date | None
    deadline_text: str
    milestones: list[MilestoneView]
    notes: str
    status: str
    status_label: str
    claimed_by: str | None
    percent: int
    last_report_at: dt.datetime | None
    reports: int
    pending_extension: dt.date | None
    extensions: list[dict[str, Any]]
    submitted_at: dt.datetime | None
    closed_at: dt.datetime | None
    completed_on_time: bool | None
    escalations: list[dict[str, Any]]
    recognitions: list[dict[str, Any]]
    closed_milestones: list[str] = Field(default=[], description="阶段节点 reached")
    co_unit_reports: list[CoUnitReportView] = []
    open_instructions: list[dict[str, Any]] = Field(
        default=[], description="待答复的领导批示 (as GET /tasks/{code}/instructions shows them)"
    )
    version: int
    light: Light
    light_label: str
    light_reasons: list[str]
    next_milestone: MilestoneView | None
    escalation: str | None
    escalation_label: str | None


class BoardRow(_Answer):
    """One row of the board: the shape `duban board --format json` documents."""

    code: str
    title: str
    area: str | None
    status: str
    status_label: str
    light: Light
    light_label: str
    light_reasons: list[str] = Field(description="why the light is not green, in Chinese")
    deadline: dt.date | None = Field(description="effective deadline; null = 持续推进")
    deadline_text: str
    assigned_deadline: dt.date | None
    extensions: int = Field(description="extensions granted")
    pending_extension: dt.date | None
    next_milestone: MilestoneView | None
    last_report_date: dt.date | None
    percent: int
    reports: int
    escalation: str | None
    escalation_label: str | None
    lead_unit: str
    co_units: list[str]
    official: str | None
    group: str | None
    recognitions: list[dict[str, str]]
    closed_milestones: list[str] = Field(default=[], description="阶段节点 reached")
    co_unit_reports: list[CoUnitReportView] = []
    open_instructions: int = Field(default=0, description="领导批示 not yet answered")


class Board(_Answer):
    today: dt.date
    count: int
    rows: list[BoardRow]


class AuditEntry(_Answer):
    """One entry of the audit trail: who did what when, in plain Chinese, with the full event."""

    position: int = Field(description="the event's position in the store (notification id)")
    at: str | None = Field(description="office time of the fact (ISO 8601)")
    recorded_at: str | None = Field(description="when the store wrote it (ISO 8601)")
    actor: str | None
    via: str | None = Field(None, description="session:<public id> | token:<token_id> | null")
    who: str
    type: str
    tasks: list[str]
    summary: str
    data: dict[str, Any]


class EventView(BaseModel):
    """One stored event: its type, position and every field it recorded (fields vary by type)."""

    model_config = ConfigDict(extra="allow")

    type: str
    originator_id: str
    version: int
    recorded_at: dt.datetime


class ImportChangeView(_Answer):
    code: str
    action: Literal["create", "revise", "unchanged"]
    changes: dict[str, Any]


class ImportResult(_Answer):
    dry_run: bool
    changes: list[ImportChangeView]
    warnings: list[str] = Field(
        default_factory=list, description="提示：e.g. the units were not checked (no [[units]])"
    )


class Assigned(_Answer):
    code: str
    id: str


# ---- plans (前置初审) -----------------------------------------------------------------------


class PlanVersionView(_Answer):
    version: int
    title: str
    text: str
    by: str
    at: dt.datetime


class PlanReviewView(_Answer):
    kind: Literal["opinion", "approve", "return"]
    reason: str
    by: str
    at: dt.datetime
    version: int


class PlanView(_Answer):
    plan_code: str
    title: str
    unit: str
    task_code: str | None
    milestone: str | None = None
    status: str
    opinions: list[dict[str, str]]
    version: int
    revision: int = Field(description="the plan's version number (1 = first submission)")
    versions: list[PlanVersionView]
    reviews: list[PlanReviewView]


# ---- tokens ------------------------------------------------------------------------------


class TokenView(_Answer):
    token_id: str
    role: str
    name: str
    unit: str | None
    issued_by: str
    issued_at: dt.datetime
    revoked: bool
    revoked_by: str | None
    revoked_at: dt.datetime | None


class IssuedTokenView(_Answer):
    token_id: str
    token: str = Field(description="shown this once; only its SHA-256 digest is stored")
    role: str
    name: str
    unit: str | None


class Me(_Answer):
    role: str
    name: str
    unit: str | None
    actor: str
