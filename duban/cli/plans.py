"""`duban plan submit|resubmit|review|show|history|list`: 前置初审 from the terminal, and the
Chinese lines `duban task show` prints for a task's reached milestones and co-unit reports.

The rules are the ledger's (`duban.app.plan_reviews`); these commands only read options and
print what happened.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from duban.app.notices import queue_notices_now
from duban.app.plan_reviews import Verdict
from duban.cli.common import (
    AsOpt,
    Fmt,
    FormatOpt,
    echo,
    fail,
    parse_identity,
    services,
    user_errors,
)

__all__ = ["plan_app", "register", "task_parts_lines"]

plan_app = typer.Typer(
    help="方案前置初审：报送、重新报送、审核和查看改革方案", no_args_is_help=True
)

PlanArg = Annotated[str, typer.Argument(help="方案编号，如 FA-2024-01")]
_STATUS = {"submitted": "已报送", "in_review": "审核中", "approved": "已通过", "returned": "已退回"}
_KIND = {"opinion": "初审意见", "approve": "审核通过", "return": "退回修改", "submit": "报送"}
_VERDICTS: dict[str, Verdict] = {"opinion": "opinion", "approve": "approve", "return": "return"}
LIST_COLUMNS = [
    ("plan_code", "方案编号"),
    ("title", "方案名称"),
    ("unit", "报送单位"),
    ("task_code", "关联任务"),
    ("milestone", "关联节点"),
    ("revision", "版本"),
    ("status_label", "状态"),
]
HISTORY_COLUMNS = [
    ("at", "时间"),
    ("version", "版本"),
    ("kind_label", "事项"),
    ("by", "办理人"),
    ("text", "内容"),
]


@plan_app.command("submit")
def plan_submit(
    code: PlanArg,
    title: Annotated[str, typer.Option("--title", help="方案名称")],
    unit: Annotated[str | None, typer.Option("--unit", help="报送单位（联络员可省略）")] = None,
    task: Annotated[str | None, typer.Option("--task", help="关联的任务编号")] = None,
    milestone: Annotated[
        str | None, typer.Option("--milestone", help="审核通过即完成的阶段节点")
    ] = None,
    text: Annotated[str, typer.Option("--text", help="方案内容或说明")] = "",
    as_: AsOpt = "office",
) -> None:
    """报送方案（可关联任务及其阶段节点）。"""
    with user_errors():
        services().ledger.submit_plan(
            code, title, unit, task, parse_identity(as_), milestone=milestone, text=text
        )
    typer.echo(f"方案 {code} 已报送（第1版）")


@plan_app.command("resubmit")
def plan_resubmit(
    code: PlanArg,
    text: Annotated[str, typer.Option("--text", help="修改说明或修改后的内容")],
    title: Annotated[str | None, typer.Option("--title", help="新的方案名称")] = None,
    as_: AsOpt = "office",
) -> None:
    """重新报送：修改被退回的方案，作为新的一版报送。"""
    with user_errors():
        revision = services().ledger.resubmit_plan(code, title, text, parse_identity(as_))
    typer.echo(f"方案 {code} 已重新报送（第{revision}版）")


@plan_app.command("review")
def plan_review(
    code: PlanArg,
    verdict: Annotated[
        str,
        typer.Option(
            "--verdict", help="审核结论：opinion（提出意见）、approve（通过）、return（退回）"
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="意见或理由（记入台账）")],
    as_: AsOpt = "office",
) -> None:
    """初审：提出意见、通过或退回，均须写明理由。"""
    if verdict not in _VERDICTS:
        fail("--verdict 只能是 opinion（意见）、approve（通过）或 return（退回）", 2)
    with user_errors():
        status = services().ledger.review_plan(
            code, _VERDICTS[verdict], reason, parse_identity(as_)
        )
    queue_notices_now(services())  # an approval or a return reaches the unit at once
    typer.echo(f"方案 {code}：{_KIND[verdict]}，当前{_STATUS.get(status, status)}")


@plan_app.command("show")
def plan_show(code: PlanArg, fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    with user_errors():
        plan = services().ledger.plan(code, parse_identity(as_))
    if fmt is Fmt.json:
        echo(plan, fmt)
        return
    echo([_listed(plan)], Fmt.table, LIST_COLUMNS)


@plan_app.command("history")
def plan_history(code: PlanArg, fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    """方案的每一版报送和每一次审核，按时间顺序，附理由。"""
    with user_errors():
        plan = services().ledger.plan(code, parse_identity(as_))
    echo(plan_history_rows(plan), fmt, HISTORY_COLUMNS)


@plan_app.command("list")
def plan_list(fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    with user_errors():
        plans = services().ledger.plans(parse_identity(as_))
    echo([_listed(p) for p in plans], fmt, LIST_COLUMNS)


def _listed(plan: dict[str, Any]) -> dict[str, Any]:
    return {**plan, "status_label": _STATUS.get(plan["status"], plan["status"])}


def plan_history_rows(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Versions (报送) and reviews merged by time; a version's row shows its title and text."""
    rows = [
        {
            "at": v["at"],
            "version": v["version"],
            "kind": "submit",
            "kind_label": "报送" if v["version"] == 1 else "重新报送",
            "by": who(v["by"]),
            "text": f"{v['title']}{'：' + v['text'] if v['text'] else ''}",
        }
        for v in plan["versions"]
    ]
    rows += [
        {
            "at": r["at"],
            "version": r["version"],
            "kind": r["kind"],
            "kind_label": _KIND[r["kind"]],
            "by": who(r["by"]),
            "text": r["reason"],
        }
        for r in plan["reviews"]
    ]
    return sorted(rows, key=lambda r: (r["at"], r["kind"] != "submit"))


def task_parts_lines(state: dict[str, Any]) -> list[str]:
    """`duban task show`'s Chinese lines for reached milestones and co-unit reports."""
    lines = [f"阶段节点已完成：{name}" for name in state.get("closed_milestones", [])]
    for report in state.get("co_unit_reports", []):
        at = report["at"]
        when = at.strftime("%Y-%m-%d %H:%M") if hasattr(at, "strftime") else str(at)[:16]
        percent = report.get("percent")
        own = f"（本单位进度{percent}%）" if percent is not None else ""
        lines.append(f"配合单位报送：{who(report['by'])}（{when}）：{report['text']}{own}")
    return lines


def who(actor: str) -> str:
    """ "liaison:县国资办/张三" → "县国资办 张三"; "office:王主任" → "王主任" (as the audit)."""
    role, _, rest = actor.partition(":")
    if role == "liaison":
        unit, _, name = rest.partition("/")
        return f"{unit} {name}".strip()
    return rest or actor


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
