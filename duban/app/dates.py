"""The product's one date range, for the entry points: `domain.dates` re-exported, so that the
CLI and the API check dates while importing the application layer only."""

from __future__ import annotations

from domain.dates import check_year, in_range, out_of_range_message

__all__ = ["check_year", "in_range", "out_of_range_message"]
