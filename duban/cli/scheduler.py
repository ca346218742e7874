"""`duban scheduler jobs|run|preview` (`preview` is the sweep module's `preview_command`).

`jobs` shows every configured schedule in words (「每月第1个工作日 09:00」, 「周一至周五 09:00」)
with its next fire times, computed with the office calendar, so that an admin sees at once
whether `workday 1 of month 09:00` or `0 9 * * 1-5` means what they think (the first working
day of each month, 调休 and holidays included; Monday to Friday in crontab numbering). The
expressions themselves, as the config writes them, are in `--format json`.
`run` runs the scheduler in the foreground until SIGINT or SIGTERM. Both reach the scheduler
through the composition root (`duban.bootstrap`), which wires its jobs and its leadership.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

import typer

from duban.app.scheduled import JOB_LABELS
from duban.bootstrap import (
    DEFAULT_LEASE_SECONDS,
    SchedulerAlreadyRunning,
    run_scheduler,
    schedule_for,
)
from duban.cli.common import AsOpt, current_moment, fail, parse_moment, require, services
from duban.cli.output import render_table, to_json
from duban.cli.sweep import preview_command

__all__ = ["register", "scheduler_app"]

scheduler_app = typer.Typer(
    help="调度：配置的定时任务、下次运行时间，以及定时任务的运行",
    no_args_is_help=True,
)

_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
JOB_COLUMNS = [("label", "任务"), ("plan", "计划"), ("next", "下次触发")]


class JobsFmt(StrEnum):
    table = "table"
    json = "json"


def jobs(
    fmt: Annotated[
        JobsFmt, typer.Option("--format", help="格式：table（表格）、json")
    ] = JobsFmt.table,
    after: Annotated[
        str | None,
        typer.Option("--from", help="显示此刻之后的运行时间，如 2024-10-09T09:00"),
    ] = None,
    count: Annotated[int, typer.Option("--count", min=1, max=50, help="每项任务显示几次")] = 3,
    as_: AsOpt = "office",
) -> None:
    """全部定时任务及其计划和下次运行时间（按办公日历和配置的时区）。"""
    require(as_, "read")
    svc = services()
    config = svc.config
    start = current_moment()
    if after is not None:
        start = _aware(parse_moment(after, "--from", config.tz), config.tz)
    rows = schedule_for(svc).describe(start, count)
    if fmt is JobsFmt.json:
        typer.echo(to_json({"timezone": config.timezone, "from": start, "jobs": rows}))
        return
    typer.echo(f"时区 {config.timezone}，自 {_moment(start)} 起：")
    typer.echo(render_table([_table_row(r) for r in rows], JOB_COLUMNS))


def _aware(moment: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A moment typed on the command line is in the config's zone unless it says otherwise."""
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def _moment(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d} {_WEEKDAYS[moment.weekday()]} {moment:%H:%M}"


def _table_row(row: dict[str, Any]) -> dict[str, Any]:
    """The job's Chinese name and its schedule in words; the config's expression (``cron``)
    and the job's key stay in ``--format json``."""
    return {
        "label": JOB_LABELS.get(row["name"], "其他任务"),
        "plan": row["description"],
        "next": "；".join(_moment(t) for t in row["next_fire_times"]),
    }


def run(
    lease: Annotated[
        float,
        typer.Option(
            "--lease",
            min=0.5,
            help="主节点检查间隔秒数（PostgreSQL）：备用节点在此时间内接替",
        ),
    ] = DEFAULT_LEASE_SECONDS,
    as_: AsOpt = "office",
) -> None:
    """运行定时任务，直到按 Ctrl-C 或收到停止信号；使用 PostgreSQL 时只有主节点执行任务。"""
    require(as_, "admin")
    svc = services()
    try:
        run_scheduler(svc, lease=lease)
    except SchedulerAlreadyRunning as exc:
        fail(str(exc), 1)
    finally:
        svc.ledger.close()


def register(app: typer.Typer) -> None:
    scheduler_app.command("jobs")(jobs)
    scheduler_app.command("run")(run)
    scheduler_app.command("preview")(preview_command)
    app.add_typer(scheduler_app, name="scheduler")
