"""The composition root: the one place that reads the config and wires the parts together.

It may import every layer; nothing below the entry points imports it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from duban.app.services import Services, open_ledger
from duban.settings.config import Config, load_config, resolve_config_path
from duban.settings.logs import register_secrets

# The scheduler hook for `duban serve`; importing it also registers the ladder and cron checks,
# so every command rejects an invalid ladder or schedule at start with the key named.
from scheduler.runner import scheduler_service

__all__ = ["Services", "bootstrap", "scheduler_service"]


def bootstrap(
    config: Config | str | Path | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> Services:
    if not isinstance(config, Config):
        path = resolve_config_path(str(config) if config is not None else None)
        config = load_config(path)
    register_secrets(_secrets(config))
    tz = config.tz
    ledger = open_ledger(config.store, clock or (lambda: dt.datetime.now(tz)))
    return Services(config=config, ledger=ledger)


def _secrets(config: Config) -> list[str | None]:
    values: list[str | None] = []
    for channel in config.channels:
        values += channel.webhooks()
        values.append(channel.secret_value())
    return values
