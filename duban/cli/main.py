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
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from duban.app import task_commands as tc
from duban.app.vocabulary import RECOGNITION_LABELS
from duban.cli.common import (
    AsOpt,
    Fmt,
    FormatOpt,
    app,
    close_services,
    echo,
    fail,
    parse_day,
    parse_identity,
    services,
    user_errors,
)
from duban.cli.crash import report_unexpected
from duban.cli.plans import task_parts_lines
from duban.cli.task_view import HISTORY_COLUMNS, history_rows, task_lines

__all__ = ["app", "main"]

task_app = typer.Typer(
    help="任务：查看、办理记录，以及签收、报送、延期、销号等办理命令", no_args_is_help=True
)
app.add_typer(task_app, name="task")

# ---- init and import -----------------------------------------------------------------------


@app.command()
def init(as_: AsOpt = "office") -> None:
    """初始化台账（首次运行时建立），并登记配置文件中的单位、领导和群机器人。"""
    svc = services()
    with user_errors():
        count = svc.ledger.reconcile_directory(svc.config, parse_identity(as_))
    typer.echo(f"台账已就绪：本次登记名录变更 {count} 项")


IMPORT_COLUMNS = [("code", "编号"), ("action", "操作"), ("summary", "变更")]
_ACTIONS = {"create": "新增", "revise": "修改", "unchanged": "无变化"}


@app.command("import")
def import_(
    file: Path,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="试运行：只显示将发生的变更，不写入")
    ] = False,
    as_: AsOpt = "office",
    fmt: FormatOpt = Fmt.table,
) -> None:
    """导入改革要点任务清单（CSV、XLSX、YAML）：全部导入或全部不导入。"""
    from duban.app.importer import checked_units, read_task_list, unchecked_units_warning

    result = checked_units(read_task_list(file), services().config)
    if warning := unchecked_units_warning(services().config):
        typer.echo(warning, err=True)
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

CodeArg = Annotated[str, typer.Argument(help="任务编号，如 2024-07")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="理由（记入台账）")]


@task_app.command("show")
def task_show(code: CodeArg, fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    """查看一项任务：牵头单位、完成时限、状态、阶段节点和最新进展。"""
    with user_errors():
        state = services().ledger.task(code, parse_identity(as_))
    from duban.cli import instructions  # 批示 (issue 12): the task's unanswered instructions

    if fmt is Fmt.json:
        state = {**state, "open_instructions": instructions.open_instructions_json(code)}
    if fmt is Fmt.json:
        echo(state, fmt)
    else:
        titles = {o.name: o.title for o in services().config.officials}
        for line in task_lines(state, titles):  # Chinese names and dates (duban.cli.task_view)
            typer.echo(line)
    if fmt is not Fmt.json:
        for line in instructions.open_instruction_lines(code):
            typer.echo(line)
    if fmt is not Fmt.json:
        for line in task_parts_lines(state):
            typer.echo(line)


@task_app.command("history")
def task_history(code: CodeArg, fmt: FormatOpt = Fmt.table, as_: AsOpt = "office") -> None:
    """办理记录：谁、何时、做了什么（交办、签收、报送……）。"""
    with user_errors():
        events = services().ledger.task_history(code, parse_identity(as_))
    if fmt is Fmt.json:
        echo(events, fmt, HISTORY_COLUMNS)
    else:  # table and csv: the events' labels, Chinese dates, people by name
        echo(history_rows(events), fmt, HISTORY_COLUMNS)


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
    """签收：牵头单位确认接受任务。"""
    _perform(tc.CLAIM, code, as_)


@task_app.command("report")
def task_report(
    code: CodeArg,
    text: Annotated[str, typer.Option("--text", help="进展情况")],
    percent: Annotated[int, typer.Option("--percent", help="完成进度，0～100")],
    evidence: Annotated[
        list[str] | None, typer.Option("--evidence", help="佐证材料链接，可多次")
    ] = None,
    milestone: Annotated[
        str | None, typer.Option("--milestone", help="本次报送完成的阶段节点")
    ] = None,
    answers: Annotated[
        list[str] | None,
        typer.Option("--answers", help="本次报送答复的批示（如 2024-01/1，或 all 表示全部）"),
    ] = None,
    as_: AsOpt = "office",
) -> None:
    """进展报送（配合单位交办后即可报送，牵头单位签收后报送）；带 --answers 时，牵头单位的
    报送即答复这些领导批示。"""
    fields: dict[str, Any] = {
        "text": text,
        "percent": percent,
        "evidence": tuple(evidence or ()),
        "milestone": milestone,
    }
    if answers:
        from duban.cli import instructions  # 批示 (issue 12): the report is the answer

        instructions.report_answering(code, as_, answers, fields)
        return
    _perform(tc.REPORT, code, as_, **fields)


@task_app.command("close-milestone")
def task_close_milestone(
    code: CodeArg,
    name: Annotated[str, typer.Argument(help="阶段节点名称")],
    reason: ReasonOpt,
    as_: AsOpt = "office",
) -> None:
    """阶段节点完成：改革办确认某一阶段节点已完成。"""
    _perform(tc.CLOSE_MILESTONE, code, as_, name=name, reason=reason)


@task_app.command("request-extension")
def task_request_extension(
    code: CodeArg,
    to: Annotated[str, typer.Option("--to", help="申请延至的日期，如 2024-06-30")],
    reason: ReasonOpt,
    as_: AsOpt = "office",
) -> None:
    """延期申请：牵头单位申请延长完成时限。"""
    _perform(tc.REQUEST_EXTENSION, code, as_, new_deadline=parse_day(to, "--to"), reason=reason)


@task_app.command("grant-extension")
def task_grant_extension(
    code: CodeArg,
    reason: ReasonOpt,
    to: Annotated[
        str | None, typer.Option("--to", help="与申请不同时批准的日期，如 2024-06-30")
    ] = None,
    as_: AsOpt = "office",
) -> None:
    """同意延期（改革办）。"""
    new_deadline = parse_day(to, "--to") if to else None
    _perform(tc.GRANT_EXTENSION, code, as_, reason=reason, new_deadline=new_deadline)


@task_app.command("deny-extension")
def task_deny_extension(code: CodeArg, reason: ReasonOpt, as_: AsOpt = "office") -> None:
    """不同意延期（改革办）。"""
    _perform(tc.DENY_EXTENSION, code, as_, reason=reason)


@task_app.command("submit")
def task_submit(
    code: CodeArg,
    summary: Annotated[str, typer.Option("--summary", help="完成情况")],
    evidence: Annotated[
        list[str] | None, typer.Option("--evidence", help="佐证材料链接，可多次")
    ] = None,
    as_: AsOpt = "office",
) -> None:
    """办结申请：牵头单位申请销号。"""
    _perform(tc.SUBMIT, code, as_, summary=summary, evidence=tuple(evidence or ()))


@task_app.command("accept")
def task_accept(
    code: CodeArg, reason: ReasonOpt = "审核通过，同意销号", as_: AsOpt = "office"
) -> None:
    """销号：改革办审核通过，任务办结。"""
    _perform(tc.ACCEPT, code, as_, reason=reason)


@task_app.command("return")
def task_return(code: CodeArg, reason: ReasonOpt, as_: AsOpt = "office") -> None:
    """退回办结申请（改革办）。"""
    _perform(tc.RETURN, code, as_, reason=reason)


@task_app.command("cancel")
def task_cancel(code: CodeArg, reason: ReasonOpt, as_: AsOpt = "office") -> None:
    """撤销任务（改革办）。"""
    _perform(tc.CANCEL, code, as_, reason=reason)


RECOGNITION_KINDS = {"pilot": "改革试点", "exemplar": "改革典型"}


def _choice(option: str, typed: str, labels: Mapping[str, str]) -> str:
    """The code of a choice typed by its Chinese name (改革试点, 省级) or its code (pilot,
    provincial); else one line naming the Chinese choices and exit 2."""
    value = typed.strip()
    by_label = {text: code for code, text in labels.items()}
    if value in labels:
        return value
    if value not in by_label:
        fail(f"{option}：应为{'、'.join(labels.values())}之一", 2)
    return by_label[value]


@task_app.command("recognise")
def task_recognise(
    code: CodeArg,
    kind: Annotated[str, typer.Option("--kind", help="类别：改革试点、改革典型")],
    level: Annotated[str, typer.Option("--level", help="级别：国家级、省级、市级、县级")],
    title: Annotated[str, typer.Option("--title", help="名称")],
    as_: AsOpt = "office",
) -> None:
    """记录改革试点、改革典型（改革办）。"""
    kind = _choice("--kind", kind, RECOGNITION_KINDS)
    level = _choice("--level", level, RECOGNITION_LABELS)
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
    "duban.cli.people",  # web sign-in (issue 15): invite, person, session
    "duban.cli.demo",  # the living demo of `make run` (issue 15)
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
    finally:
        close_services()


if __name__ == "__main__":
    main()
