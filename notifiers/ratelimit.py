"""How often each robot may post, enforced across processes and restarts.

Every send is a row in `robot_sends(robot, sent_at)`; a platform-imposed block (DingTalk's ten
minutes after `130101`) is a row in `robot_blocks`. Deciding and recording happen in one
transaction that holds a per-robot lock (SQLite `BEGIN IMMEDIATE`, PostgreSQL
`pg_advisory_xact_lock(hashtext(robot))`), so two schedulers, or a scheduler and a
`duban deliver` run, can never together exceed a limit. `robot` is `guard.fingerprint(url)`:
the webhook itself is a secret and never stored.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

if TYPE_CHECKING:
    import psycopg

__all__ = ["RateLimiter"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS robot_sends (robot TEXT NOT NULL, sent_at {real} NOT NULL)",
    "CREATE INDEX IF NOT EXISTS robot_sends_robot_sent_at ON robot_sends (robot, sent_at)",
    "CREATE TABLE IF NOT EXISTS robot_blocks"
    " (robot TEXT PRIMARY KEY, blocked_until {real} NOT NULL)",
)
_BLOCKED = "SELECT blocked_until FROM robot_blocks WHERE robot = ?"
_UNBLOCK = "DELETE FROM robot_blocks WHERE robot = ? AND blocked_until <= ?"
_RECENT = "SELECT sent_at FROM robot_sends WHERE robot = ? AND sent_at > ? ORDER BY sent_at"
_PRUNE = "DELETE FROM robot_sends WHERE robot = ? AND sent_at <= ?"
_RECORD = "INSERT INTO robot_sends (robot, sent_at) VALUES (?, ?)"
_BLOCK = (
    "INSERT INTO robot_blocks (robot, blocked_until) VALUES (?, ?) ON CONFLICT (robot)"
    " DO UPDATE SET blocked_until = {greatest}(robot_blocks.blocked_until, excluded.blocked_until)"
)


class _Transaction(Protocol):
    def rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]: ...
    def run(self, sql: str, params: Sequence[Any]) -> None: ...


class _Backend(Protocol):
    greatest: str

    def locked(self, robot: str) -> AbstractContextManager[_Transaction]: ...
    def close(self) -> None: ...


class _SQLiteTransaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return list(self._conn.execute(sql, params).fetchall())

    def run(self, sql: str, params: Sequence[Any]) -> None:
        self._conn.execute(sql, params)


class _SQLite:
    """One connection per limiter; `BEGIN IMMEDIATE` takes the write lock before reading."""

    greatest = "MAX"

    def __init__(self, path: str | Path) -> None:
        self._conn = sqlite3.connect(
            str(path), timeout=30.0, isolation_level=None, check_same_thread=False
        )
        self._mutex = threading.Lock()
        # The journal mode is left as the file has it: switching to WAL needs a lock that the
        # busy timeout does not wait for, so processes opening a new file together would fail.
        with self.locked("") as tx:
            for statement in _SCHEMA:
                tx.run(statement.format(real="REAL"), ())

    @contextmanager
    def locked(self, robot: str) -> Iterator[_Transaction]:
        with self._mutex:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteTransaction(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()


class _PostgresTransaction:
    def __init__(self, cursor: psycopg.Cursor[tuple[Any, ...]]) -> None:
        self._cursor = cursor

    def rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        self._cursor.execute(_pg(sql), params)
        return self._cursor.fetchall()

    def run(self, sql: str, params: Sequence[Any]) -> None:
        self._cursor.execute(_pg(sql), params)


def _pg(sql: str) -> Any:
    """Our `?` placeholders as psycopg's `%s` (the statements are constants of this module)."""
    return sql.replace("?", "%s")


class _Postgres:
    """One connection per limiter, reopened if it breaks; a transaction-scoped advisory lock."""

    greatest = "GREATEST"
    _SCHEMA_LOCK = "duban.notifiers.ratelimit.schema"

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._mutex = threading.Lock()
        self._conn = self._connect()
        # Concurrent CREATE TABLE IF NOT EXISTS can collide in the catalog: serialise it too.
        with self.locked(self._SCHEMA_LOCK) as tx:
            for statement in _SCHEMA:
                tx.run(statement.format(real="DOUBLE PRECISION"), ())

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        import psycopg

        return psycopg.connect(self._conninfo, autocommit=True)

    @contextmanager
    def locked(self, robot: str) -> Iterator[_Transaction]:
        with self._mutex:
            if self._conn.broken or self._conn.closed:
                self._conn = self._connect()
            with self._conn.transaction(), self._conn.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (robot,))
                yield _PostgresTransaction(cursor)

    def close(self) -> None:
        self._conn.close()


class RateLimiter:
    """Per-robot sliding windows shared by every process that opens the same database."""

    def __init__(self, backend: _Backend) -> None:
        self._backend = backend

    @classmethod
    def sqlite(cls, path: str | Path) -> RateLimiter:
        return cls(_SQLite(path))

    @classmethod
    def postgres(cls, conninfo: str) -> RateLimiter:
        """`conninfo` is a libpq string or URL, e.g. from the store URL."""
        return cls(_Postgres(conninfo))

    def acquire(
        self, robot: str, limits: Sequence[tuple[int, float]], now: float, cost: int = 1
    ) -> float:
        """0.0 and `cost` sends recorded at `now` if they fit every limit; else the seconds to
        wait before asking again, and nothing recorded. `limits` are (count, window seconds);
        pass the same limits for a robot every time (old rows are pruned by the longest window).
        """
        _check_robot(robot)
        if any(cost > count for count, _ in limits):
            raise ValueError(f"{cost} sends at once can never fit the limits {list(limits)}")
        longest = max((window for _, window in limits), default=0.0)
        with self._backend.locked(robot) as tx:
            blocked = tx.rows(_BLOCKED, (robot,))
            if blocked and blocked[0][0] > now:
                return float(blocked[0][0]) - now
            recent = [float(row[0]) for row in tx.rows(_RECENT, (robot, now - longest))]
            wait = max((_wait(recent, c, w, now, cost) for c, w in limits), default=0.0)
            if wait > 0:
                return wait
            tx.run(_PRUNE, (robot, now - longest))
            tx.run(_UNBLOCK, (robot, now))
            for _ in range(cost):
                tx.run(_RECORD, (robot, now))
        return 0.0

    def block(self, robot: str, until: float) -> None:
        """No send for `robot` before `until` (epoch seconds), e.g. after DingTalk 130101."""
        _check_robot(robot)
        with self._backend.locked(robot) as tx:
            tx.run(_BLOCK.format(greatest=self._backend.greatest), (robot, until))

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _wait(sent: list[float], count: int, window: float, now: float, cost: int) -> float:
    """Seconds until `cost` more sends fit `count` per `window`, given the sorted send times."""
    in_window = [t for t in sent if t > now - window]
    excess = len(in_window) + cost - count
    if excess <= 0:
        return 0.0
    # The send that must leave the window first; it leaves at its time plus the window.
    return in_window[excess - 1] + window - now


def _check_robot(robot: str) -> None:
    if not robot or "://" in robot or "=" in robot:
        raise ValueError(
            "robot must be a fingerprint of the webhook (guard.fingerprint), not a URL"
        )
