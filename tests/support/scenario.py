"""What the scripted-calendar scenarios share: the scheduler's sweep run a second time at the
same moment (a second node, a retried run) must issue nothing and store nothing."""

from __future__ import annotations

import datetime as dt

from duban.app.services import Services
from duban.app.sweep import sweep
from tests.support.sweep import event_count

__all__ = ["second_sweep_stores_nothing"]


def second_sweep_stores_nothing(services: Services, now: dt.datetime) -> None:
    """Sweep again at `now`: nothing is issued and the store holds no new event."""
    before = event_count(services)
    assert sweep(services, now).issued == 0
    assert event_count(services) == before, f"a second sweep at {now} stored events"
