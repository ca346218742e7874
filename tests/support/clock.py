"""The one fixed moment tests that run the `duban` command or `duban serve` pin the office's
clock to, through `$DUBAN_NOW`, so that no result depends on the day the suite runs."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

__all__ = ["FIXED_NOW", "NOW_ENV", "pinned_env"]

NOW_ENV = "DUBAN_NOW"
# A Monday, a working day, 09:30 in the office's zone: a week of working days follows.
FIXED_NOW = dt.datetime(2026, 6, 15, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def pinned_env(moment: dt.datetime = FIXED_NOW) -> dict[str, str]:
    """This process's environment with the office's clock pinned to `moment`."""
    return {**os.environ, NOW_ENV: moment.isoformat()}
