"""Shared fixtures: a real PostgreSQL server for the session, stores on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support.pg import PgServer, start_server

pytest_plugins = ["tests.fakes.platforms"]

TZ = ZoneInfo("Asia/Shanghai")
_db_counter = itertools.count()


if sys.version_info >= (3, 13):

    @pytest.fixture(autouse=True)
    def _collect_after_each_test() -> Iterator[None]:
        """From 3.13 an unclosed `sqlite3.Connection` warns when it is collected, and the
        warning is an error here: collecting at each test's end lays it at the test that
        leaked the connection instead of at whichever later test the collector ran in."""
        yield
        gc.collect()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = start_server()
    os.environ["DUBAN_TEST_PG_DSN"] = server.conninfo()
    try:
        yield server
    finally:
        server.stop("immediate")


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    return pg_server.create_database(f"duban_test_{os.getpid()}_{next(_db_counter)}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'duban.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The behavioural suite runs once on each store."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'duban.db'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database(f"duban_test_{os.getpid()}_{next(_db_counter)}")


class FakeClock:
    """A settable clock for scenario tests (the office's time, not the write timestamp)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2024, 3, 1, 10, 0, tzinfo=TZ))
