"""`/my` 我的任务: the signed-in liaison's unit's tasks, what is due first and what is expected.

A liaison sees the tasks their unit leads and those it co-operates on, the nearest date first
(the 签收 deadline of a task not yet claimed, the next 阶段节点, the task's deadline), each with
its light, its status and what the unit is expected to do now (签收 / 报送进展 / 已退回：原因 /
延期待审批 / 待回复批示). The office goes to its 工作台, an official to 领衔领导, an auditor
to 审计: /my is the liaison's page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from duban.app.assignment_notices import claim_days, claim_deadline
from duban.app.instructions import open_counts
from duban.app.reads import BoardQuery
from duban.app.roles import Identity, authorize
from duban.web.auth import Viewer, render
from duban.web.context import Ctx, WebContext
from duban.web.task_page import OPEN_STATUSES, refusals

__all__ = ["HOME_OF_ROLE", "MyTask", "my_tasks", "router"]

router = APIRouter(include_in_schema=False)
HOME_OF_ROLE = {"office": "/office", "official": "/official", "auditor": "/audit"}


@dataclass(frozen=True)
class MyTask:
    """One line of 我的任务."""

    row: dict[str, Any]
    lead: bool  # the unit leads it (else it co-operates)
    due: dt.date | None  # the nearest date
    due_label: str  # what that date is: 签收截止 / 节点「…」 / 完成时限
    expected: list[str]  # what the unit is expected to do now, in words
    urgent: bool  # a date passed, or the task came back


def _assigned_at(history: list[dict[str, Any]]) -> dt.datetime | None:
    for event in history:
        if str(event.get("type", "")).endswith("Assigned"):
            at = event.get("at")
            return at if isinstance(at, dt.datetime) else None
    return None


def _dates(ctx: WebContext, row: dict[str, Any], lead: bool, history: list[dict[str, Any]]
           ) -> list[tuple[dt.date, str]]:  # fmt: skip
    found: list[tuple[dt.date, str]] = []
    assigned = _assigned_at(history)
    if lead and row["status"] == "assigned" and assigned is not None:
        calendar = ctx.reads.services.calendar
        found.append((claim_deadline(assigned, calendar, claim_days(ctx.config)), "签收截止"))
    milestone = row.get("next_milestone")
    if milestone:
        found.append((dt.date.fromisoformat(milestone["due"]), f"节点「{milestone['name']}」"))
    if row["deadline"]:
        found.append((dt.date.fromisoformat(row["deadline"]), "完成时限"))
    return sorted(found, key=lambda pair: pair[0])


def _expected(row: dict[str, Any], lead: bool, came_back: dict[str, str], waiting: int
              ) -> list[str]:  # fmt: skip
    """What the unit is to do now, the most pressing first."""
    if not lead:
        return ["报送进展（配合）"]
    if row["status"] == "assigned":
        return ["签收"]
    said: list[str] = []
    if "returned" in came_back:
        said.append(f"已退回：{came_back['returned']}")
    if "denied" in came_back:
        said.append(f"延期未批准：{came_back['denied']}")
    if waiting:
        said.append(f"待回复批示（{waiting} 条）")
    if row["pending_extension"]:
        said.append(f"延期待审批（至 {row['pending_extension']}）")
    if row["status"] == "submitted":
        said.append("销号待审核")
    else:
        said.append("报送进展")
    return said


def my_tasks(ctx: WebContext, who: Identity) -> list[MyTask]:
    """The unit's open tasks, the nearest date first (tasks without a date last)."""
    today = ctx.reads.today()
    waiting = open_counts(ctx.ledger)
    found: list[MyTask] = []
    for row in ctx.reads.board(BoardQuery(unit=who.unit)):
        if row["status"] not in OPEN_STATUSES:
            continue
        lead = row["lead_unit"] == who.unit
        history = ctx.ledger.task_history(row["code"], who)
        dates = _dates(ctx, row, lead, history)
        came_back = refusals(history) if lead else {}
        due, label = dates[0] if dates else (None, "持续推进")
        expected = _expected(row, lead, came_back, waiting.get(row["code"], 0) if lead else 0)
        urgent = bool(came_back) or (due is not None and due < today)
        found.append(MyTask(row, lead, due, label, expected, urgent))
    return sorted(found, key=lambda t: (t.due is None, t.due or today, t.row["code"]))


@router.get("/my")
def my_page(request: Request, ctx: Ctx, who: Viewer) -> Response:
    home = HOME_OF_ROLE.get(who.role)
    if home is not None:
        return RedirectResponse(home, status_code=303)
    authorize(who, "read")
    tasks = my_tasks(ctx, who)
    context = {
        "tasks": tasks,
        "lead_count": sum(1 for t in tasks if t.lead),
        "co_count": sum(1 for t in tasks if not t.lead),
        "today": ctx.reads.today(),
    }
    return render(request, "my.html", context)
