"""Our views' tracking recorders pass the library's own `TrackingRecorderTestCase`, on an SQLite
file and on the real PostgreSQL server of the session (DSN from DUBAN_TEST_PG_DSN)."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.tests import persistence as library_tests

from projections import audit, board, chain
from projections.viewstore import PostgresViewRecorder, SQLiteViewRecorder, ViewRecorder

VIEWS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "board": (board.SCHEMA, board.TABLES),
    "audit": (audit.SCHEMA, audit.TABLES),
    "chain": (chain.SCHEMA, chain.TABLES),
}
_databases = itertools.count()


def _conninfo() -> dict[str, str]:
    return dict(part.split("=", 1) for part in os.environ["DUBAN_TEST_PG_DSN"].split())


class _SQLiteViews:
    """Mixed into the library's test case (a base that is no TestCase is not collected)."""

    view_name = ""

    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp()
        self.datastore = SQLiteDatastore(f"{self.tmp}/views.db")

    def tearDown(self) -> None:
        self.datastore.close()
        shutil.rmtree(self.tmp)

    def create_recorder(self) -> ViewRecorder:
        schema, tables = VIEWS[self.view_name]
        recorder = SQLiteViewRecorder(self.datastore, self.view_name, schema, tables)
        recorder.create_table()
        return recorder


class _PostgresViews:
    view_name = ""

    def setUp(self) -> None:
        info = _conninfo()
        self.dbname = f"duban_tracking_{os.getpid()}_{next(_databases)}"
        with psycopg.connect(os.environ["DUBAN_TEST_PG_DSN"], autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.dbname}"')
        self.datastore = PostgresDatastore(
            dbname=self.dbname,
            host=info["host"],
            port=info["port"],
            user=info["user"],
            password=info["password"],
        )

    def tearDown(self) -> None:
        self.datastore.close()

    def create_recorder(self) -> ViewRecorder:
        schema, tables = VIEWS[self.view_name]
        recorder = PostgresViewRecorder(self.datastore, self.view_name, schema, tables)
        recorder.create_table()
        return recorder


class TestSQLiteBoardTracking(_SQLiteViews, library_tests.TrackingRecorderTestCase):
    view_name = "board"


class TestSQLiteAuditTracking(_SQLiteViews, library_tests.TrackingRecorderTestCase):
    view_name = "audit"


class TestSQLiteChainTracking(_SQLiteViews, library_tests.TrackingRecorderTestCase):
    view_name = "chain"


@pytest.mark.usefixtures("pg_server")
class TestPostgresBoardTracking(_PostgresViews, library_tests.TrackingRecorderTestCase):
    view_name = "board"


@pytest.mark.usefixtures("pg_server")
class TestPostgresAuditTracking(_PostgresViews, library_tests.TrackingRecorderTestCase):
    view_name = "audit"


@pytest.mark.usefixtures("pg_server")
class TestPostgresChainTracking(_PostgresViews, library_tests.TrackingRecorderTestCase):
    view_name = "chain"


@pytest.fixture(params=["sqlite", "postgres"])
def recorder(request: pytest.FixtureRequest) -> Iterator[ViewRecorder]:
    if request.param == "sqlite":
        case: Any = TestSQLiteBoardTracking("create_recorder")
    else:
        request.getfixturevalue("pg_server")
        case = TestPostgresBoardTracking("create_recorder")
    case.setUp()
    yield case.create_recorder()
    case.tearDown()


def test_rows_and_position_are_written_together_or_not_at_all(recorder: ViewRecorder) -> None:
    upsert = (
        "INSERT INTO {p}board_tasks (task_id, seq, code, lead_unit, grp, official, facts) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    recorder.write([(upsert, [("t1", 1, "A", "u", None, None, "{}")])], Tracking("duban", 5))
    with pytest.raises(IntegrityError):  # position not ahead: the row must not stay either
        recorder.write([(upsert, [("t2", 2, "B", "u", None, None, "{}")])], Tracking("duban", 5))
    codes = [r["code"] for r in recorder.select("SELECT code FROM {p}board_tasks ORDER BY seq")]
    assert codes == ["A"]
    assert recorder.max_tracking_id("duban") == 5


def test_dropping_a_view_forgets_its_rows_and_position(recorder: ViewRecorder) -> None:
    recorder.insert_tracking(Tracking("duban", 9))
    recorder.drop()
    recorder.create_table()
    assert recorder.max_tracking_id("duban") is None
    assert recorder.select("SELECT * FROM {p}board_tasks") == []
