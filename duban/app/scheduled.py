"""What each scheduled job does: `JOBS[name](services, now)`, keyed like `config.schedules`.

The scheduler (`scheduler/`) only decides *when* and *on which node*; the composition root hands
it `job_runs(services)` at the schedules of `config.schedules` with the grace times below. Every job
here is idempotent on its own (ids from natural keys, one transaction per write), so a run
repeated after a restart or on a second node changes nothing. What the jobs would send over a
period, without sending it, is `duban.app.preview`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

import structlog

from duban.app import monthly_rounds as rounds
from duban.app.calendar_watch import calendar_watch_job
from duban.app.delivery_adapters import DeliveryReport, deliver_due
from duban.app.office_messages import queue_once
from duban.app.report_docs import office_post
from duban.app.report_kinds import ANNUAL, MONTHLY, QUARTERLY, ReportKind
from duban.app.services import Services
from duban.app.sweep import sweep

__all__ = ["JOBS", "JOB_LABELS", "MISFIRE_GRACE_SECONDS", "Job", "job_runs", "run_delivery"]

log = structlog.get_logger(__name__)

Job = Callable[[Services, dt.datetime], None]


# ---- delivery ----------------------------------------------------------------------------------


def run_delivery(services: Services, now: dt.datetime) -> DeliveryReport:
    """One delivery pass over the outbox: the sweep's one coupling to delivery."""
    return deliver_due(services, now)


# ---- the jobs ----------------------------------------------------------------------------------


def sweep_job(services: Services, now: dt.datetime) -> None:
    """The ladder, then the report round's reminder (it is due on a working-day date that
    the monthly `report_round` schedule does not hit)."""
    sweep(services, now)
    rounds.remind_missing(services, now)


def deliver_job(services: Services, now: dt.datetime) -> None:
    run_delivery(services, now)


def report_round_job(services: Services, now: dt.datetime) -> None:
    """Close last month's round, open this month's, remind if already due."""
    rounds.close_due_rounds(services, now)
    rounds.open_round(services, None, now)
    rounds.remind_missing(services, now)


def _post_report(services: Services, now: dt.datetime, kind: ReportKind[Any]) -> None:
    """Queue the report of the previous period for the office chat."""
    post = office_post(services, kind, now)
    queue_once(
        services, now, key=post.message_key, channel=post.channel, title=post.title,
        parts=post.parts, kind="report",
    )  # fmt: skip


def monthly_report_job(services: Services, now: dt.datetime) -> None:
    _post_report(services, now, MONTHLY)


def quarterly_report_job(services: Services, now: dt.datetime) -> None:
    _post_report(services, now, QUARTERLY)


def annual_assessment_job(services: Services, now: dt.datetime) -> None:
    _post_report(services, now, ANNUAL)


def chain_head_job(services: Services, now: dt.datetime) -> None:
    """Post the hash chain's head to the office chat: a copy outside the store's reach. Once a
    day: the message itself is an event that moves the head, so the key is the date."""
    views = services.views()
    views.catch_up(services.ledger, ["chain"])
    head = views.chain.head()
    if head is None:
        return
    local = now.astimezone(services.config.tz)
    text = (
        f"台账哈希链头：`{head.hash}`\n"
        f"位置 {head.position}，共 {head.events} 个事件（{local:%Y-%m-%d %H:%M}）"
    )
    channel = services.config.office.channel
    queue_once(
        services, now, key=f"chain_head|{local:%Y-%m-%d}", channel=channel,
        title="台账防篡改校验值", parts=[text], kind="chain_head",
    )  # fmt: skip


JOBS: dict[str, Job] = {
    "sweep": sweep_job,
    "deliver": deliver_job,
    "report_round": report_round_job,
    "monthly_report": monthly_report_job,
    "quarterly_report": quarterly_report_job,
    "annual_assessment": annual_assessment_job,
    "chain_head": chain_head_job,
    "calendar_watch": calendar_watch_job,
}

JOB_LABELS: dict[str, str] = {
    "sweep": "催办扫描",
    "deliver": "消息投递",
    "report_round": "月度报送轮次",
    "monthly_report": "月分析",
    "quarterly_report": "季调度",
    "annual_assessment": "年督考",
    "chain_head": "台账校验值存证",
    "calendar_watch": "节假日安排检查",
}
"""Each job as an admin reads it (`duban scheduler jobs`, the preview's 发送时间 lines)."""

_MINUTE = 60
_HOUR = 60 * _MINUTE

MISFIRE_GRACE_SECONDS: dict[str, int] = {
    # frequent jobs: a late run is soon replaced by the next one
    "sweep": 5 * _MINUTE,
    "deliver": 2 * _MINUTE,
    "chain_head": _HOUR,
    "calendar_watch": 12 * _HOUR,
    # daily / monthly / yearly jobs: better late the same day than waiting a month
    "report_round": 12 * _HOUR,
    "monthly_report": 12 * _HOUR,
    "quarterly_report": 24 * _HOUR,
    "annual_assessment": 24 * _HOUR,
}
"""How many seconds late each job may still start (a one-second default would skip runs)."""


def job_runs(services: Services) -> dict[str, Callable[[dt.datetime], None]]:
    """Every job bound to `services`: what the scheduler calls as `run(now)`."""
    return {name: partial(job, services) for name, job in JOBS.items()}
