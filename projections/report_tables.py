"""The tables of the reports' view (`projections.assessment`) and how they are written.

``report_meta`` keeps the version of the other tables (`SCHEMA_VERSION`): a view written by
another version is dropped and made anew when opened (`open_view`), to be rebuilt from the
events by the next catch-up. A rebuild leaves ``report_meta`` alone.
"""

from __future__ import annotations

import json
from typing import Any

from projections.board import Facts
from projections.viewstore import ViewRecorder, ensure_view_version, view_recorder

__all__ = [
    "INSERT_FACT",
    "SCHEMA",
    "SCHEMA_VERSION",
    "TABLES",
    "UPSERT_MONTH",
    "UPSERT_PLAN",
    "UPSERT_TASK",
    "MonthRow",
    "dumps",
    "month_row",
    "open_view",
]

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS {p}report_tasks "
    "(task_id TEXT PRIMARY KEY, code TEXT NOT NULL, facts TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {p}report_task_months (task_id TEXT NOT NULL, "
    "month TEXT NOT NULL, facts TEXT NOT NULL, code TEXT NOT NULL, lead_unit TEXT NOT NULL, "
    "assigned_day TEXT NOT NULL, closed_day TEXT, assigned_position BIGINT NOT NULL, "
    "PRIMARY KEY (task_id, month))",
    "CREATE TABLE IF NOT EXISTS {p}report_facts (position BIGINT NOT NULL, n INTEGER NOT NULL, "
    "day TEXT NOT NULL, kind TEXT NOT NULL, unit TEXT NOT NULL, task_code TEXT NOT NULL, "
    "event_type TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (position, n))",
    "CREATE INDEX IF NOT EXISTS {p}report_facts_kind_day ON {p}report_facts (kind, day)",
    "CREATE TABLE IF NOT EXISTS {p}report_plans (plan_id TEXT PRIMARY KEY, facts TEXT NOT NULL)",
)
TABLES = ("report_tasks", "report_task_months", "report_facts", "report_plans")
# The version of the tables above (see the module docstring).
SCHEMA_VERSION = "4"  # 3: co-unit reports, old deadline, 批示, 问责; 4: the latest report text

UPSERT_TASK = (
    "INSERT INTO {p}report_tasks (task_id, code, facts) VALUES (?, ?, ?) "
    "ON CONFLICT (task_id) DO UPDATE SET code = excluded.code, facts = excluded.facts"
)
UPSERT_MONTH = (
    "INSERT INTO {p}report_task_months (task_id, month, facts, code, lead_unit, assigned_day, "
    "closed_day, assigned_position) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (task_id, month) DO UPDATE SET facts = excluded.facts, code = excluded.code, "
    "lead_unit = excluded.lead_unit, assigned_day = excluded.assigned_day, "
    "closed_day = excluded.closed_day, assigned_position = excluded.assigned_position"
)
INSERT_FACT = (
    "INSERT INTO {p}report_facts (position, n, day, kind, unit, task_code, event_type, detail) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
UPSERT_PLAN = (
    "INSERT INTO {p}report_plans (plan_id, facts) VALUES (?, ?) "
    "ON CONFLICT (plan_id) DO UPDATE SET facts = excluded.facts"
)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# A month-end snapshot: the facts as JSON and the plain columns the report rounds read.
MonthRow = tuple[str, str, str, str, str | None, int]


def month_row(facts: Facts) -> MonthRow:
    closed = facts["closed_at"]
    return (
        dumps(facts),
        facts["code"],
        facts["lead_unit"],
        facts["assigned_at"][:10],
        closed[:10] if closed else None,
        int(facts.get("assigned_position", 0)),
    )


def open_view(datastore: object) -> ViewRecorder:
    """The reports' tables in the store behind `datastore` (an application's
    `recorder.datastore`), created if new, dropped and made anew if another version of this
    module wrote them."""
    view = view_recorder(datastore, "reports", SCHEMA, TABLES)
    _ensure_version(view)
    return view


def _ensure_version(view: ViewRecorder) -> None:
    """Drop and recreate the view when another `SCHEMA_VERSION` wrote it (see viewstore)."""
    ensure_view_version(view, "report_meta", "schema", SCHEMA_VERSION, TABLES, SCHEMA)
