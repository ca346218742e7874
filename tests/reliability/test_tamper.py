"""Tamper-evidence under a running service (PRODUCT rule 7).

`duban serve` runs on a store that holds a realistic run — the sample list of 35 tasks and 49
lifecycle commands through the API. A forger then edits the raw stored events with plain SQL
(the SQLite file, the PostgreSQL table) while the server keeps running: one byte changed, only
the topic changed, only the version changed, an event deleted, an event inserted, two events
swapped. Each time the real `duban audit verify`
exits non-zero naming the first offending event; once every forgery is undone, it passes again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.reliability.conftest import (
    RawEvents,
    drive_lifecycle,
    duban_run,
    example_config,
    populate,
)
from tests.support.pg import PgServer
from tests.support.server import ServeProcess, start_serve


@dataclass(frozen=True)
class Forgery:
    """One way to tamper, and its undoing; `apply` returns the id the verifier must name."""

    kind: str
    apply: Callable[[RawEvents, int], int]
    undo: Callable[[RawEvents, int], None]


def _flip(raw: RawEvents, n: int) -> int:
    state = bytearray(raw.row(n)[3])
    state[len(state) // 2] ^= 0x01
    raw.run(("UPDATE {t} SET state = ? WHERE {id} = ?", (bytes(state), n)))
    return n


def _unflip(raw: RawEvents, n: int) -> None:
    _flip(raw, n)


_saved: dict[int, tuple[object, ...]] = {}


def _retopic(raw: RawEvents, n: int) -> int:
    """Only the topic changes (to another real event class); state and version stay."""
    _saved[n] = raw.row(n)
    topic = str(_saved[n][2])
    other = "domain.task:ReformTask.Claimed"
    forged = other if topic != other else "domain.task:ReformTask.ProgressReported"
    raw.run(("UPDATE {t} SET topic = ? WHERE {id} = ?", (forged, n)))
    return n


def _untopic(raw: RawEvents, n: int) -> None:
    raw.run(("UPDATE {t} SET topic = ? WHERE {id} = ?", (_saved.pop(n)[2], n)))


def _reversion(raw: RawEvents, n: int) -> int:
    """Only the aggregate version changes (to one no other event of that aggregate holds)."""
    raw.run(("UPDATE {t} SET originator_version = originator_version + 5000 WHERE {id} = ?", (n,)))
    return n


def _unreversion(raw: RawEvents, n: int) -> None:
    raw.run(("UPDATE {t} SET originator_version = originator_version - 5000 WHERE {id} = ?", (n,)))


def _delete(raw: RawEvents, n: int) -> int:
    _saved[n] = raw.row(n)
    raw.run(("DELETE FROM {t} WHERE {id} = ?", (n,)))
    return n


def _undelete(raw: RawEvents, n: int) -> None:
    originator, version, topic, state = _saved.pop(n)
    raw.run(
        (
            "INSERT INTO {t} ({id}, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)",
            (n, originator, version, topic, state),
        )
    )


def _insert(raw: RawEvents, n: int) -> int:
    """Make room at n by moving the later events up one, then put a forged report there."""
    originator, _, topic, state = raw.row(n + 2)
    raw.run(
        ("UPDATE {t} SET {id} = {id} + 100000 WHERE {id} >= ?", (n,)),
        ("UPDATE {t} SET {id} = {id} - 99999 WHERE {id} >= ?", (n + 100000,)),
        (
            "INSERT INTO {t} ({id}, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, 9999, ?, ?)",
            (n, originator, topic, state),
        ),
    )
    return n


def _uninsert(raw: RawEvents, n: int) -> None:
    raw.run(
        ("DELETE FROM {t} WHERE {id} = ?", (n,)),
        ("UPDATE {t} SET {id} = {id} + 100000 WHERE {id} > ?", (n,)),
        ("UPDATE {t} SET {id} = {id} - 100001 WHERE {id} > ?", (n + 100000,)),
    )


def _swap(raw: RawEvents, n: int) -> int:
    raw.run(
        ("UPDATE {t} SET {id} = 1000000 WHERE {id} = ?", (n,)),
        ("UPDATE {t} SET {id} = ? WHERE {id} = ?", (n, n + 3)),
        ("UPDATE {t} SET {id} = ? WHERE {id} = 1000000", (n + 3,)),
    )
    return n


FORGERIES = (
    Forgery("altered", _flip, _unflip),
    Forgery("altered", _retopic, _untopic),
    Forgery("altered", _reversion, _unreversion),
    Forgery("deleted", _delete, _undelete),
    Forgery("inserted", _insert, _uninsert),
    Forgery("reordered", _swap, _swap),
)


@pytest.fixture(params=["sqlite", "postgres"])
def running(
    request: pytest.FixtureRequest, tmp_path: Path, stopping: list[ServeProcess]
) -> tuple[Path, ServeProcess]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'var' / 'duban.db'}"
    else:
        pg: PgServer = request.getfixturevalue("pg_server")
        url = pg.create_database("duban_rel_tamper")
    config = example_config(tmp_path / "office", url)
    tokens = populate(config)
    server = start_serve(config, tmp_path / "logs", "--no-scheduler")
    stopping.append(server)
    assert drive_lifecycle(server, tokens) == 49
    return config, server


@pytest.mark.postgres
def test_audit_verify_names_the_first_forged_event_while_the_service_runs(
    running: tuple[Path, ServeProcess],
) -> None:
    config, server = running
    intact = duban_run(config, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "校验通过" in intact.stdout
    raw = RawEvents(_store_url(config))
    middle = raw.last_id() // 2  # well inside the chain that verify has just extended
    for forgery in FORGERIES:
        named = forgery.apply(raw, middle)
        broken = duban_run(config, "audit", "verify")
        assert broken.returncode == 1, (forgery.kind, broken.stdout, broken.stderr)
        assert f"第 {named} 号事件" in broken.stderr, (forgery.kind, broken.stderr)
        assert f"（{forgery.kind}）" in broken.stderr, (forgery.kind, broken.stderr)
        assert "Traceback" not in broken.stderr
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        forgery.undo(raw, middle)
    again = duban_run(config, "audit", "verify")
    assert again.returncode == 0, ("after undoing every forgery", again.stderr)
    assert server.process.poll() is None  # the server ran through all of it


def _store_url(config: Path) -> str:
    from duban.settings.config import load_config

    return load_config(config).store
