"""What the reliability tests share: the corpus, the raw stored events, running services.

The default run is bounded (a few seconds per test); `DUBAN_RELIABILITY=full` (`make
reliability`) runs the bigger loops and every corpus case on both stores.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from duban.store import is_sqlite, postgres_conninfo, sqlite_path
from tests.support.server import ServeProcess, duban

FULL = os.environ.get("DUBAN_RELIABILITY", "").lower() == "full"
CORPUS = Path(__file__).parent / "corpus"
REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def scale(bounded: int, full: int) -> int:
    """How big a loop is: small in the default run, big with DUBAN_RELIABILITY=full."""
    return full if FULL else bounded


# ---- the raw stored events, as a forger or an auditor sees them ---------------------------


@dataclass(frozen=True)
class StoreFingerprint:
    """The number of stored events and a digest over every stored byte, in order."""

    count: int
    digest: str


def _rows(store_url: str) -> list[tuple[Any, ...]]:
    if is_sqlite(store_url):
        path = sqlite_path(store_url)
        if not path.exists():
            return []
        with closing(sqlite3.connect(path)) as conn:
            known = conn.execute(
                "SELECT name FROM sqlite_master WHERE name = 'stored_events'"
            ).fetchall()
            if not known:
                return []
            query = (
                "SELECT rowid, originator_id, originator_version, topic, state "
                "FROM stored_events ORDER BY rowid"
            )
            return list(conn.execute(query))
    with psycopg.connect(postgres_conninfo(store_url), connect_timeout=10) as conn:
        if conn.execute("SELECT to_regclass('duban_events')").fetchone() == (None,):
            return []
        query = (
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM duban_events ORDER BY notification_id"
        )
        return list(conn.execute(query))


def fingerprint(store_url: str) -> StoreFingerprint:
    digest = hashlib.sha256()
    rows = _rows(store_url)
    for row in rows:
        for value in row:
            data = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
            digest.update(len(data).to_bytes(8, "big") + data)
    return StoreFingerprint(len(rows), digest.hexdigest())


# ---- configs and services --------------------------------------------------------------


def example_config(directory: Path, store_url: str) -> Path:
    """The example office's config (every unit of examples/tasks-2024.csv) on `store_url`."""
    text = (EXAMPLES / "duban.toml").read_text(encoding="utf-8")
    path = directory / "duban.toml"
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(
        text.replace('store = "sqlite:///var/duban.db"', f'store = "{store_url}"'),
        encoding="utf-8",
    )
    return path


def issue_token(config: Path, *args: str) -> str:
    issued: dict[str, str] = json.loads(duban(config, "token", "issue", "--format", "json", *args))
    return issued["token"]


def api_client(server: ServeProcess, token: str, timeout: float = 30) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.Client(base_url=f"{server.url}/api/v1", headers=headers, timeout=timeout)


@pytest.fixture
def stopping() -> Iterator[list[ServeProcess]]:
    """Servers a test starts; every one is stopped at the end, whatever happened."""
    started: list[ServeProcess] = []
    yield started
    for server in started:
        try:
            server.stop()
        except Exception:  # a server that hung was killed: keep stopping the rest
            continue
