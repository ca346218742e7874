"""`verify()` finds tampering in the real stored rows — the SQLite file and the PostgreSQL
table — and names the first offending event: one byte changed, only the topic or only the
version changed, an event deleted, an event inserted, two events swapped. The expected chain
head is computed here from the documented formula (`documented_link`), never with the
project's own `link()`."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.ledger import Ledger
from duban.app.services import open_ledger
from duban.settings.store import postgres_conninfo
from projections.chain import ChainHead
from projections.views import Views, open_views
from tests.conftest import FakeClock
from tests.integration.test_projection_board import CALENDAR, UNITS, assignment, liaison

OFFICE = Identity("office", "改革办")

# The chain as projections/chain.py documents it, written out independently:
#   h_0 = sha256("duban ledger chain v1")
#   h_n = sha256(h_{n-1} || id || originator_id || originator_version || topic || state)
# ids and versions as 8-byte big-endian integers; text (UTF-8) and the state bytes each
# preceded by their length as an 8-byte big-endian integer.
DOCUMENTED_GENESIS = hashlib.sha256(b"duban ledger chain v1").digest()


def documented_link(
    previous: bytes, n: int, originator_id: str, version: int, topic: str, state: bytes
) -> bytes:
    def framed(data: bytes) -> bytes:
        return len(data).to_bytes(8, "big") + data

    message = (
        previous
        + n.to_bytes(8, "big")
        + framed(originator_id.encode("utf-8"))
        + version.to_bytes(8, "big")
        + framed(topic.encode("utf-8"))
        + framed(state)
    )
    return hashlib.sha256(message).digest()


class RawStore:
    """The events table as a forger would touch it: plain SQL, by notification id."""

    def __init__(self, store_url: str) -> None:
        self.sqlite = store_url.startswith("sqlite")
        self.url = store_url
        self.table = "stored_events" if self.sqlite else "duban_events"
        self.id = "rowid" if self.sqlite else "notification_id"

    def connect(self) -> AbstractContextManager[Any]:
        if self.sqlite:
            return closing(sqlite3.connect(self.url.removeprefix("sqlite:///")))
        return psycopg.connect(postgres_conninfo(self.url))

    def run(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        mark = "?" if self.sqlite else "%s"
        with self.connect() as conn:
            for statement, params in statements:
                conn.execute(statement.format(t=self.table, id=self.id).replace("?", mark), params)
            conn.commit()

    def row(self, n: int) -> tuple[Any, ...]:
        mark = "?" if self.sqlite else "%s"
        with self.connect() as conn:
            query = f"SELECT originator_id, originator_version, topic, state FROM {self.table} WHERE {self.id} = {mark}"  # noqa: E501
            found: tuple[Any, ...] = conn.execute(query, (n,)).fetchone()
            return found


@pytest.fixture
def ledger(store_url: str, clock: FakeClock) -> Iterator[Ledger]:
    app = open_ledger(store_url, clock)
    app.import_tasks([assignment(f"C{i}", lead=UNITS[0]) for i in range(3)], OFFICE)  # 1-3
    for i in range(3):
        app.claim(f"C{i}", liaison(UNITS[0]))  # 4-6
        app.report(f"C{i}", cmd.ReportProgress(text="方案已起草", percent=30), liaison(UNITS[0]))
    yield app  # 9 events
    app.close()


@pytest.fixture
def views(ledger: Ledger) -> Views:
    views = open_views(ledger, CALENDAR)
    views.catch_up(ledger, ["chain"])
    return views


def flip_one_byte(raw: RawStore) -> None:
    state = bytearray(raw.row(5)[3])
    state[len(state) // 2] ^= 0x01
    raw.run(("UPDATE {t} SET state = ? WHERE {id} = 5", (bytes(state),)))


def change_topic_only(raw: RawStore) -> None:
    """Event 5 (a progress report) relabelled as a claim: same state bytes, same version."""
    topic = raw.row(5)[2]
    assert topic == "domain.task:ReformTask.ProgressReported", topic
    raw.run(("UPDATE {t} SET topic = ? WHERE {id} = 5", ("domain.task:ReformTask.Claimed",)))


def change_version_only(raw: RawStore) -> None:
    """Event 5 moved to another version of its task (one no other event uses)."""
    raw.run(("UPDATE {t} SET originator_version = originator_version + 100 WHERE {id} = 5", ()))


def delete_one(raw: RawStore) -> None:
    raw.run(("DELETE FROM {t} WHERE {id} = 5", ()))


def insert_one(raw: RawStore) -> None:
    """Make room at position 5 by moving the later events up, then put a forged event there."""
    originator, _, topic, state = raw.row(7)
    raw.run(
        ("UPDATE {t} SET {id} = {id} + 1000 WHERE {id} >= 5", ()),
        ("UPDATE {t} SET {id} = {id} - 999 WHERE {id} >= 1005", ()),
        (
            "INSERT INTO {t} ({id}, originator_id, originator_version, topic, state) "
            "VALUES (5, ?, 99, ?, ?)",
            (originator, topic, state.replace(b"30", b"90")),
        ),
    )


def swap_two(raw: RawStore) -> None:
    raw.run(
        ("UPDATE {t} SET {id} = 1000 WHERE {id} = 5", ()),
        ("UPDATE {t} SET {id} = 5 WHERE {id} = 8", ()),
        ("UPDATE {t} SET {id} = 8 WHERE {id} = 1000", ()),
    )


TAMPERING: dict[str, tuple[Callable[[RawStore], None], str, int]] = {
    "one-byte-changed": (flip_one_byte, "altered", 5),
    "topic-only-changed": (change_topic_only, "altered", 5),
    "version-only-changed": (change_version_only, "altered", 5),
    "deleted": (delete_one, "deleted", 5),
    "inserted": (insert_one, "inserted", 5),
    "swapped": (swap_two, "reordered", 5),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_verify_names_the_first_offending_event(
    ledger: Ledger, views: Views, store_url: str, how: str
) -> None:
    assert views.chain.verify().intact
    tamper, kind, position = TAMPERING[how]
    tamper(RawStore(store_url))
    result = views.chain.verify()
    assert not result.intact
    assert result.breach is not None
    assert (result.breach.kind, result.breach.notification_id) == (kind, position)
    assert f"第 {position} 号事件" in result.breach.message
    assert result.checked == position - 1  # everything before it was checked and is intact


def test_an_intact_store_verifies_and_new_events_are_unchained_not_tampered(
    ledger: Ledger, views: Views
) -> None:
    ledger.report("C0", cmd.ReportProgress(text="试点启动", percent=50), liaison(UNITS[0]))
    result = views.chain.verify()
    assert result.intact
    assert (result.checked, result.unchained) == (9, 1)
    views.catch_up(ledger, ["chain"])
    head = views.chain.head()
    assert head is not None
    assert (head.position, head.events) == (10, 10)
    assert views.chain.verify(expected=head).intact


def test_the_head_is_the_documented_hash_over_the_stored_bytes(
    ledger: Ledger, views: Views, store_url: str
) -> None:
    raw = RawStore(store_url)
    expected = DOCUMENTED_GENESIS
    for n in range(1, 10):
        originator, version, topic, state = raw.row(n)
        text = str(UUID(str(originator)))  # SQLite keeps hex, PostgreSQL a uuid
        expected = documented_link(expected, n, text, int(version), topic, bytes(state))
    head = views.chain.head()
    assert head is not None
    assert head.hash == expected.hex()


def test_a_rewritten_chain_table_is_caught_by_the_posted_head(
    ledger: Ledger, views: Views, store_url: str
) -> None:
    posted = views.chain.head()
    assert posted is not None
    flip_one_byte(RawStore(store_url))
    views.chain.view.drop()  # the forger also rebuilds the chain over the forged rows
    views.chain.view.create_table()
    views.chain.reset()
    views.catch_up(ledger, ["chain"])
    assert views.chain.verify().intact  # consistent with itself…
    result = views.chain.verify(expected=posted)  # …but not with what the office posted
    assert not result.intact
    assert result.breach is not None
    assert result.breach.notification_id == posted.position


def test_a_posted_head_of_the_wrong_shape_never_matches(ledger: Ledger, views: Views) -> None:
    wrong = ChainHead(position=9, hash=uuid4().hex * 2, events=9)
    assert not views.chain.verify(expected=wrong).intact
