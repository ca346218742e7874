"""Telling the office before it is too late: next year's holidays not imported yet.

From 1 December, while next year is covered neither by a recorded State Council notice
(`domain.holiday_notice.HolidayNotice`) nor by `chinesecalendar`, every deadline and reminder of
that year is computed on a Monday–Friday guess. `calendar_gap` says which year that is (also the
current year, should it still be uncovered in January); the web board shows `calendar_banner`,
and the `calendar_watch` job queues one message for the office chat per ISO week, on a working
day (idempotent by its message key, like the other jobs' messages).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import lru_cache

import chinese_calendar
import structlog
from eventsourcing.application import AggregateNotFoundError

from domain.holiday_notice import HolidayNotice
from duban.app.office_messages import queue_once
from duban.app.services import Services

__all__ = [
    "IMPORT_COMMAND",
    "NoticeCheck",
    "calendar_banner",
    "calendar_gap",
    "calendar_watch_job",
    "covered_officially",
    "notice_recorded",
    "queue_weekly_notice",
]

log = structlog.get_logger(__name__)

KIND = "calendar_notice"
TITLE = "节假日安排尚未导入"
IMPORT_COMMAND = "duban calendar import 通知.txt"
WATCH_FROM_MONTH = 12  # from 1 December on, next year is watched

NoticeCheck = Callable[[Services, int], bool]
"""Whether a notice for the year is recorded in the services' ledger."""


@lru_cache(maxsize=64)
def covered_officially(year: int) -> bool:
    """Whether `chinesecalendar` has the year's data (it raises outside its range)."""
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def notice_recorded(services: Services, year: int) -> bool:
    """Whether a `HolidayNotice` aggregate for `year` is in the repository (read each time, so
    a notice imported by another process counts at once)."""
    try:
        services.ledger.repository.get(HolidayNotice.create_id(year))
    except AggregateNotFoundError:
        return False
    return True


def calendar_gap(
    services: Services, now: dt.datetime, recorded: NoticeCheck = notice_recorded
) -> int | None:
    """The year whose holidays the office still has to import, or None.

    The current year if it is uncovered; from 1 December also next year. Covered means a
    recorded notice for it or `chinesecalendar` data.
    """
    today = now.astimezone(services.config.tz).date()
    years = [today.year]
    if today.month >= WATCH_FROM_MONTH:
        years.append(today.year + 1)
    for year in years:
        if not covered_officially(year) and not recorded(services, year):
            return year
    return None


def gap_text(year: int) -> str:
    """What the office chat is told, the command included."""
    return (
        f"{year}年节假日安排尚未导入，{year}年的完成时限和提醒暂按周一至周五推算"
        f"（未计法定节假日和调休上班日）。国务院办公厅通知发布后，请将通知全文保存为文本文件，"
        f"运行 `{IMPORT_COMMAND}` 导入（可先加 --dry-run 核对）。"
    )


def calendar_banner(
    services: Services, now: dt.datetime, recorded: NoticeCheck = notice_recorded
) -> dict[str, str] | None:
    """The web board's banner: the text and the command, or None when nothing is missing."""
    year = calendar_gap(services, now, recorded)
    if year is None:
        return None
    return {
        "year": str(year),
        "text": f"{year}年节假日安排尚未导入，{year}年的完成时限和提醒暂按周一至周五推算。",
        "command": IMPORT_COMMAND,
    }


def message_key(year: int, now: dt.datetime, services: Services) -> str:
    """One key per year and ISO week: a second run that week finds it already queued."""
    iso = now.astimezone(services.config.tz).date().isocalendar()
    return f"calendar_watch|{year}|{iso.year}-W{iso.week:02d}"


def calendar_watch_job(services: Services, now: dt.datetime) -> None:
    """The `calendar_watch` job (schedule key `schedules.calendar_watch`, run every working
    day): this week's message for the office chat while a year's holidays are missing."""
    queue_weekly_notice(services, now)


def queue_weekly_notice(
    services: Services, now: dt.datetime, recorded: NoticeCheck = notice_recorded
) -> bool:
    """Queue this week's message for the office chat if a year is uncovered and today is a
    working day; True when it was queued by this run."""
    year = calendar_gap(services, now, recorded)
    if year is None:
        return False
    if not services.calendar.is_working_day(now.astimezone(services.config.tz).date()):
        return False
    key = message_key(year, now, services)
    queued = queue_once(
        services, now, key=key, channel=services.config.office.channel, title=TITLE,
        parts=[gap_text(year)], kind=KIND,
    )  # fmt: skip
    if not queued:
        return False  # this week's is queued already
    log.warning("calendar_year_not_imported", year=year, key=key)
    return True
