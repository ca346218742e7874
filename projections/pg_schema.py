"""Schema creation on PostgreSQL, one process at a time.

Two processes opening a new database at once both run `CREATE TABLE IF NOT EXISTS …` (and the
library's functions and types); PostgreSQL does not serialise those catalog updates, so one of
them can fail with `tuple concurrently updated` or a duplicate key in `pg_type`. Everything that
creates or drops tables takes the same advisory lock first: the library's tables (events,
snapshots) through `SchemaLockedPostgresFactory`, whose recorders hold a session lock in a
connection of their own until the tables exist; the views' tables (`projections.viewstore`)
through a transaction-scoped lock in the transaction that creates them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)

__all__ = [
    "SCHEMA_LOCK_KEY",
    "SCHEMA_LOCK_SQL",
    "SchemaLockedAggregateRecorder",
    "SchemaLockedApplicationRecorder",
    "SchemaLockedPostgresFactory",
    "schema_lock",
]

# A fixed 64-bit key: `duban` schema changes (any database; advisory locks are per database).
SCHEMA_LOCK_KEY = 0x6475_6261_6E5F_5343  # b"duban_SC"
SCHEMA_LOCK_SQL = f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})"
_CONNECTION_KEYS = ("dbname", "host", "port", "user", "password")


@contextmanager
def schema_lock(datastore: PostgresDatastore) -> Iterator[None]:
    """Hold the schema lock in a connection of its own; closing it releases the lock, whatever
    happened (a crash of this process releases it too)."""
    pool_kwargs: dict[str, Any] = datastore.pool.kwargs  # type: ignore[assignment]
    kwargs = {k: pool_kwargs[k] for k in _CONNECTION_KEYS}
    connect = datastore.pool.connection_class.connect
    with connect(**kwargs, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))


class SchemaLockedAggregateRecorder(PostgresAggregateRecorder):
    """The library's aggregate recorder (the snapshots); its table is created under the lock."""

    def create_table(self) -> None:
        with schema_lock(self.datastore):
            super().create_table()


class SchemaLockedApplicationRecorder(PostgresApplicationRecorder):
    """The library's application recorder (the events); created under the schema lock."""

    def create_table(self) -> None:
        with schema_lock(self.datastore):
            super().create_table()


class SchemaLockedPostgresFactory(PostgresFactory):
    """`eventsourcing.postgres` whose recorders create their tables under the schema lock (the
    store's `PERSISTENCE_MODULE`, see `duban.settings.store`)."""

    aggregate_recorder_class = SchemaLockedAggregateRecorder
    application_recorder_class = SchemaLockedApplicationRecorder
