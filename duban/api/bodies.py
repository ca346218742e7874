"""The request bodies the API adds to `duban.app.commands`: 交办 in bulk, 进展报送 with the
批示 it answers, plans (前置初审) and access tokens (`duban.api.schemas` re-exports them).
Every body refuses a field it does not know and is frozen once validated."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from duban.app import commands as cmd

__all__ = [
    "MAX_IMPORT_ROWS",
    "ImportRequest",
    "InstructionRef",
    "IssueToken",
    "PlanCode",
    "ReportBody",
    "ResubmitPlan",
    "ReviewPlan",
    "RevokeToken",
    "SubmitPlan",
]

PlanCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=60, pattern=r"^[0-9A-Za-z\-_.]+$"
    ),
]
MAX_IMPORT_ROWS = 5000


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- tasks -------------------------------------------------------------------------------


class ImportRequest(_Body):
    """交办 in bulk: the rows of a 改革要点 list as JSON; one bad row and nothing is imported."""

    rows: list[cmd.AssignTask] = Field(min_length=1, max_length=MAX_IMPORT_ROWS)
    dry_run: bool = False


InstructionRef = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
]


class ReportBody(cmd.ReportProgress):
    """进展报送; `answers` names the 领导批示 the lead unit's report answers (its text is the
    answer): refs like ``2024-01/1``, or ``all`` for every open one of the task."""

    answers: tuple[InstructionRef, ...] = Field(
        default=(),
        max_length=50,
        description="领导批示 this report answers: refs like 2024-01/1, or all",
    )

    def progress(self) -> cmd.ReportProgress:
        """The report without its answers (the command the ledger carries out)."""
        return cmd.ReportProgress.model_validate(self.model_dump(exclude={"answers"}))


# ---- plans (前置初审) -----------------------------------------------------------------------


class SubmitPlan(_Body):
    plan_code: PlanCode
    title: cmd.Name
    unit: cmd.Name | None = Field(
        default=None, description="the submitting unit; a liaison's own unit when omitted"
    )
    task_code: cmd.TaskCode | None = None
    milestone: cmd.Name | None = Field(
        default=None, description="the task's 阶段节点 the plan's approval reaches"
    )
    text: cmd.Text = ""


class ResubmitPlan(_Body):
    """A returned plan, revised: its next version (the title stays when omitted)."""

    title: cmd.Name | None = None
    text: cmd.Text = ""


class ReviewPlan(_Body):
    verdict: Literal["opinion", "approve", "return"]
    text: cmd.Reason


# ---- tokens ------------------------------------------------------------------------------


class IssueToken(_Body):
    role: Literal["office", "liaison", "official", "auditor"]
    name: cmd.Name | None = None
    unit: cmd.Name | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class RevokeToken(_Body):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
