"""The rungs of the 督办 ladder by name: their order from mildest to most severe and their
Chinese names. The one table every part reads (the ladder's defaults, the board's light and
labels, the digest's groups, the config's rung labels, the reports)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

__all__ = [
    "DIGEST_HEADLINES",
    "RUNG_LABELS",
    "RUNG_NAMES",
    "RungName",
    "rung_label",
    "rung_severity",
]

RungName = Literal["notice", "reminder", "urge", "supervise", "bulletin"]

RUNG_NAMES: tuple[RungName, ...] = ("notice", "reminder", "urge", "supervise", "bulletin")
"""Mildest first: 到期预告, 到期提醒, 催办, 督办, 通报."""

RUNG_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "notice": "到期预告",
        "reminder": "到期提醒",
        "urge": "催办",
        "supervise": "督办",
        "bulletin": "通报",
        "claim_reminder": "签收提醒",
        "claim_due": "今日签收到期",
        "claim_overdue": "逾期未签收",
    }
)
"""The five rungs, then the default 签收 rungs (an unclaimed task; severity 0 here: the claim
ladder orders its own)."""

DIGEST_HEADLINES: Mapping[str, str] = MappingProxyType(
    {
        "notice": "到期预告",
        "reminder": "到期提醒",
        "urge": "催办通知",
        "supervise": "督办通知",
        "bulletin": "通报",
    }
)
"""A digest's title by its most urgent rung."""


def rung_severity(name: str) -> int:
    """1 (notice) … 5 (bulletin); 0 for a name that is not one of the five."""
    names: tuple[str, ...] = RUNG_NAMES
    return names.index(name) + 1 if name in names else 0


def rung_label(name: str) -> str:
    """The Chinese name of a rung; a configured rung outside the five is shown by its name."""
    return RUNG_LABELS.get(name, name)
