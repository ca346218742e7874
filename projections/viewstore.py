"""Where read models live: tables beside the events, in the event store's own database.

A view is a set of tables plus one tracking row (the last notification id it has processed),
written in ONE transaction, so a view is never ahead of or behind its own position: that is
what makes processing exactly-once across crashes and across several nodes (a second writer
of the same position fails on the tracking row and rolls its rows back).

The same SQL runs on both stores: statements are written with `?` placeholders and a
`{p}` table-name prefix. SQLite keeps the library's fixed naming (no prefix, one application
per file); PostgreSQL prefixes tables with the application name (``duban_board_tasks``),
as the library does for ``duban_events``. Either way a backup of the store is one thing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from projections.pg_schema import SCHEMA_LOCK_SQL

__all__ = [
    "APP_NAME",
    "PostgresViewRecorder",
    "SQLiteViewRecorder",
    "Step",
    "ViewRecorder",
    "ensure_view_version",
    "view_recorder",
]

APP_NAME = "duban"

# One statement and the parameter rows it is executed with (executemany when several).
Step = tuple[str, Sequence[Sequence[Any]]]
Dialect = Literal["sqlite", "postgres"]


class _Cursor(Protocol):
    def execute(self, statement: Any, params: Any = ...) -> Any: ...
    def executemany(self, statement: Any, params: Any) -> Any: ...
    def fetchall(self) -> Any: ...
    def fetchone(self) -> Any: ...


class ViewRecorder(TrackingRecorder, ABC):
    """The tables of one read model and its tracking row, written together.

    `schema` holds `CREATE ... IF NOT EXISTS` statements; `tables` the tables to drop on a
    rebuild. Table names are written `{p}name` and get the store's prefix.
    """

    dialect: Dialect
    prefix: str
    events_table: str
    id_column: str

    def __init__(
        self, view_name: str, schema: Sequence[str], tables: Sequence[str], prefix: str
    ) -> None:
        self.view_name = view_name
        self.prefix = prefix
        self._schema = list(schema)
        self._tables = list(tables)
        self.tracking_table = f"{prefix}{view_name}_tracking"
        self._sql_cache: dict[str, str] = {}

    # ---- the dialect seam --------------------------------------------------------------

    @abstractmethod
    def _transaction(self, *, commit: bool) -> AbstractContextManager[_Cursor]:
        """A cursor in one transaction of the shared datastore."""

    @abstractmethod
    def _placeholders(self, statement: str) -> str:
        """`?` placeholders in the store's own style."""

    def _storable(self, rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
        """Parameter rows as the store can hold them (see PostgreSQL's override)."""
        return rows

    def _lock_schema(self, cursor: _Cursor) -> None:
        """Before creating or dropping tables: wait for other processes doing the same
        (PostgreSQL's override; one SQLite writer at a time already)."""

    def sql(self, template: str) -> str:
        """A statement template with `{p}` table prefixes and `?` placeholders, made concrete."""
        cached = self._sql_cache.get(template)
        if cached is None:
            cached = self._placeholders(template.replace("{p}", self.prefix))
            self._sql_cache[template] = cached
        return cached

    # ---- schema --------------------------------------------------------------------------

    def create_table(self) -> None:
        with self._transaction(commit=True) as cursor:
            self._lock_schema(cursor)
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.tracking_table} "
                "(application_name TEXT PRIMARY KEY, notification_id BIGINT NOT NULL)"
            )
            for statement in self._schema:
                cursor.execute(self.sql(statement))

    def drop(self) -> None:
        """Drop the view's tables and its position; `create_table()` makes them anew."""
        with self._transaction(commit=True) as cursor:
            self._lock_schema(cursor)
            for table in [*self._tables, self.tracking_table.removeprefix(self.prefix)]:
                cursor.execute(f"DROP TABLE IF EXISTS {self.prefix}{table}")
        self._sql_cache.clear()

    # ---- writes and reads -----------------------------------------------------------------

    def write(self, steps: Sequence[Step], tracking: Tracking | None) -> None:
        """Apply every step and move the position to `tracking`, all in one transaction.

        Raises `IntegrityError` (and writes nothing) when the position is not ahead of the
        stored one: someone else processed these events first.
        """
        with self._transaction(commit=True) as cursor:
            if any(_is_ddl(statement) for statement, _ in steps):
                self._lock_schema(cursor)
            for statement, rows in steps:
                if len(rows) == 1:
                    cursor.execute(self.sql(statement), self._storable(rows)[0])
                elif rows:
                    cursor.executemany(self.sql(statement), self._storable(rows))
            if tracking is not None:
                self._insert_tracking(cursor, tracking)

    def select(self, template: str, params: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        """Rows as mappings (column name → value)."""
        with self._transaction(commit=False) as cursor:
            cursor.execute(self.sql(template), list(params))
            return [_as_mapping(row) for row in cursor.fetchall()]

    def select_in(
        self, template: str, values: Iterable[Any], chunk: int = 500
    ) -> list[Mapping[str, Any]]:
        """Rows of a query whose `{in}` stands for the list `values` (as in `IN ({in})`),
        asked `chunk` values at a time (the stores' limits on bound parameters)."""
        wanted = sorted(values)
        rows: list[Mapping[str, Any]] = []
        for i in range(0, len(wanted), chunk):
            part = wanted[i : i + chunk]
            rows += self.select(template.replace("{in}", ", ".join("?" * len(part))), part)
        return rows

    def select_stream(
        self, template: str, params: Sequence[Any], after: int, page: int = 5000
    ) -> Iterator[Mapping[str, Any]]:
        """Page through a query ordered by an `id` column: `template` takes `after` and a limit
        as its last two parameters and must select that `id`."""
        while True:
            rows = self.select(template, [*params, after, page])
            yield from rows
            if len(rows) < page:
                return
            after = int(rows[-1]["id"])

    # ---- tracking -------------------------------------------------------------------------

    def insert_tracking(self, tracking: Tracking) -> None:
        self.write([], tracking)

    def _insert_tracking(self, cursor: _Cursor, tracking: Tracking) -> None:
        cursor.execute(
            self.sql(
                f"INSERT INTO {self.tracking_table} (application_name, notification_id) "  # noqa: S608
                "VALUES (?, ?) ON CONFLICT (application_name) DO UPDATE "
                "SET notification_id = excluded.notification_id "
                f"WHERE {self.tracking_table}.notification_id < excluded.notification_id "
                "RETURNING notification_id"
            ),
            (tracking.application_name, tracking.notification_id),
        )
        if cursor.fetchone() is None:
            msg = (
                f"{self.view_name}: position {tracking.notification_id} of "
                f"{tracking.application_name} is not ahead of the recorded one"
            )
            raise IntegrityError(msg)

    def max_tracking_id(self, application_name: str) -> int | None:
        rows = self.select(
            f"SELECT notification_id FROM {self.tracking_table} WHERE application_name = ?",  # noqa: S608
            [application_name],
        )
        return int(rows[0]["notification_id"]) if rows else None


def _as_mapping(row: Any) -> Mapping[str, Any]:
    return row if isinstance(row, Mapping) else dict(zip(row.keys(), row, strict=True))


class SQLiteViewRecorder(ViewRecorder):
    """A view in the application's SQLite file, through the application's own connection pool
    (so the pool's writer lock orders our writes with the ledger's)."""

    dialect: Dialect = "sqlite"
    events_table = "stored_events"
    id_column = "rowid"

    def __init__(
        self,
        datastore: SQLiteDatastore,
        view_name: str,
        schema: Sequence[str],
        tables: Sequence[str],
    ) -> None:
        super().__init__(view_name, schema, tables, prefix="")
        self.datastore = datastore

    def _transaction(self, *, commit: bool) -> AbstractContextManager[_Cursor]:
        return self.datastore.transaction(commit=commit)

    def _placeholders(self, statement: str) -> str:
        return statement


class PostgresViewRecorder(ViewRecorder):
    """A view in the application's PostgreSQL database, tables prefixed with the app name."""

    dialect: Dialect = "postgres"
    id_column = "notification_id"

    def __init__(
        self,
        datastore: PostgresDatastore,
        view_name: str,
        schema: Sequence[str],
        tables: Sequence[str],
        app_name: str = APP_NAME,
    ) -> None:
        super().__init__(view_name, schema, tables, prefix=f"{app_name}_")
        self.datastore = datastore
        self.events_table = f"{datastore.schema}.{app_name}_events"

    def _transaction(self, *, commit: bool) -> AbstractContextManager[_Cursor]:
        return self.datastore.transaction(commit=commit)

    def _placeholders(self, statement: str) -> str:
        return statement.replace("%", "%%").replace("?", "%s")

    def _lock_schema(self, cursor: _Cursor) -> None:
        cursor.execute(SCHEMA_LOCK_SQL)  # released when this transaction ends

    def _storable(self, rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
        """PostgreSQL text cannot hold NUL: an event that carries one (valid JSON, stored in
        the events' bytea) must not stall a view for ever, so the view shows U+FFFD instead.
        The full event data column is JSON, where NUL is escaped and kept."""
        return [tuple(_without_nul(v) for v in row) for row in rows]


def _is_ddl(statement: str) -> bool:
    return statement.lstrip()[:7].upper().startswith(("CREATE ", "DROP ", "ALTER "))


def _without_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def view_recorder(
    datastore: object, view_name: str, schema: Sequence[str], tables: Sequence[str]
) -> ViewRecorder:
    """The view recorder for the store the application uses, its tables created."""
    recorder: ViewRecorder
    if isinstance(datastore, SQLiteDatastore):
        recorder = SQLiteViewRecorder(datastore, view_name, schema, tables)
    elif isinstance(datastore, PostgresDatastore):
        recorder = PostgresViewRecorder(datastore, view_name, schema, tables)
    else:
        msg = f"no view recorder for {type(datastore).__name__}"
        raise TypeError(msg)
    recorder.create_table()
    return recorder


def ensure_view_version(
    view: ViewRecorder,
    meta_table: str,
    key: str,
    version: str,
    tables: Sequence[str],
    schema: Sequence[str],
) -> None:
    """Keep a view only if `version` wrote it: otherwise drop its tables and its position and
    create them empty, in one transaction (the old view or the new empty one, never half), so
    that the next catch-up rebuilds it from the events. `meta_table` (unprefixed) holds
    ``(name, value)`` rows; `key` names this view's row."""
    meta = (
        f"CREATE TABLE IF NOT EXISTS {{p}}{meta_table} (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
    )
    view.write([(meta, [()])], None)
    rows = view.select(f"SELECT value FROM {{p}}{meta_table} WHERE name = ?", [key])  # noqa: S608
    if rows and rows[0]["value"] == version:
        return
    tracking = (
        f"CREATE TABLE IF NOT EXISTS {view.tracking_table} "
        "(application_name TEXT PRIMARY KEY, notification_id BIGINT NOT NULL)"
    )
    mark = (  # the table names are the modules' constants, never input
        f"INSERT INTO {{p}}{meta_table} (name, value) VALUES (?, ?) "  # noqa: S608
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
    )
    steps: list[Step] = [(f"DROP TABLE IF EXISTS {{p}}{table}", [()]) for table in tables]
    steps.append((f"DROP TABLE IF EXISTS {view.tracking_table}", [()]))
    steps += [(statement, [()]) for statement in schema]
    steps += [(tracking, [()]), (mark, [(key, version)])]
    view.write(steps, None)
