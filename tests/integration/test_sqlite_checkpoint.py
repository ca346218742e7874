"""SQLite's WAL checkpointed off the commit path (`projections.sqlite_wal`), on real files."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from duban.settings.store import store_env
from projections.sqlite_wal import (
    WAL_AUTOCHECKPOINT_PAGES,
    CheckpointedSQLiteDatastore,
)
from tests.support.api import write_config
from tests.support.server import duban

ROOT = Path(__file__).resolve().parents[2]
SAVES = 3000
PAGE = 4096


class Counter(Aggregate):
    @event("Ticked")
    def tick(self) -> None:
        pass


def _app(db: Path) -> Application[uuid.UUID]:
    return Application(env={**store_env(f"sqlite:///{db}"), "AGGREGATE_CACHE_MAXSIZE": "0"})


def _wal_pages(db: Path) -> int:
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size // PAGE if wal.exists() else 0


def test_the_writers_leave_the_checkpoint_to_the_background(tmp_path: Path) -> None:
    app = _app(tmp_path / "duban.db")
    datastore = app.recorder.datastore  # type: ignore[attr-defined]
    assert isinstance(datastore, CheckpointedSQLiteDatastore)
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == WAL_AUTOCHECKPOINT_PAGES
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2  # FULL: the WAL is fsynced at every commit
    app.close()


def test_the_wal_stays_bounded_while_writes_go_on(tmp_path: Path) -> None:
    db = tmp_path / "duban.db"
    app = _app(db)
    checkpointer = app.recorder.datastore.checkpointer  # type: ignore[attr-defined]
    counter = Counter()
    app.save(counter)
    largest = 0
    for _ in range(SAVES):
        counter.tick()
        app.save(counter)
        largest = max(largest, _wal_pages(db))
    # every save appends at least two frames (the event row and its index): without the
    # background checkpoint (the writers' own is pushed out to WAL_AUTOCHECKPOINT_PAGES) the
    # WAL would hold more than 2 * SAVES pages by now
    assert checkpointer.checkpoints >= 1
    assert largest < SAVES // 2
    app.close()
    assert _wal_pages(db) == 0  # closed: checkpointed and removed

    reopened = _app(db)
    assert reopened.repository.get(counter.id).version == SAVES + 1
    reopened.close()


_WRITER = textwrap.dedent(
    """
    import sys, uuid
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event
    from duban.settings.store import store_env

    class Counter(Aggregate):
        @event("Ticked")
        def tick(self) -> None:
            pass

    app = Application(env=store_env("sqlite:///" + sys.argv[1]))
    counter = Counter()
    app.save(counter)
    print(counter.id, flush=True)
    while True:
        counter.tick()
        app.save(counter)
        print(counter.version, flush=True)  # answered: after its commit returned
    """
)


def test_a_kill_in_the_middle_loses_nothing_answered(tmp_path: Path) -> None:
    db = tmp_path / "duban.db"
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    counter_id = uuid.UUID(writer.stdout.readline().strip())
    answered = 0
    while answered < 450:  # background checkpoints ran meanwhile (one per 200 commits)
        answered = int(writer.stdout.readline())
    writer.kill()
    writer.wait()
    writer.stdout.close()
    assert _wal_pages(db) > 0  # killed: the WAL is left for the next one to recover

    reopened = _app(db)  # the writer's events are `__main__`'s: read as stored, not decoded
    stored = reopened.recorder.select_events(counter_id)
    assert [e.originator_version for e in stored] == list(range(1, len(stored) + 1))
    assert len(stored) >= answered
    reopened.close()
    with contextlib.closing(sqlite3.connect(db)) as check:  # `with` alone does not close
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_cli_command_leaves_no_wal(tmp_path: Path) -> None:
    db = tmp_path / "duban.db"
    config = write_config(tmp_path, f"sqlite:///{db}")
    duban(config, "init")
    for _ in range(3):
        duban(config, "token", "issue", "--role", "office", "--format", "json")
    assert db.exists()
    assert _wal_pages(db) == 0
