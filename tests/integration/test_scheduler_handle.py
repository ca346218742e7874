"""The in-process handle `duban serve` uses: start, refuse a second, stop releases the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from duban.app.services import Services
from duban.bootstrap import (
    SchedulerAlreadyRunning,
    SchedulerHandle,
    bootstrap,
    scheduler_for,
    scheduler_service,
)
from duban.settings.config import parse_config

CHANNELS = [{"name": "office", "platform": "console"}, {"name": "leaders", "platform": "console"}]


def start_scheduler(services: Services) -> SchedulerHandle:
    handle = scheduler_for(services)
    handle.start()
    return handle


def test_the_handle_leads_on_sqlite_and_stop_lets_the_next_one_start(sqlite_url: str) -> None:
    services = bootstrap(parse_config({"channels": CHANNELS, "store": sqlite_url}))
    try:
        first = start_scheduler(services)
        assert first.is_leader()
        second = scheduler_for(services)
        with pytest.raises(SchedulerAlreadyRunning):
            second.start()
        first.stop()
        first.stop()  # twice is harmless
        second.start()
        assert second.is_leader()
        second.stop()
        assert not second.is_leader()
    finally:
        services.ledger.close()


def test_serve_keeps_serving_without_a_scheduler_when_another_holds_sqlite(
    sqlite_url: str,
) -> None:
    services = bootstrap(parse_config({"channels": CHANNELS, "store": sqlite_url}))
    try:
        first = start_scheduler(services)
        beside_the_api = scheduler_service(services)  # what `duban serve` starts
        beside_the_api.start()  # logs a warning instead of failing the server
        assert not beside_the_api.is_leader()
        beside_the_api.stop()
        assert first.is_leader()
        first.stop()
    finally:
        services.ledger.close()


def test_the_lock_file_sits_beside_the_database(sqlite_url: str) -> None:
    services = bootstrap(parse_config({"channels": CHANNELS, "store": sqlite_url}))
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    try:
        handle = start_scheduler(services)
        assert (database.parent / "duban.db.scheduler.lock").exists()
        handle.stop()
    finally:
        services.ledger.close()
