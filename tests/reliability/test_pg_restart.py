"""PostgreSQL restarted under a running `duban serve` with clients reporting progress.

A dedicated PostgreSQL server (not the session's: its restart would cut every other test's
connections) is restarted while four clients keep posting reports. During the outage requests
fail cleanly — 503 `store_busy` with Retry-After (or 409), never a 500 and never a hang — and
the service recovers by itself: reports are accepted again without restarting `duban serve`.
Every report answered 200, before or after the restart, is in the ledger.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.reliability.conftest import FULL, api_client, example_config, populate, scale
from tests.support.pg import PgServer, start_server
from tests.support.server import ServeProcess, start_serve

UNIT = "县发展和改革局"
CODE = "2024-01"
REQUEST_TIMEOUT = 90.0


@dataclass(frozen=True)
class Sent:
    text: str
    status: int | str  # an HTTP status, or the transport error's name
    after_restart: bool
    body: str


@pytest.fixture
def own_pg() -> Iterator[PgServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.stop("immediate")


def _down_for(seconds: float) -> Callable[[PgServer], None]:
    def outage(pg: PgServer) -> None:
        """Stopped, some seconds with no database at all, started again on the same port."""
        pg.stop("fast")
        time.sleep(seconds)
        _start_again(pg)

    return outage


def _start_again(pg: PgServer) -> None:
    # PgServer.restart()'s second half: the harness has no start-only method for a cluster.
    opts = (
        f"-c listen_addresses=127.0.0.1 -c port={pg.port} "
        f"-c unix_socket_directories={pg.data_dir.parent} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    log = str(pg.data_dir.parent / "server.log")
    pg._run("pg_ctl", "-D", str(pg.data_dir), "-o", opts, "-w", "-t", "60", "-l", log, "start")


# Requests wait for the store while it is down (the connection pool's 30 s timeout): a
# longer outage than that, in the full run, shows what callers get once waiting gives up.
OUTAGES: dict[str, Callable[[PgServer], None]] = {
    "restart": PgServer.restart,
    "down-3s": _down_for(3),
    **({"down-45s": _down_for(45)} if FULL else {}),
}


@pytest.mark.postgres
@pytest.mark.parametrize("outage", list(OUTAGES))
def test_the_service_rides_out_a_postgresql_restart_and_loses_nothing(
    own_pg: PgServer, tmp_path: Path, stopping: list[ServeProcess], outage: str
) -> None:
    config = example_config(tmp_path / "office", own_pg.create_database("duban_rel_restart"))
    tokens = populate(config)
    server = start_serve(config, tmp_path / "logs", "--no-scheduler")
    stopping.append(server)
    with api_client(server, tokens[UNIT]) as api:
        api.post(f"/tasks/{CODE}/claim").raise_for_status()

    restarted = threading.Event()
    stop = threading.Event()
    accepted_before, accepted_after = Counter[int](), Counter[int]()
    wanted_after = scale(20, 200)

    def client(number: int) -> list[Sent]:
        sent = []
        with api_client(server, tokens[UNIT], timeout=REQUEST_TIMEOUT) as api:
            n = 0
            while not stop.is_set():
                after, began = restarted.is_set(), time.monotonic()
                text = f"客户端{number}第{n}次报送"
                try:
                    answer = api.post(f"/tasks/{CODE}/reports", json={"text": text, "percent": 50})
                    status: int | str = answer.status_code
                    body = answer.text[:300]
                except httpx.TransportError as exc:
                    status, body = type(exc).__name__, str(exc)
                sent.append(Sent(text, status, after, body))
                if FULL:
                    print(f"{time.strftime('%X')} {text} {status} {time.monotonic() - began:.1f}s")
                if status == 200:
                    (accepted_after if after else accepted_before)[number] += 1
                if status != 200:
                    time.sleep(0.05)
                n += 1
        return sent

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(client, number) for number in range(4)]
        assert _wait_for(lambda: sum(accepted_before.values()) >= 10, 30)  # reports flowing
        OUTAGES[outage](own_pg)
        restarted.set()
        recovered = _wait_for(lambda: sum(accepted_after.values()) >= wanted_after, 60)
        stop.set()
        results = [s for f in futures for s in f.result(timeout=REQUEST_TIMEOUT * 3)]

    statuses = Counter(s.status for s in results)
    print(f"{outage}: statuses around the restart: {dict(statuses)}")
    assert recovered, f"no recovery within 60 s after the restart: {statuses}"
    assert set(statuses) <= {200, 409, 503}, statuses  # no 500, no hang (transport timeout)
    for failed in (s for s in results if s.status in (409, 503)):
        assert "Traceback" not in failed.body, failed
        assert "psycopg" not in failed.body, failed
    assert "Traceback" not in server.output()
    before = [s for s in results if s.status == 200 and not s.after_restart]
    after = [s for s in results if s.status == 200 and s.after_restart]
    assert before, "nothing accepted before the restart"
    assert after, "nothing accepted after the restart"
    with api_client(server, tokens["auditor"]) as api:
        history = api.get(f"/tasks/{CODE}/history").json()
    stored = Counter(e["text"] for e in history if e["type"].endswith("ProgressReported"))
    wrong = {s.text: stored[s.text] for s in before + after if stored[s.text] != 1}
    # every 200 stored exactly once, before and after the restart
    assert not wrong, f"answered 200 but stored this many times: {wrong}"


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False
