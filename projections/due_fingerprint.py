"""The due index's fingerprint: what its `next_check` depends on besides the events (the
ladder, the calendar, the config's chats, the rules' own version), and the reset that
empties the view when the stored fingerprint no longer matches, so that the next catch-up
rebuilds it from the events."""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version

from domain.calendar import WorkingCalendar
from domain.ladder import Ladder
from projections.viewstore import Step, ViewRecorder

__all__ = ["ladder_fingerprint", "reset_if_stale"]


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


_FACTS_FORMAT = 2
"""Bumped when the facts or the rules change what `next_check` is for the same events (2: the
fair ladder, with deliveries, 签收 and closed milestones), so that old stores rebuild."""


def ladder_fingerprint(ladder: Ladder, calendar: WorkingCalendar, overrides: str) -> str:
    """What `next_check` depends on besides the events: the ladder, working hours, zone,
    the admin's calendar overrides (`overrides`, as the caller describes them) and the
    version of the official holiday data."""
    rungs = [
        (r.name, r.offset, sorted(r.audience), r.mention, r.marks_assessment, r.severity, r.label)
        for r in (*ladder.rungs, *ladder.claim_rungs)
    ]  # sorted audiences: a frozenset's repr follows the process's string hash seed
    text = repr(
        (
            _FACTS_FORMAT,
            rungs,
            len(ladder.claim_rungs),
            ladder.min_gap,
            ladder.claim_within,
            ladder.repeat_every,
            ladder.repeat_rung,
            ladder.milestone_max_offset,
            calendar.work_start,
            calendar.work_end,
            str(calendar.tz),
            overrides,
            _package_version("chinesecalendar"),
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _stored_fingerprint(view: ViewRecorder) -> str | None:
    rows = view.select("SELECT value FROM {p}due_meta WHERE name = 'fingerprint'")
    return str(rows[0]["value"]) if rows else None


_LOCK_KEY = 0x6475_6520  # "due ": serializes resets of this view across PostgreSQL nodes
_STALE = "NOT EXISTS (SELECT 1 FROM {p}due_meta WHERE name = 'fingerprint' AND value = ?)"


def _reset_steps(view: ViewRecorder, fingerprint: str) -> list[Step]:
    """Empty the view and its position unless the stored fingerprint is `fingerprint`,
    then store it: conditional statements in one transaction, so that two nodes starting
    together reset it once, and a node never empties a view another has just rebuilt."""
    steps: list[Step] = []
    if view.dialect == "postgres":
        steps.append(("SELECT pg_advisory_xact_lock(?)", [(_LOCK_KEY,)]))
    steps += [
        (f"DELETE FROM {{p}}due_tasks WHERE {_STALE}", [(fingerprint,)]),  # noqa: S608
        (f"DELETE FROM {view.tracking_table} WHERE {_STALE}", [(fingerprint,)]),  # noqa: S608
        (
            "INSERT INTO {p}due_meta (name, value) VALUES ('fingerprint', ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            [(fingerprint,)],
        ),
    ]
    return steps


def reset_if_stale(view: ViewRecorder, fingerprint: str) -> None:
    """Empty the view (and its position) unless it was built under `fingerprint`."""
    if _stored_fingerprint(view) != fingerprint:
        view.write(_reset_steps(view, fingerprint), None)
