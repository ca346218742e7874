"""The `duban` command line: the office's, the liaisons' and the auditors' terminal entry point.

Every command goes through the same `Identity` and `authorize` as the HTTP API; `--as` says
who is acting (default: the office). The task commands are carried out through their
descriptions in `duban.app.task_commands`, the same the API uses. Errors are one clear line on
stderr and a non-zero exit.

An entry point: imports the application layer, the settings and the composition root only.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from duban.app import task_commands as tc
from duban.cli.common import (
    AsOpt,
    Fmt,
    FormatOpt,
    app,
    echo,
    fail,
    parse_day,
    parse_identity,
    services,
    user_errors,
)
from duban.cli.crash import report_unexpected
from duban.cli.plans import task_parts_lines

__all__ = ["app", "main"]

task_app = typer.Typer(help="任务: show, history and the task commands", no_args_is_help=True)
app.add_typer(task_app, name="task")

# ---- init and import -----------------------------------------------------------------------


@app.command()
def init(as_: AsOpt = "office") -> None:
    """Create the store (if new) and record the units, officials and channels of the config."""
    svc = services()
    with user_errors():
        count = svc.ledger.reconcile_directory(svc.config, parse_identity(as_))
    typer.echo(f"store ready: {count} directory change(s) recorded")


IMPORT_COLUMNS = [("code", "编号"), ("action", "操作"), ("summary", "变更")]
_ACTIONS = {"create": "新增", "revise": "修改", "unchanged": "无变化"}


@app.command("import")
def import_(
    file: Path,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show what would change")] = False,
    as_: AsOpt = "office",
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Import a 改革要点 task list (CSV, XLSX, YAML): all rows or none."""
    from duban.app.importer import checked_units, read_task_list

    result = checked_units(read_task_list(file), services().config)
    if result.errors:
        for error in result.errors:
            typer.echo(f"{file.name} {error}", err=True)
        fail(f"{len(result.errors)} 处错误，未导入任何任务", 1)
    with user_errors():
        changes = services().ledger.import_tasks(result.rows, parse_identity(as_), dry_run=dry_run)
    if not dry_run:
        from duban.app.notices import queue_notices_now  # 交办通知 queued at once

        queue_notices_now(services())
    rows = [
        {
            "code": c.code,
            "action": _ACTIONS[c.action] if fmt is not Fmt.json else c.action,
            "summary": "、".join(c.changes) if c.action == "revise" else "",
            "changes": c.changes,
        }
        for c in changes
    ]
    echo(rows, fmt, IMPORT_COLUMNS)
    if fmt is not Fmt.json:
        counts = {a: sum(1 for c in changes if c.action == a) for a in _ACTIONS}
        verb = "将" if dry_run else "已"
        typer.echo(
            f"{verb}新增 {counts['create']}，{verb}修改 {counts['revise']}，"
            f"无变化 {counts['unchanged']}" + ("（试运行，未写入）" if dry_run else "")
        )


# ---- task commands -------------------------------------------------------------------------

CodeArg = Annotated[str, typer.Argument(help="task code (编号), e.g. 2024-07")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="why (recorded in the event)")]


@task_app.command("show")
def task_show(code: CodeArg, fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    with user_errors():
        state = services().ledger.task(code, parse_identity(as_))
    from duban.cli import instructions  # 批示 (issue 12): the task's unanswered instructions

    if fmt is Fmt.json:
        state = {**state, "open_instructions": instructions.open_instructions_json(code)}
    echo(state, fmt if fmt is Fmt.json else Fmt.table)
    if fmt is not Fmt.json:
        for line in instructions.open_instruction_lines(code):
            typer.echo(line)
    if fmt is not Fmt.json:
        for line in task_parts_lines(state):
            typer.echo(line)


HISTORY_COLUMNS = [("version", "#"), ("at", "时间"), ("type", "事件"), ("actor", "办理人")]


@task_app.command("history")
def task_history(code: CodeArg, fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    with user_errors():
        events = services().ledger.task_history(code, parse_identity(as_))
    echo(events, fmt, HISTORY_COLUMNS)


def _perform(command: tc.TaskCommand[Any], code: str, as_: str, **fields: Any) -> None:
    """Validate the options as the command's model, carry it out, print its success text."""
    svc = services()
    with user_errors():
        who = parse_identity(as_)
        done = command.run(svc.ledger, code, command.parse(**fields), who)
    from duban.app.notices import queue_notices_now  # a decision's message queued at once

    queue_notices_now(svc)
    typer.echo(done)


@task_app.command("claim")
def task_claim(code: CodeArg, as_: AsOpt = "office") -> None:
    """签收: the lead unit acknowledges the task."""
    _perform(tc.CLAIM, code, as_)


@task_app.command("report")
def task_report(
    code: CodeArg,
    text: Annotated[str, typer.Option("--text", help="what was done")],
    percent: Annotated[int, typer.Option("--percent", help="0-100")],
    evidence: Annotated[list[str] | None, typer.Option("--evidence", help="link")] = None,
    milestone: Annotated[
        str | None, typer.Option("--milestone", help="the 阶段节点 this report says is reached")
    ] = None,
    as_: AsOpt = "office",
) -> None:
    """进展报送 (a co-unit from assignment on; the lead unit once claimed)."""
    _perform(
        tc.REPORT,
        code,
        as_,
        text=text,
        percent=percent,
        evidence=tuple(evidence or ()),
        milestone=milestone,
    )


@task_app.command("close-milestone")
def task_close_milestone(
    code: CodeArg,
    name: Annotated[str, typer.Argument(help="the milestone's name (阶段节点)")],
    reason: ReasonOpt,
    as_: AsOpt = "office",
) -> None:
    """阶段节点完成: the office records that a milestone is reached."""
    _perform(tc.CLOSE_MILESTONE, code, as_, name=name, reason=reason)


@task_app.command("request-extension")
def task_request_extension(
    code: CodeArg,
    to: Annotated[str, typer.Option("--to", help="new deadline (YYYY-MM-DD)")],
    reason: ReasonOpt,
    as_: AsOpt = "office",
) -> None:
    """延期申请."""
    _perform(tc.REQUEST_EXTENSION, code, as_, new_deadline=parse_day(to, "--to"), reason=reason)


@task_app.command("grant-extension")
def task_grant_extension(
    code: CodeArg,
    reason: ReasonOpt,
    to: Annotated[
        str | None, typer.Option("--to", help="date if not as asked (YYYY-MM-DD)")
    ] = None,
    as_: AsOpt = "office",
) -> None:
    new_deadline = parse_day(to, "--to") if to else None
    _perform(tc.GRANT_EXTENSION, code, as_, reason=reason, new_deadline=new_deadline)


@task_app.command("deny-extension")
def task_deny_extension(code: CodeArg, reason: ReasonOpt, as_: AsOpt = "office") -> None:
    _perform(tc.DENY_EXTENSION, code, as_, reason=reason)


@task_app.command("submit")
def task_submit(
    code: CodeArg,
    summary: Annotated[str, typer.Option("--summary", help="what was achieved")],
    evidence: Annotated[list[str] | None, typer.Option("--evidence", help="link")] = None,
    as_: AsOpt = "office",
) -> None:
    """办结申请."""
    _perform(tc.SUBMIT, code, as_, summary=summary, evidence=tuple(evidence or ()))


@task_app.command("accept")
def task_accept(
    code: CodeArg, reason: ReasonOpt = "审核通过，同意销号", as_: AsOpt = "office"
) -> None:
    """销号."""
    _perform(tc.ACCEPT, code, as_, reason=reason)


@task_app.command("return")
def task_return(code: CodeArg, reason: ReasonOpt, as_: AsOpt = "office") -> None:
    """退回办结申请."""
    _perform(tc.RETURN, code, as_, reason=reason)


@task_app.command("cancel")
def task_cancel(code: CodeArg, reason: ReasonOpt, as_: AsOpt = "office") -> None:
    _perform(tc.CANCEL, code, as_, reason=reason)


@task_app.command("recognise")
def task_recognise(
    code: CodeArg,
    kind: Annotated[str, typer.Option("--kind", help="pilot | exemplar")],
    level: Annotated[str, typer.Option("--level", help="national|provincial|municipal|county")],
    title: Annotated[str, typer.Option("--title")],
    as_: AsOpt = "office",
) -> None:
    """改革试点 / 改革典型."""
    _perform(tc.RECOGNISE, code, as_, kind=kind, level=level, title=title)


# Each part of the system keeps its commands beside it and adds them through `register(app)`.
COMMAND_MODULES = (
    "duban.cli.projections",
    "duban.cli.notify",
    "duban.cli.scheduler",
    "duban.cli.sweep",
    "duban.cli.reports",
    "duban.cli.serve",
    "duban.cli.calendar",
    "duban.cli.instructions",
    "duban.cli.documents",
    "duban.cli.plans",
)


def _register_command_modules() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


def main() -> None:
    """Run the command line; an unexpected error is one line here and a traceback in the log."""
    _register_command_modules()
    app.pretty_exceptions_enable = False  # never a multi-screen traceback on the terminal
    try:
        app()
    except Exception as exc:
        sys.exit(report_unexpected(exc))


if __name__ == "__main__":
    main()
