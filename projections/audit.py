"""审计留痕: the audit trail, per task and global, in the order events were stored.

Each entry keeps the office's time (`at`), the store's write timestamp (`recorded_at`),
the actor and the web session or API token they acted through (`via`), what happened in
plain Chinese ("县发展和改革局 张伟（网页登录） 报送进展：30%，方案已起草") and the full event
data as JSON — enough to prove who was told what and when.

Which tasks an entry belongs to (the contract for other aggregates): a task's own events;
and ANY event that carries an attribute ``task_code: str`` or ``task_codes: list[str]`` is
attached to those tasks' trails (reminders issued, messages queued, delivery attempts,
delivered / failed, plan reviews tied to a task). Everything, including directory changes
(units, officials, channels), is in the global trail. The words are `projections.audit_text`'s.

A chat is named with the config's names when the caller gives them (`AuditTrail.chats`, the
one naming rule of the messages), else as the trail's own directory events name it; a chat
neither knows is 「工作群」, never some other party's chat.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import Tracking

from domain.task import ReformTask
from projections.audit_text import (
    SECRET_FIELDS,
    UNKNOWN_CHAT,
    Names,
    describe,
    describe_record,
    task_codes_of,
    who,
)
from projections.audit_via import via_of, via_text
from projections.facts import jsonable
from projections.runner import Item
from projections.viewstore import Step, ViewRecorder, view_recorder

__all__ = [
    "SECRET_FIELDS",
    "AuditProjection",
    "AuditTrail",
    "Names",
    "TrailQuery",
    "describe",
    "describe_record",
    "open_audit",
    "task_codes_of",
    "who",
]

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS {p}audit_entries (notification_id BIGINT PRIMARY KEY, "
    "originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL, type TEXT NOT NULL, "
    "at TEXT, day TEXT, recorded_at TEXT, actor TEXT, tasks TEXT NOT NULL, "
    "summary TEXT NOT NULL, data TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {p}audit_entries_day ON {p}audit_entries (day)",
    "CREATE TABLE IF NOT EXISTS {p}audit_links (task_code TEXT NOT NULL, "
    "notification_id BIGINT NOT NULL, PRIMARY KEY (task_code, notification_id))",
    "CREATE TABLE IF NOT EXISTS {p}audit_tasks (originator_id TEXT PRIMARY KEY, code TEXT)",
)
TABLES = ("audit_entries", "audit_links", "audit_tasks")

_INSERT_ENTRY = (
    "INSERT INTO {p}audit_entries (notification_id, originator_id, originator_version, type, "
    "at, day, recorded_at, actor, tasks, summary, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_LINK = "INSERT INTO {p}audit_links (task_code, notification_id) VALUES (?, ?)"
_INSERT_TASK = "INSERT INTO {p}audit_tasks (originator_id, code) VALUES (?, ?)"
_COLUMNS = (
    "e.notification_id AS id, e.type, e.at, e.recorded_at, e.actor, e.tasks, e.summary, e.data"
)

# ---- the stored trail ------------------------------------------------------------------------


class AuditProjection:
    """One entry per stored event, plus (task code, entry) links for the per-task trails."""

    name = "audit"
    decode = True
    topics: Sequence[str] = ()

    def __init__(self, view: ViewRecorder) -> None:
        self._view = view
        self._codes: dict[str, str] = {}  # ReformTask originator id → task code

    @property
    def view(self) -> ViewRecorder:
        return self._view

    def reset(self) -> None:
        self._codes = {}

    def begin(self, position: int) -> None:
        """Task codes never change for an id, so the cache stays valid at any position."""

    def process(self, batch: Sequence[Item], tracking: Tracking) -> None:
        self._load_codes(batch)
        entries: list[tuple[Any, ...]] = []
        links: list[tuple[str, int]] = []
        tasks: list[tuple[str, str]] = []
        for notification, event in batch:
            codes = self._codes_for(event, tasks)
            entries.append(_entry(notification.id, event, codes))
            links += [(code, notification.id) for code in codes]
        steps: list[Step] = [(_INSERT_TASK, tasks), (_INSERT_ENTRY, entries), (_INSERT_LINK, links)]
        self._view.write(steps, tracking)

    def _codes_for(self, event: Any, new_tasks: list[tuple[str, str]]) -> list[str]:
        kind = type(event)
        if not issubclass(kind, ReformTask.Event):
            return task_codes_of(event)
        originator = str(event.originator_id)
        if kind is ReformTask.Assigned:
            self._codes[originator] = event.code
            new_tasks.append((originator, event.code))
        code = self._codes.get(originator)
        return [code] if code else []

    def _load_codes(self, batch: Sequence[Item]) -> None:
        wanted = {
            str(e.originator_id)
            for _, e in batch
            if isinstance(e, ReformTask.Event) and type(e) is not ReformTask.Assigned
        }
        for row in self._view.select_in(
            "SELECT originator_id, code FROM {p}audit_tasks WHERE originator_id IN ({in})",
            wanted - self._codes.keys(),
        ):
            self._codes[row["originator_id"]] = row["code"]


def _entry(position: int, event: Any, codes: list[str]) -> tuple[Any, ...]:
    at = getattr(event, "at", None)
    data = jsonable(event.__dict__)
    return (
        position,
        str(event.originator_id),
        event.originator_version,
        type(event).__qualname__,
        jsonable(at),
        at.date().isoformat() if isinstance(at, dt.datetime) else None,
        jsonable(getattr(event, "timestamp", None)),
        getattr(event, "actor", None),
        json.dumps(codes, ensure_ascii=False),
        describe(event),
        json.dumps(data, ensure_ascii=False, sort_keys=True),
    )


@dataclass(frozen=True)
class TrailQuery:
    """One page of the trail: entries of some tasks (None: all), of some event types (empty:
    all), with `at` on days from `since` to `until` (office time), after position `after`.
    Answered in position order from the view's keys, so a page costs the same at any length
    of history (the web's 审计 page and its export)."""

    tasks: tuple[str, ...] | None = None
    types: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    after: int = 0


@dataclass
class AuditTrail:
    """Reads of the audit view: a task's trail or the global one, oldest first."""

    projection: AuditProjection
    # Channel name → the chat as today's config names it (「县财政局群」): wins over the names
    # the trail's directory events give; empty when the caller has no config.
    chats: Mapping[str, str] = field(default_factory=dict)

    def entries(
        self, task: str | None = None, since: dt.date | None = None
    ) -> list[dict[str, Any]]:
        """Entries in notification order; `since` filters by the day of `at` (office time)."""
        where, params = [], []
        source = "{p}audit_entries e"
        if task is not None:
            source += " JOIN {p}audit_links l ON l.notification_id = e.notification_id"
            where.append("l.task_code = ?")
            params.append(task)
        if since is not None:
            where.append("e.day >= ?")
            params.append(since.isoformat())
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        query = f"SELECT {_COLUMNS} FROM {source}{clause} ORDER BY e.notification_id"  # noqa: S608
        rows = self.projection.view.select(query, params)
        if not rows:
            return []
        names = self.names()
        return [_shape(row, names) for row in rows]

    def page(self, query: TrailQuery, limit: int) -> list[dict[str, Any]]:
        """At most `limit` entries matching `query`, oldest first."""
        if query.tasks is not None and not query.tasks:
            return []
        where: list[str] = ["e.notification_id > ?"]
        params: list[Any] = [query.after]
        if query.tasks is not None:
            marks = ", ".join("?" * len(query.tasks))
            where.append(
                "e.notification_id IN (SELECT l.notification_id FROM {p}audit_links l "  # noqa: S608
                f"WHERE l.task_code IN ({marks}))"
            )
            params += query.tasks
        if query.types:
            where.append(f"e.type IN ({', '.join('?' * len(query.types))})")
            params += query.types
        for bound, op in ((query.since, ">="), (query.until, "<=")):
            if bound is not None:
                where.append(f"e.day {op} ?")
                params.append(bound.isoformat())
        sql = (
            f"SELECT {_COLUMNS} FROM {{p}}audit_entries e WHERE {' AND '.join(where)} "  # noqa: S608
            "ORDER BY e.notification_id LIMIT ?"
        )
        rows = self.projection.view.select(sql, [*params, limit])
        names = self.names() if rows else None
        return [_shape(row, names) for row in rows] if names else []

    def names(self) -> Names:
        """The chats and the tasks' parties: a chat by the config's name (`chats`), else as the
        trail's own events name it: by its display name (a channel's `display_name` setting),
        else by the units that use it (「县财政局群」), else 「县领导群」 for an official's chat,
        else (a recorded channel no unit or official uses) the office's; a chat with no record
        at all is 「工作群」."""
        query = (
            "SELECT e.notification_id AS id, e.type, e.originator_id, e.data "
            "FROM {p}audit_entries e WHERE e.type IN ("
            + ", ".join(f"'{t}'" for t in _NAMING_TYPES)
            + ") ORDER BY e.notification_id"
        )
        units: dict[str, tuple[str, str]] = {}  # originator → (unit, channel)
        officials: dict[str, str] = {}  # originator → channel
        shown: dict[str, str] = {}  # channel → display name
        recorded: set[str] = set()  # every channel a ChannelRecord names
        parties: dict[str, dict[str, Any]] = {}
        tasks: dict[str, str] = {}  # originator → task code
        for row in self.projection.view.select(query, []):
            data, kind, origin = json.loads(row["data"]), row["type"], row["originator_id"]
            if kind == "Unit.Registered":
                units[origin] = (data.get("name", ""), data.get("channel", ""))
            elif kind == "Unit.ChannelChanged" and origin in units:
                units[origin] = (units[origin][0], data.get("channel", ""))
            elif kind == "Official.Registered":
                officials[origin] = data.get("channel", "")
            elif kind in ("ChannelRecord.Configured", "ChannelRecord.Reconfigured"):
                recorded.add(data.get("name") or "")
                display = (data.get("settings") or {}).get("display_name")
                if display:
                    shown[data.get("name") or ""] = str(display)
            elif kind == "ReformTask.Assigned":
                tasks[origin] = data.get("code", "")
                parties[tasks[origin]] = {
                    k: data.get(k) for k in ("lead_unit", "co_units", "official")
                }
            elif kind == "ReformTask.Revised" and origin in tasks:
                changes = data.get("changes") or {}
                parties[tasks[origin]].update(
                    {k: v for k, v in changes.items() if k in ("lead_unit", "co_units", "official")}
                )
        chats = dict.fromkeys(recorded, "县委改革办群")
        chats.update(_chat_names(units.values(), officials.values(), shown))
        chats.update({k: v if v.endswith("群") else f"{v}群" for k, v in self.chats.items()})
        return Names(chats=chats, parties=parties, other_chat=UNKNOWN_CHAT)


_NAMING_TYPES = (
    "Unit.Registered",
    "Unit.ChannelChanged",
    "Official.Registered",
    "ChannelRecord.Configured",
    "ChannelRecord.Reconfigured",
    "ReformTask.Assigned",
    "ReformTask.Revised",
)


def _chat_names(
    units: Iterable[tuple[str, str]], officials: Iterable[str], shown: Mapping[str, str]
) -> dict[str, str]:
    by_chat: dict[str, list[str]] = {}
    for unit, channel in units:
        by_chat.setdefault(channel, []).append(unit)
    names = {channel: "、".join(members) + "群" for channel, members in by_chat.items()}
    for channel in officials:
        names.setdefault(channel, "县领导群")
    names.update(
        {channel: name if name.endswith("群") else f"{name}群" for channel, name in shown.items()}
    )
    return names


def _shape(row: Mapping[str, Any], names: Names) -> dict[str, Any]:
    """An entry as readers get it; `via` (the web session or API token the person acted
    through, `projections.audit_via`) only when the event records one, so the entries of
    stores written before it read exactly as they did."""
    data = json.loads(row["data"])
    via = via_of(data)
    return {
        "position": int(row["id"]),
        "at": row["at"],
        "recorded_at": row["recorded_at"],
        "actor": row["actor"],
        **({"via": via} if via else {}),
        "who": who(row["actor"]) + via_text(via),
        "type": row["type"],
        "tasks": json.loads(row["tasks"]),
        "summary": describe_record(row["type"], data, names),  # today's words, today's names
        "data": data,
    }


def open_audit(datastore: object, chats: Mapping[str, str] | None = None) -> AuditTrail:
    """The audit view of the store behind `datastore`, its tables created if new (`chats`: the
    config's names of the chats, see `AuditTrail.chats`)."""
    view = view_recorder(datastore, "audit", SCHEMA, TABLES)
    return AuditTrail(AuditProjection(view), dict(chats or {}))
