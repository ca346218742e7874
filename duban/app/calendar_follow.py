"""A running server follows the holiday notices imported while it runs.

`CalendarFollower(services)` is a background service (`start()`/`stop()`) that asks
`Services.refresh_calendar()` every `[calendar] follow_seconds`: a notice imported by
`duban calendar import` in another process reaches this process's calendar, and with it the
board's lights, the deliverer's working time and the scheduler's plan, without a restart.
"""

from __future__ import annotations

import threading

import structlog

from duban.app.services import Services

__all__ = ["CalendarFollower"]

log = structlog.get_logger(__name__)


class CalendarFollower:
    """Refreshes `services.calendar` every `every` seconds (default: the config's) until stopped."""

    def __init__(self, services: Services, every: float | None = None) -> None:
        self.services = services
        self.every = every if every is not None else services.config.calendar.follow_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._follow, name="calendar-follow", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _follow(self) -> None:
        while not self._stopping.wait(self.every):
            try:
                self.services.refresh_calendar()
            except Exception:  # a store that is briefly away must not end the server's following
                log.exception("calendar.follow_failed")
