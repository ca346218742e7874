"""The web workspace: every page's server time (p95) beside the board query's own time.

The history is the board benchmark's (`bench.bench_board.History`: aggregates driven through
their real methods, inserted 20,000 events at a time). Full: 10,000 tasks and 1,000,000 events;
quick: 300 tasks and 6,000 events. The app is the one `duban serve` runs (`create_app`), called
in process through Starlette's test client, so the time is the server's alone (no socket, no
second process competing for the 2 cores). Each page is asked as the person who would open it,
signed in with a real session cookie; every read model is caught up once before timing.

The baseline, in the same run: `ReadModels.board()`, the query every board-like page starts
from. The board as it stood (`/audit/board`) and verification (`/audit/verify`) replay or
re-hash the whole history by design: they are asked fewer times and show what that costs.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from bench.bench_board import History
from bench.harness import Figure
from duban.api import create_app
from duban.app.people import PeopleRegistry
from duban.app.reads import ReadModels
from duban.app.roles import Identity
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from duban.web.auth import SESSION_COOKIE
from tests.support.api import LEAD_UNIT, write_config

NAME = "web"
OFFICE = Identity("office", "改革办")


def _p95_ms(times: list[float]) -> float:
    if len(times) < 2:
        return times[0] * 1000
    return statistics.quantiles(times, n=20, method="inclusive")[-1] * 1000


def _timed(work: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return times


def _cookie(people: PeopleRegistry, person: str) -> str:
    link = people.invite(person, OFFICE).link
    opened = people.redeem(link.split("t=", 1)[1])
    assert opened.cookie
    return opened.cookie


def _label(path: str) -> str:
    """The page and which filters it had (not the values: the table stays narrow)."""
    page, _, query = path.partition("?")
    keys = [part.split("=", 1)[0] for part in query.split("&") if part]
    return page + ("?" + "&".join(keys) if keys else "")


def run(quick: bool) -> list[Figure]:
    tasks, events = (300, 6_000) if quick else (10_000, 1_000_000)
    rounds = 10 if quick else 20
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "duban.db"
        history = History(store, tasks)
        history.emit(events - 2 * tasks)
        history.close()
        services = bootstrap(load_config(write_config(Path(folder), f"sqlite:///{store}")))
        return _measure(services, history, events, rounds)


def _measure(services: object, history: History, events: int, rounds: int) -> list[Figure]:
    from duban.app.services import Services

    assert isinstance(services, Services)
    services.ledger.reconcile_directory(services.config, OFFICE)
    people = PeopleRegistry.of(services)
    people.add("auditor", "审计员", "bench-audit", OFFICE)
    people.add("office", "改革办员", "bench-office", OFFICE)
    liaison = services.config.units[0].liaisons[0].name
    cookies = {
        "office": _cookie(people, "bench-office"),
        "auditor": _cookie(people, "bench-audit"),
        "liaison": _cookie(people, liaison),
    }
    reads = ReadModels(services)
    reads.catch_up()
    board_ms = _p95_ms(_timed(reads.board, rounds))
    code = history.tasks[len(history.tasks) // 2].code
    day = history.start.date().isoformat()
    pages = [
        ("office", "/", rounds), ("office", f"/tasks/{code}", rounds), ("liaison", "/my", rounds),
        ("office", "/office", rounds), ("auditor", "/audit", rounds),
        ("auditor", f"/audit?unit={LEAD_UNIT}&kind=报送进展", rounds),
        ("auditor", f"/audit?task={code}", rounds), ("auditor", f"/audit/board?as_of={day}", 3),
        ("auditor", "/audit/verify", 3),
    ]  # fmt: skip
    n = f"{events // 1000}k ev"
    figures = [Figure(NAME, f"board query p95 ({n})", board_ms, "ms", higher_is_better=False)]
    with TestClient(create_app(services)) as client:
        for role, path, times in pages:
            client.cookies.set(SESSION_COOKIE, cookies[role])

            def get(path: str = path) -> None:
                answer = client.get(path)
                assert answer.status_code == 200, (path, answer.status_code)

            get()  # a first request warms the templates and the views
            figures.append(
                Figure(NAME, f"GET {_label(path)} p95",
                       _p95_ms(_timed(get, times)), "ms", "board query p95", board_ms,
                       higher_is_better=False)
            )  # fmt: skip
    return figures
