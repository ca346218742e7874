"""防篡改链: a hash chain over the stored events, so that an auditor can prove nothing changed.

Every stored event, in notification order, extends the chain:

    h_0 = sha256("duban ledger chain v1")
    h_n = sha256(h_{n-1} || id || originator_id || originator_version || topic || state)

with each field length-prefixed (ids and versions as 8-byte big-endian integers, text as
UTF-8), so that no two different events can be framed into the same bytes. The chain is
kept incrementally in its own table (with tracking, like every view) and `verify()`
recomputes it from the raw rows on disk — plain SQL on the SQLite `stored_events` table or
the PostgreSQL `duban_events` table, not through the library, because the point is to check
what is actually stored. It reports the FIRST offending event:

* ``altered``   — the event at this position is the one that was written, but its bytes
                  (topic or state) differ;
* ``deleted``   — an event the chain recorded is gone;
* ``inserted``  — an event on disk the chain never recorded, placed before the chain head;
* ``reordered`` — recorded events are on disk at other positions (e.g. two swapped).

The chain head (position and hash) is what the office posts (a scheduler job does so daily):
a head posted outside the database also catches a forger who rewrote the chain table too
(`verify(expected=...)`). Events written after the last chained one are reported as
unchained, never as tampering: `catch_up` extends the chain over them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from projections.runner import Item
from projections.viewstore import ViewRecorder, view_recorder

__all__ = [
    "GENESIS",
    "Breach",
    "ChainHead",
    "ChainProjection",
    "Verification",
    "link",
    "open_chain",
]

GENESIS = hashlib.sha256(b"duban ledger chain v1").digest()

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS {p}chain (notification_id BIGINT PRIMARY KEY, "
    "originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL, hash TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {p}chain_identity ON {p}chain (originator_id, originator_version)",
)
TABLES = ("chain",)
_INSERT = (
    "INSERT INTO {p}chain (notification_id, originator_id, originator_version, hash) "
    "VALUES (?, ?, ?, ?)"
)
_CHAIN_PAGE = (
    "SELECT notification_id AS id, originator_id, originator_version, hash FROM {p}chain "
    "WHERE notification_id > ? ORDER BY notification_id LIMIT ?"
)

KIND_LABELS = {
    "altered": "被修改",
    "deleted": "被删除",
    "inserted": "被插入",
    "reordered": "被调换顺序",
}


def _framed(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def link(
    previous: bytes, id_: int, originator_id: str, version: int, topic: str, state: bytes
) -> bytes:
    """The next hash of the chain (see the module docstring for the framing)."""
    h = hashlib.sha256(previous)
    h.update(id_.to_bytes(8, "big"))
    h.update(_framed(originator_id.encode()))
    h.update(version.to_bytes(8, "big"))
    h.update(_framed(topic.encode()))
    h.update(_framed(state))
    return h.digest()


def canonical_id(value: Any) -> str:
    """Originator ids as the library hands them out (UUID) or stores them (hex text)."""
    try:
        return str(UUID(str(value)))
    except ValueError:
        return str(value)


@dataclass(frozen=True)
class ChainHead:
    """What the office posts: the last chained position, its hash, and how many events."""

    position: int
    hash: str
    events: int

    def __str__(self) -> str:
        return f"{self.hash}@{self.position}"


@dataclass(frozen=True)
class Breach:
    kind: str  # altered | deleted | inserted | reordered
    notification_id: int
    originator_id: str
    originator_version: int
    topic: str | None
    detail: str

    @property
    def message(self) -> str:
        what = f"{self.topic} " if self.topic else ""
        return (
            f"第 {self.notification_id} 号事件{KIND_LABELS[self.kind]}（{self.kind}）："
            f"{what}{self.originator_id} v{self.originator_version}；{self.detail}"
        )


@dataclass(frozen=True)
class Verification:
    checked: int
    head: ChainHead | None
    breach: Breach | None
    unchained: int

    @property
    def intact(self) -> bool:
        return self.breach is None


@dataclass(frozen=True)
class _Row:
    id: int
    originator_id: str
    version: int
    topic: str
    state: bytes

    @property
    def identity(self) -> tuple[str, int]:
        return self.originator_id, self.version


class ChainProjection:
    """The chain table, extended batch by batch from the stored bytes (no decoding)."""

    name = "chain"
    decode = False
    topics: Sequence[str] = ()

    def __init__(self, view: ViewRecorder) -> None:
        self._view = view
        self._previous = GENESIS
        self._position: int | None = None

    @property
    def view(self) -> ViewRecorder:
        return self._view

    def reset(self) -> None:
        self._previous = GENESIS
        self._position = None

    def begin(self, position: int) -> None:
        if position != self._position:
            last = self._view.select(
                "SELECT hash FROM {p}chain ORDER BY notification_id DESC LIMIT 1"
            )
            self._previous = bytes.fromhex(last[0]["hash"]) if last else GENESIS
            self._position = position

    def process(self, batch: Sequence[Item], tracking: Tracking) -> None:
        previous = self._previous
        rows = []
        for n, _ in batch:
            originator = canonical_id(n.originator_id)
            previous = link(previous, n.id, originator, n.originator_version, n.topic, n.state)
            rows.append((n.id, originator, n.originator_version, previous.hex()))
        self._view.write([(_INSERT, rows)], tracking)
        self._previous = previous
        self._position = tracking.notification_id

    # ---- reads ---------------------------------------------------------------------------

    def head(self) -> ChainHead | None:
        rows = self._view.select(
            "SELECT notification_id, hash, (SELECT COUNT(*) FROM {p}chain) AS events "
            "FROM {p}chain ORDER BY notification_id DESC LIMIT 1"
        )
        if not rows:
            return None
        return ChainHead(int(rows[0]["notification_id"]), rows[0]["hash"], int(rows[0]["events"]))

    def verify(self, expected: ChainHead | None = None) -> Verification:
        """Recompute the chain from the raw stored rows and compare it, event by event,
        with the recorded chain; stop at the first offending event."""
        return _Verifier(self._view).run(expected)


def _int(value: Any) -> int:
    """A forged row may hold anything: never crash on it, let the hash disagree instead."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _bytes(value: Any) -> bytes:
    # SQLite lets a forger store text where the library wrote a BLOB.
    if isinstance(value, str):
        return value.encode()
    return bytes(value) if value is not None else b""


class _Verifier:
    def __init__(self, view: ViewRecorder) -> None:
        self.view = view
        ev = view.events_table
        col = view.id_column
        self.disk_page = (
            f"SELECT {col} AS id, originator_id, originator_version, topic, state "  # noqa: S608
            f"FROM {ev} WHERE {col} > ? ORDER BY {col} LIMIT ?"
        )
        self.disk_find = (
            f"SELECT {col} AS id FROM {ev} "  # noqa: S608
            "WHERE originator_id = ? AND originator_version = ?"
        )

    def disk(self) -> Iterator[_Row]:
        for r in self.view.select_stream(self.disk_page, [], 0):
            yield _Row(
                int(r["id"]),
                canonical_id(r["originator_id"]),
                _int(r["originator_version"]),
                str(r["topic"]),
                _bytes(r["state"]),
            )

    def chain(self) -> Iterator[Mapping[str, Any]]:
        return self.view.select_stream(_CHAIN_PAGE, [], 0)

    def run(self, expected: ChainHead | None) -> Verification:
        disk, chain = self.disk(), self.chain()
        previous, checked, last, posted = GENESIS, 0, None, None
        d = next(disk, None)
        for c in chain:
            breach = self._compare(d, c, previous)
            if breach is not None:
                return Verification(checked, last, breach, 0)
            assert d is not None  # _compare reports a missing row
            previous = bytes.fromhex(c["hash"])
            checked += 1
            last = ChainHead(d.id, c["hash"], checked)
            if expected is not None and d.id == expected.position:
                posted = c["hash"]
            d = next(disk, None)
        if expected is not None and posted != expected.hash:
            return Verification(checked, last, self._head_breach(expected, posted), 0)
        unchained = 0 if d is None else 1 + sum(1 for _ in disk)
        return Verification(checked, last, None, unchained)

    def _compare(self, d: _Row | None, c: Mapping[str, Any], previous: bytes) -> Breach | None:
        recorded = (c["originator_id"], int(c["originator_version"]))
        if d is not None and d.id == int(c["id"]) and d.identity == recorded:
            actual = link(previous, d.id, d.originator_id, d.version, d.topic, d.state)
            if actual.hex() == c["hash"]:
                return None
            return Breach(
                "altered", d.id, d.originator_id, d.version, d.topic, "内容与写入时不一致"
            )
        return self._classify(d, c)

    def _classify(self, d: _Row | None, c: Mapping[str, Any]) -> Breach:
        """Name what happened at the first position where disk and chain disagree."""
        cid, cversion = c["originator_id"], int(c["originator_version"])
        c_on_disk = self._disk_position(cid, cversion)
        d_in_chain = self._chain_position(*d.identity) if d is not None else None
        if c_on_disk is None and (d is None or d_in_chain is not None or d.id > int(c["id"])):
            return Breach("deleted", int(c["id"]), cid, cversion, None, "链上记录的事件已不在库中")
        if d is not None and d_in_chain is None:
            kind, detail = (
                ("inserted", "链上没有这条事件") if c_on_disk is not None
                else ("altered", "此位置的事件被替换")
            )  # fmt: skip
            return Breach(kind, d.id, d.originator_id, d.version, d.topic, detail)
        where = f"现位于第 {c_on_disk} 号" if c_on_disk is not None else "已不在库中"
        return Breach(
            "reordered", int(c["id"]), cid, cversion, None, f"写入时位于此位置的事件{where}"
        )

    def _disk_position(self, originator_id: str, version: int) -> int | None:
        key: Any = UUID(originator_id)
        if self.view.dialect == "sqlite":
            key = key.hex
        rows = self.view.select(self.disk_find, [key, version])
        return int(rows[0]["id"]) if rows else None

    def _chain_position(self, originator_id: str, version: int) -> int | None:
        rows = self.view.select(
            "SELECT notification_id FROM {p}chain "
            "WHERE originator_id = ? AND originator_version = ?",
            [originator_id, version],
        )
        return int(rows[0]["notification_id"]) if rows else None

    def _head_breach(self, expected: ChainHead, found_hash: str | None) -> Breach:
        found = found_hash or "（链上没有该位置）"
        return Breach(
            "altered",
            expected.position,
            "-",
            0,
            None,
            f"公布的链头 {expected} 与链上该位置的 {found} 不符（链表本身可能被改写）",
        )


def open_chain(datastore: object) -> ChainProjection:
    """The hash chain of the store behind `datastore`, its table created if new."""
    return ChainProjection(view_recorder(datastore, "chain", SCHEMA, TABLES))
