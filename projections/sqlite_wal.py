"""SQLite's WAL checkpoint off the commit path.

By default SQLite checkpoints the write-ahead log inside the committing writer once the WAL
holds 1000 pages: that commit copies the pages into the database file and fsyncs it, and every
writer queued behind it (one writer at a time) waits. `CheckpointedSQLiteFactory` (the store's
`PERSISTENCE_MODULE` for SQLite files, see `duban.settings.store`) opens its connections with
the automatic checkpoint moved far out (`WAL_AUTOCHECKPOINT_PAGES`, a safety net only) and
runs the checkpoint in a thread of its own, on a connection of its own, as a `PASSIVE`
checkpoint (it never waits for, nor blocks, a writer or a reader): after every
`CHECKPOINT_EVERY_COMMITS` committed write transactions, or `CHECKPOINT_INTERVAL_SECONDS`
after the last one. A passive pass alone lets a busy WAL grow for ever (SQLite starts the WAL
again from its beginning only when a writer finds it wholly copied, and the writers keep adding
to it during the copy), so a second passive pass follows with this process's writers held back
at the pool's writer lock: it copies only what they added during the first (a few frames, one
fsync), and the next writer starts the WAL afresh. The WAL stays about as large as the writes
between two checkpoints.

The thread starts with the first write of a process, so a command that writes nothing starts
none. Closing the store stops it and checkpoints with `TRUNCATE` (the WAL emptied, unless
another process holds it); the last connection to close removes the WAL anyway.

Durability is the library's: WAL mode with SQLite's default `synchronous=FULL`, i.e. the WAL is
fsynced at every commit, before the commit returns. When the database file is brought up to
date does not change what is durable: a process killed before, during or after a checkpoint
leaves the committed frames in the WAL, and the next connection recovers them.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import threading
from collections.abc import Iterator
from typing import Literal

from eventsourcing.persistence import ConnectionPoolClosedError
from eventsourcing.sqlite import (
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteDatastore,
    SQLiteFactory,
)
from eventsourcing.utils import Environment, EnvType

__all__ = [
    "CHECKPOINT_EVERY_COMMITS",
    "CHECKPOINT_INTERVAL_SECONDS",
    "WAL_AUTOCHECKPOINT_PAGES",
    "CheckpointedSQLiteDatastore",
    "CheckpointedSQLiteFactory",
    "Checkpointer",
]

WAL_AUTOCHECKPOINT_PAGES = 50_000  # ~200 MB: only if the background checkpointer stalls
CHECKPOINT_EVERY_COMMITS = 200
CHECKPOINT_INTERVAL_SECONDS = 1.0
_CLOSE_BUSY_TIMEOUT_SECONDS = 1.0

Mode = Literal["PASSIVE", "TRUNCATE"]


class Checkpointer:
    """A daemon thread checkpointing `db_name`'s WAL on a connection of its own.

    `committed()` is called by the writers after each committed write transaction; the count
    is kept without a lock (a lost increment only delays a checkpoint)."""

    def __init__(
        self,
        db_name: str,
        pool: SQLiteConnectionPool | None = None,
        every: int = CHECKPOINT_EVERY_COMMITS,
        interval: float = CHECKPOINT_INTERVAL_SECONDS,
    ) -> None:
        self.db_name = db_name
        self.pool = pool  # its writer slot held for the second, short pass
        self.every = every
        self.interval = interval
        self.checkpoints = 0  # completed background checkpoints (observed by the tests)
        self._pending = 0
        self._wake = threading.Event()
        self._stopping = False
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None

    def committed(self) -> None:
        self._pending += 1
        if self._thread is None:
            self._start()
        elif self._pending >= self.every and not self._wake.is_set():
            self._wake.set()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stopping:
                thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                self._thread = thread
                thread.start()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stopping:
                break
            if self._pending:
                self._pending = 0
                with contextlib.suppress(sqlite3.Error, ConnectionPoolClosedError):  # next wake
                    self._checkpoint_all()
                    self.checkpoints += 1

    def _checkpoint_all(self) -> None:
        """The WAL copied while the writers go on, then what they added meanwhile with this
        process's writers held back (a few frames and one fsync): the next writer can then
        start the WAL again from its beginning instead of growing it."""
        self.checkpoint("PASSIVE")
        if self.pool is None:
            return
        writer = self.pool.get_connection(is_writer=True)
        try:
            self.checkpoint("PASSIVE")
        finally:
            self.pool.put_connection(writer)

    def checkpoint(self, mode: Mode) -> tuple[int, int, int]:
        """`PRAGMA wal_checkpoint(mode)`: (busy, frames in the WAL, frames copied)."""
        if self._conn is None:
            self._conn = sqlite3.connect(
                self.db_name,
                uri=True,
                isolation_level=None,
                check_same_thread=False,
                timeout=_CLOSE_BUSY_TIMEOUT_SECONDS,
            )
        busy, log, copied = self._conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        return int(busy), int(log), int(copied)

    def stop(self) -> bool:
        """Stop the thread, before the pool closes; whether it had started."""
        with self._start_lock:
            self._stopping = True
            thread = self._thread
        self._wake.set()
        if sys.is_finalizing():  # daemon threads are frozen by now: leave it to SQLite's close
            return False
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        return thread is not None

    def finish(self, *, truncate: bool) -> None:
        """After the pool closed: empty the WAL as far as other processes let it."""
        if truncate:
            with contextlib.suppress(sqlite3.Error):
                self.checkpoint("TRUNCATE")
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _CheckpointedPool(SQLiteConnectionPool):
    """Every connection with the automatic checkpoint moved out to the safety net."""

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        raw: sqlite3.Connection = connection._sqlite_conn
        raw.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        return connection


class CheckpointedSQLiteDatastore(SQLiteDatastore):
    """The library's datastore whose WAL is checkpointed by a `Checkpointer` (files only)."""

    def __init__(
        self,
        db_name: str,
        *,
        lock_timeout: int | None = None,
        single_row_tracking: bool = True,
        originator_id_type: Literal["uuid", "text"] = "uuid",
    ) -> None:
        super().__init__(
            db_name,
            lock_timeout=lock_timeout,
            single_row_tracking=single_row_tracking,
            originator_id_type=originator_id_type,
        )
        self.checkpointer: Checkpointer | None = None
        if not self.pool.is_sqlite_memory_mode:
            self.pool = _CheckpointedPool(db_name=db_name, lock_timeout=lock_timeout)
            self.checkpointer = Checkpointer(db_name, self.pool)

    @contextlib.contextmanager
    def get_connection(self, *, commit: bool) -> Iterator[SQLiteConnection]:
        with super().get_connection(commit=commit) as connection:
            yield connection
        if commit and self.checkpointer is not None:
            self.checkpointer.committed()

    def close(self) -> None:
        checkpointer = getattr(self, "checkpointer", None)  # absent if __init__ failed
        started = checkpointer.stop() if checkpointer is not None else False
        super().close()
        if checkpointer is not None:
            checkpointer.finish(truncate=started)


class CheckpointedSQLiteFactory(SQLiteFactory):
    """`eventsourcing.sqlite` with the WAL checkpoint off the commit path (module docstring)."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        library = self.datastore  # built by the library from the environment; no connection yet
        self.datastore = CheckpointedSQLiteDatastore(
            library.pool.db_name,
            lock_timeout=library.pool.lock_timeout,
            single_row_tracking=library.single_row_tracking,
            originator_id_type=library.originator_id_type,
        )
        library.close()
