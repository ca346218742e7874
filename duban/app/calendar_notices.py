"""The holiday notices in the ledger: `duban calendar import` and `duban calendar show`.

A notice text (国务院办公厅关于YYYY年部分节假日安排的通知) is parsed completely before anything is
written (`domain.holiday_notice.parse_notice`); the year's `HolidayNotice` is recorded with the
text's SHA-256, or revised when a different text for the same year is imported. The office's
calendar (`Services.calendar`) reads the recorded notices first, then chinesecalendar.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.calendar import SOURCE_LABELS
from domain.holiday_notice import HolidayNotice, NoticeDays, NoticeUnreadable, parse_notice
from domain.roles import Identity, authorize
from duban.app.errors import Conflict
from duban.app.services import Services

__all__ = ["NoticeImport", "NoticeUnreadable", "import_notice", "year_overview"]


@dataclass(frozen=True)
class NoticeImport:
    """What an import did (or, dry, would do): ``record``, ``revise`` or ``unchanged``."""

    year: int
    holidays: tuple[dt.date, ...]
    workdays: tuple[dt.date, ...]
    sha256: str
    action: str
    dry_run: bool


def import_notice(
    services: Services, text: str, who: Identity, *, dry_run: bool = False
) -> NoticeImport:
    """Parse `text` whole (refused with the line named: `NoticeUnreadable`) and record it."""
    authorize(who, "admin")
    days = parse_notice(text)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    holidays, workdays = days.iso()
    ledger = services.ledger
    at = ledger.clock()
    try:
        notice: HolidayNotice = ledger.repository.get(HolidayNotice.create_id(days.year))
    except AggregateNotFoundError:
        notice = HolidayNotice(
            year=days.year,
            holidays=holidays,
            workdays=workdays,
            source_sha256=sha,
            actor=who.actor,
            at=at,
        )
        action = "record"
    else:
        changed = notice.revise(holidays, workdays, sha, who.actor, at)
        action = "revise" if changed else "unchanged"
    if not dry_run and action != "unchanged":
        try:
            ledger.save(notice)
        except IntegrityError as exc:
            raise Conflict(f"{days.year}年节假日安排同时被导入，请重新导入") from exc
        services.refresh_calendar()  # this process follows the new notice at once
    return NoticeImport(
        days.year, tuple(sorted(days.holidays)), tuple(sorted(days.workdays)), sha, action, dry_run
    )


def year_overview(services: Services, year: int) -> dict[str, object]:
    """The year's holidays and working weekend days, each with where it comes from."""
    calendar = services.calendar
    source = calendar.source_of_year(year)
    notice: NoticeDays | None = calendar.notice(year)
    days = [
        {
            "date": d.day.isoformat(),
            "weekday": "周" + "一二三四五六日"[d.day.weekday()],
            "kind": d.kind,
            "source": d.source,
            "source_label": SOURCE_LABELS[d.source],
        }
        for d in calendar.year_days(year)
    ]
    return {
        "year": year,
        "source": source,
        "source_label": SOURCE_LABELS[source],
        "notice_sha256": notice.sha256 if notice else None,
        "version": calendar.version([year]),
        "days": days,
    }
