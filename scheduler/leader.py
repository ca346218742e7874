"""Who may run the jobs: one scheduler per store, elected rather than assumed.

APScheduler does not support several schedulers on one job store (LIBNOTES.md), and a second
node must never send a reminder twice (PRODUCT.md rule 4). So:

* **PostgreSQL** (several nodes): the leader holds a session-level advisory lock on a
  dedicated connection. The server releases it when that session ends, including when the
  process is killed or, thanks to TCP keepalives and a TCP user timeout, when the network to
  it dies. Standbys retry every ``lease`` seconds and so take over within about one lease.
  The leader checks its lock connection before every job run and steps down if it is gone.
* **SQLite** (one machine): a second scheduler on the same database file is refused at start,
  by an exclusive ``flock`` on a lock file beside the database. The kernel releases it when
  the process exits, however it exits.

The work stays idempotent anyway (reminder keys), so a rare overlap at a hand-over costs a
wasted sweep, not a duplicate message.

The composition root chooses the leadership for its store and hands it over: a lock file path
(``lock_file_for(database)``) or a libpq conninfo; nothing here reads a store URL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import socket
import threading
from pathlib import Path
from typing import IO, Protocol

import psycopg
import structlog
from psycopg.conninfo import make_conninfo

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "AdvisoryLockLeadership",
    "FileLockLeadership",
    "Leadership",
    "SchedulerAlreadyRunning",
    "lock_file_for",
    "node_id",
]

log = structlog.get_logger("duban.scheduler")

DEFAULT_LEASE_SECONDS = 10.0
"""PostgreSQL: seconds between leadership checks; a standby takes over within about one."""

# One well-known 64-bit key: advisory locks are per database, so one key per store suffices.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"duban.scheduler.leader").digest()[:8], signed=True)


class SchedulerAlreadyRunning(RuntimeError):
    """Another scheduler already owns this SQLite store; this one must not start."""


class Leadership(Protocol):
    """The right to run jobs. ``is_leader`` is asked before every run."""

    def start(self) -> None: ...

    def is_leader(self) -> bool: ...

    def leader_since(self) -> dt.datetime | None: ...

    def stop(self) -> None: ...


def node_id() -> str:
    """How this process is named in logs: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lock_file_for(database: Path) -> Path:
    """``var/duban.db`` → ``var/duban.db.scheduler.lock``."""
    return database.with_name(database.name + ".scheduler.lock")


# ---- SQLite -----------------------------------------------------------------------------


class FileLockLeadership:
    """Sole scheduler of one SQLite file, or a ``SchedulerAlreadyRunning`` at start.

    ``lock_path`` is the lock file beside the database (``lock_file_for``); ``None`` for a store
    no other process can share (in memory): always the leader.
    """

    def __init__(self, lock_path: Path | None) -> None:
        self.lock_path = lock_path
        self._file: IO[str] | None = None
        self._since: dt.datetime | None = None

    def start(self) -> None:
        if self.lock_path is not None:
            self._file = _exclusive_lock(self.lock_path)
        self._since = dt.datetime.now(dt.UTC)
        log.info("scheduler.leader.acquired", node=node_id(), lock=str(self.lock_path))

    def is_leader(self) -> bool:
        return self._since is not None

    def leader_since(self) -> dt.datetime | None:
        return self._since

    def stop(self) -> None:
        """Release the lock; the file stays (deleting lock files races with the next taker)."""
        self._since = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def _exclusive_lock(path: Path) -> IO[str]:
    """The lock file, opened and exclusively locked, with our pid in it for the next one's error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "未知进程"
        handle.close()
        msg = (
            f"另一个调度器（{holder}）已在使用这个数据库（锁文件 {path}）。"
            "SQLite 只能运行一个调度器：请先停止它，或改用 PostgreSQL 运行多个节点。"
        )
        raise SchedulerAlreadyRunning(msg) from None
    handle.seek(0)
    handle.truncate()
    handle.write(node_id() + "\n")
    handle.flush()
    return handle


# ---- PostgreSQL -------------------------------------------------------------------------


class AdvisoryLockLeadership:
    """Leader while holding ``pg_try_advisory_lock(LOCK_KEY)`` on its own connection.

    A background thread tries every ``lease`` seconds: standbys to take the lock, the leader
    to prove its connection is alive. Connection failures are logged and retried, never
    raised: a node without the database simply is not the leader.
    """

    def __init__(self, conninfo: str, lease: float) -> None:
        self.conninfo = conninfo
        self.lease = lease
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._since: dt.datetime | None = None
        self._guard = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="duban-leader", daemon=True)

    def start(self) -> None:
        self._tick()
        self._thread.start()

    def is_leader(self) -> bool:
        """Leader now, with a live lock connection; steps down (and says so) if it is not."""
        with self._guard:
            if self._since is None:
                return False
            if self._alive():
                return True
            self._step_down("lock connection lost")
            return False

    def leader_since(self) -> dt.datetime | None:
        return self._since

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.lease + 5)
        with self._guard:
            if self._since is not None:
                log.info("scheduler.leader.released", node=node_id())
            self._since = None
            self._close()  # ending the session releases the lock

    def _loop(self) -> None:
        while not self._stopping.wait(self.lease):
            self._tick()

    def _tick(self) -> None:
        with self._guard:
            if self._stopping.is_set():
                return
            if self._since is not None:
                if not self._alive():
                    self._step_down("lock connection lost")
                return
            self._try_acquire()

    def _try_acquire(self) -> None:
        try:
            conn = self._connection()
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        except psycopg.Error as exc:
            log.warning("scheduler.leader.unreachable", node=node_id(), error=str(exc))
            self._close()
            return
        if row is not None and row[0] is True:
            self._since = dt.datetime.now(dt.UTC)
            log.info("scheduler.leader.acquired", node=node_id())

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            conninfo = make_conninfo(self.conninfo, **_session_options(self.lease))
            self._conn = psycopg.connect(conninfo, autocommit=True)
        return self._conn

    def _alive(self) -> bool:
        conn = self._conn
        if conn is None or conn.closed:
            return False
        try:
            conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def _step_down(self, reason: str) -> None:
        log.warning("scheduler.leader.lost", node=node_id(), reason=reason)
        self._since = None
        self._close()

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):  # already broken: nothing to release
                self._conn.close()
            self._conn = None


def _session_options(lease: float) -> dict[str, str | int]:
    """Keepalives sized to the lease, so a dead peer is noticed in a few leases, not hours."""
    seconds = max(1, round(lease))
    return {
        "connect_timeout": max(2, seconds),
        "application_name": "duban-scheduler",
        "keepalives": 1,
        "keepalives_idle": seconds,
        "keepalives_interval": seconds,
        "keepalives_count": 3,
        "tcp_user_timeout": 3 * seconds * 1000,
    }
