"""Delivery driven by a fake clock: passes of the deliverer until nothing is pending."""

from __future__ import annotations

import datetime as dt

from duban.app.delivery_adapters import DeliveryReport, deliver_due
from duban.app.services import Services
from tests.conftest import TZ
from tests.fakes.platforms import FakeClock

__all__ = ["deliver_until_quiet"]


def deliver_until_quiet(
    services: Services, clock: FakeClock, max_passes: int = 200
) -> list[DeliveryReport]:
    """Delivery passes, the clock moved to whenever the last pass said something can go next;
    the reports of every pass. Fails when something is still pending after `max_passes`."""
    reports: list[DeliveryReport] = []
    for _ in range(max_passes):
        now = dt.datetime.fromtimestamp(clock(), TZ)
        report = deliver_due(services, now, clock=clock)
        reports.append(report)
        if report.next_at is None:
            return reports
        clock.advance(max(report.next_at - clock(), 0.0) + 0.01)
    raise AssertionError(f"still pending after {max_passes} passes")
