"""Every task command described once: its validation model, the ledger call and the success text.

The CLI (`duban task claim|report|…`) and the API (`POST /api/v1/tasks/{code}/…`) keep their own
options and routes, and both carry a command out through its description here, so what a
command checks, does and answers is written in one place. The ledger method authorizes the
caller for the command's role action (`domain.roles.authorize`) and records them as the actor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from domain.roles import Identity
from domain.task_rules import co_unit_of, co_unit_report, sets_percent
from duban.app import commands as cmd
from duban.app.ledger import Ledger, TaskSaved

__all__ = [
    "ACCEPT",
    "CANCEL",
    "CLAIM",
    "CLOSE_MILESTONE",
    "DENY_EXTENSION",
    "GRANT_EXTENSION",
    "RECOGNISE",
    "REPORT",
    "REQUEST_EXTENSION",
    "RETURN",
    "SUBMIT",
    "TaskCommand",
]

Body = TypeVar("Body", bound=BaseModel)


@dataclass(frozen=True)
class TaskCommand(Generic[Body]):
    """One command on one task."""

    action: str  # the name the API answers with (`CommandDone.action`)
    model: type[Body]  # what the command carries, validated
    call: Callable[[Ledger, str, Body, Identity], object]  # the ledger method
    done: str  # the success text: `{code}` and the model's fields
    # When the text depends on what the command did (a co-unit's report): the text, or None
    # for `done`; asked after the call (it loads the task).
    says: Callable[[Ledger, str, Body, Identity], str | None] | None = None
    # The same text from the task as the call saved it, when the call hands it back
    # (`TaskSaved`): no second load.
    says_saved: Callable[[TaskSaved, Body, Identity], str | None] | None = None

    def parse(self, **fields: Any) -> Body:
        """The command's fields validated (raises pydantic's `ValidationError`)."""
        return self.model.model_validate(fields)

    def run(self, ledger: Ledger, code: str, body: Body, who: Identity) -> str:
        """Carry the command out on task `code`; the success text."""
        saved = self.call(ledger, code, body, who)
        said = None
        if self.says_saved is not None and isinstance(saved, TaskSaved):
            said = self.says_saved(saved, body, who)
        elif self.says is not None:
            said = self.says(ledger, code, body, who)
        return said if said is not None else self.done.format(code=code, **dict(body))


def _claim(ledger: Ledger, code: str, _body: cmd.Claim, who: Identity) -> None:
    ledger.claim(code, who)


CLAIM = TaskCommand("claim", cmd.Claim, _claim, "{code} 已签收")


def _report_text(
    code: str,
    lead_unit: str,
    co_units: list[str],
    percent: int,
    body: cmd.ReportProgress,
    who: Identity,
) -> str | None:
    """A report that does not set the task's percent says so: a co-unit's (its own part's
    percent, kept with its report) and the leading official's; the lead unit's, None."""
    if sets_percent(who.actor, lead_unit):
        return None
    if co_unit_report(who.actor, lead_unit, co_units):
        unit = co_unit_of(who.actor)
        return f"{code} 配合单位进展已报送（{unit}，本单位进度{body.percent}%）"
    return f"{code} 进展已报送（不改变任务进度，任务进度仍为{percent}%）"


def _report_said(ledger: Ledger, code: str, body: cmd.ReportProgress, who: Identity) -> str | None:
    task = ledger._task(code)
    return _report_text(code, task.lead_unit, list(task.co_units), task.percent, body, who)


def _report_saved(saved: TaskSaved, body: cmd.ReportProgress, who: Identity) -> str | None:
    return _report_text(saved.code, saved.lead_unit, list(saved.co_units), saved.percent, body, who)


REPORT = TaskCommand(
    "report",
    cmd.ReportProgress,
    Ledger.report,
    "{code} 进展已报送（{percent}%）",
    says=_report_said,
    says_saved=_report_saved,
)
REQUEST_EXTENSION = TaskCommand(
    "request_extension",
    cmd.RequestExtension,
    Ledger.request_extension,
    "{code} 已申请延期至 {new_deadline}",
)
GRANT_EXTENSION = TaskCommand(
    "grant_extension", cmd.DecideExtension, Ledger.grant_extension, "{code} 延期已批准"
)
DENY_EXTENSION = TaskCommand(
    "deny_extension", cmd.DecideExtension, Ledger.deny_extension, "{code} 延期未批准"
)
SUBMIT = TaskCommand("submit", cmd.SubmitCompletion, Ledger.submit_completion, "{code} 已申请办结")
ACCEPT = TaskCommand("accept", cmd.Decision, Ledger.accept_completion, "{code} 已销号")
RETURN = TaskCommand("return", cmd.Decision, Ledger.return_completion, "{code} 办结申请已退回")
CANCEL = TaskCommand("cancel", cmd.Decision, Ledger.cancel, "{code} 已撤销")
RECOGNISE = TaskCommand("recognise", cmd.Recognise, Ledger.recognise, "{code} 已记录{title}")
CLOSE_MILESTONE = TaskCommand(
    "close_milestone",
    cmd.CloseMilestone,
    Ledger.close_milestone,
    "{code} 阶段节点「{name}」已完成",
)
