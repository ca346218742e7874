"""The composition root: the one place that reads the config and wires the parts together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from duban.config import Config, load_config, resolve_config_path
from duban.ledger import Ledger
from duban.logs import register_secrets
from duban.store import store_env

# The scheduler hook for `duban serve`; importing it also registers the ladder and cron checks,
# so every command rejects an invalid ladder or schedule at start with the key named.
from scheduler.runner import scheduler_service

__all__ = ["Services", "bootstrap", "open_ledger", "scheduler_service"]


@dataclass
class Services:
    config: Config
    ledger: Ledger
    config_path: Path | None = None


def open_ledger(store_url: str, clock: Callable[[], dt.datetime] | None = None) -> Ledger:
    return Ledger(env=store_env(store_url), clock=clock)


def bootstrap(
    config: Config | str | Path | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> Services:
    path: Path | None = None
    if not isinstance(config, Config):
        path = resolve_config_path(str(config) if config is not None else None)
        config = load_config(path)
    register_secrets(_secrets(config))
    tz = config.tz
    ledger = open_ledger(config.store, clock or (lambda: dt.datetime.now(tz)))
    return Services(config=config, ledger=ledger, config_path=path)


def _secrets(config: Config) -> list[str | None]:
    values: list[str | None] = []
    for channel in config.channels:
        values += channel.webhooks()
        values.append(channel.secret_value())
    return values
