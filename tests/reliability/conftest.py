"""What the reliability tests share: the corpus, the raw stored events, running services.

The default run is bounded (a few seconds per test); `DUBAN_RELIABILITY=full` (`make
reliability`) runs the bigger loops and every corpus case on both stores.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from domain.roles import Identity
from duban.app.access import TokenRegistry
from duban.app.importer import read_task_list
from duban.bootstrap import bootstrap
from duban.settings.store import is_sqlite, postgres_conninfo, sqlite_path
from tests.support.server import DUBAN, ServeProcess, duban

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


class RawEvents:
    """The events table as a forger touches it: plain SQL, rows addressed by notification id."""

    def __init__(self, store_url: str) -> None:
        self.sqlite = is_sqlite(store_url)
        self.url = store_url
        self.table = "stored_events" if self.sqlite else "duban_events"
        self.id = "rowid" if self.sqlite else "notification_id"

    def _connect(self) -> Any:
        if self.sqlite:
            return closing(sqlite3.connect(sqlite_path(self.url), timeout=30))
        return psycopg.connect(postgres_conninfo(self.url), connect_timeout=10)

    def run(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        """Statements with `{t}` (table), `{id}` (id column) and `?` marks, in one transaction."""
        mark = "?" if self.sqlite else "%s"
        with self._connect() as conn:
            for statement, params in statements:
                conn.execute(statement.format(t=self.table, id=self.id).replace("?", mark), params)
            conn.commit()

    def row(self, n: int) -> tuple[Any, ...]:
        """(originator_id, originator_version, topic, state) of event n."""
        mark = "?" if self.sqlite else "%s"
        query = (
            f"SELECT originator_id, originator_version, topic, state FROM {self.table} "
            f"WHERE {self.id} = {mark}"
        )
        with self._connect() as conn:
            found: tuple[Any, ...] = conn.execute(query, (n,)).fetchone()
        return found

    def last_id(self) -> int:
        with self._connect() as conn:
            return int(conn.execute(f"SELECT MAX({self.id}) FROM {self.table}").fetchone()[0])


# ---- a realistic run: the sample list, tokens, a few dozen lifecycle commands ---------------

OFFICE = Identity("office", "改革办")
# Three lead units of examples/tasks-2024.csv and the tasks each leads.
LIFECYCLE_UNITS = {
    "县发展和改革局": ("2024-01", "2024-17", "2024-18"),
    "县工业和信息化局": ("2024-04", "2024-06", "2024-07"),
    "县委政法委": ("2024-30", "2024-22", "2024-21"),  # 2024-21 is 持续推进: no extension
}


def populate(config: Path) -> dict[str, str]:
    """`duban init` + `duban import examples/tasks-2024.csv` + tokens, in-process (as the CLI
    does, only faster): the office's, an auditor's and each LIFECYCLE_UNITS liaison's."""
    services = bootstrap(config)
    try:
        services.ledger.reconcile_directory(services.config, OFFICE)
        sample = read_task_list(EXAMPLES / "tasks-2024.csv")
        assert sample.ok, sample.errors
        services.ledger.import_tasks(sample.rows, OFFICE)
        registry = TokenRegistry(services.ledger)
        tokens = {
            "office": registry.issue("office", "改革办", None, OFFICE).token,
            "auditor": registry.issue("auditor", "县纪委监委督查室", None, OFFICE).token,
        }
        for unit in LIFECYCLE_UNITS:
            tokens[unit] = registry.issue("liaison", "联络员", unit, OFFICE).token
        return tokens
    finally:
        services.ledger.close()


def drive_lifecycle(server: ServeProcess, tokens: dict[str, str]) -> int:
    """Claims, reports, an extension, a completion accepted and one returned, a cancellation:
    49 commands through the API; the number of commands."""
    done = 0

    def post(token: str, path: str, body: dict[str, Any] | None = None) -> None:
        nonlocal done
        with api_client(server, token) as api:
            answer = api.post(path, json=body) if body is not None else api.post(path)
        assert answer.is_success, (path, answer.status_code, answer.text)
        done += 1

    office = tokens["office"]
    for unit, (first, second, third) in LIFECYCLE_UNITS.items():
        liaison = tokens[unit]
        for code in (first, second, third):
            post(liaison, f"/tasks/{code}/claim")
            for percent in (20, 45):
                post(
                    liaison,
                    f"/tasks/{code}/reports",
                    {"text": f"推进至{percent}%", "percent": percent},
                )
        ask = {"new_deadline": "2025-06-30", "reason": "上级政策调整，需延后"}
        post(liaison, f"/tasks/{first}/extension/request", ask)
        post(office, f"/tasks/{first}/extension/grant", {"reason": "同意延期"})
        post(liaison, f"/tasks/{second}/completion/submit", {"summary": "已完成，见附件"})
        post(office, f"/tasks/{second}/completion/accept", {"reason": "审核通过，同意销号"})
        post(liaison, f"/tasks/{third}/completion/submit", {"summary": "基本完成"})
        post(office, f"/tasks/{third}/completion/return", {"reason": "佐证材料不足"})
        post(liaison, f"/tasks/{third}/reports", {"text": "补充佐证材料", "percent": 90})
    post(office, "/tasks/2024-35/cancel", {"reason": "任务调整，并入2024-34"})
    return done


def duban_run(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """One `duban` command as a subprocess; its exit code and output, whatever they are."""
    return subprocess.run(
        [str(DUBAN), "--config", str(config), *args],
        cwd=config.parent, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
