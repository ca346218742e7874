"""The one fixed moment tests that run the `duban` command or `duban serve` pin the office's
clock to, through `$DUBAN_NOW`, so that no result depends on the day the suite runs."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

__all__ = ["FIXED_NOW", "NOW_ENV", "OFFICE_ZONE", "office_today", "pinned_env"]

NOW_ENV = "DUBAN_NOW"
OFFICE_ZONE = ZoneInfo("Asia/Shanghai")  # the test configs' `timezone`
# A Monday, a working day, 09:30 in the office's zone: a week of working days follows.
FIXED_NOW = dt.datetime(2026, 6, 15, 9, 30, tzinfo=OFFICE_ZONE)


def pinned_env(moment: dt.datetime = FIXED_NOW) -> dict[str, str]:
    """This process's environment with the office's clock pinned to `moment`."""
    return {**os.environ, NOW_ENV: moment.isoformat()}


def office_today() -> dt.date:
    """Today in the office's zone, as an unpinned `duban` sees it (between 16:00 and 24:00 UTC
    it is already tomorrow there: the machine's `date.today()` is not the office's day)."""
    return dt.datetime.now(OFFICE_ZONE).date()
