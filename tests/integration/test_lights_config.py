"""The light thresholds come from the config's [lights] section."""

from __future__ import annotations

import contextlib
import datetime as dt

from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.ledger import Conflict
from duban.app.services import Services
from duban.bootstrap import bootstrap
from duban.settings.config import parse_config
from tests.conftest import FakeClock

CHANNELS = [{"name": n, "platform": "console"} for n in ("office", "leaders")]


def board_light(url: str, clock: FakeClock, lights: dict[str, object]) -> str:
    services: Services = bootstrap(
        parse_config({"store": url, "channels": CHANNELS, "lights": lights}), clock=clock
    )
    try:
        row = cmd.AssignTask(
            code="L-1", title="t", lead_unit="县财政局", deadline=dt.date(2024, 3, 29)
        )
        with contextlib.suppress(Conflict):  # the second call finds it already assigned
            services.ledger.assign(row, Identity("office", "改革办"))
        views = services.views()
        views.catch_up(services.ledger)
        (found,) = views.board.rows(clock.now.date())
        return str(found["light"])
    finally:
        services.ledger.close()


def test_due_within_threshold_is_configurable(sqlite_url: str, clock: FakeClock) -> None:
    # 2024-03-01 to the 2024-03-29 deadline is 20 working days away.
    assert board_light(sqlite_url, clock, {}) == "green"
    assert board_light(sqlite_url, clock, {"due_within_working_days": 25}) == "yellow"
