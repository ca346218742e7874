"""A small county for the sweep, rounds and preview tests: units, chats, an official."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from domain.reminder import ChatMessage, Reminder
from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.delivery_adapters import deliver_due
from duban.app.services import Services, open_ledger
from duban.settings.config import parse_config
from tests.conftest import TZ, FakeClock

OFFICE = Identity("office", "改革办")
FGJ = "县发展和改革局"
CZJ = "县财政局"
JYJ = "县教育局"
OFFICIAL = "王建国"
FGJ_LIAISON = "13800000001"
OFFICIAL_MOBILE = "13900000001"


def county_config(store_url: str, **extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "store": store_url,
        "channels": [
            {"name": name, "platform": "console"}
            for name in ("office", "leaders", "fgj", "czj", "jyj", "wang")
        ],
        "office": {"channel": "office", "leaders_channel": "leaders"},
        "units": [
            {"name": FGJ, "channel": "fgj", "liaisons": [{"name": "张伟", "mobile": FGJ_LIAISON}]},
            {
                "name": CZJ,
                "channel": "czj",
                "liaisons": [{"name": "李娜", "mobile": "13800000002"}],
            },
            {
                "name": JYJ,
                "channel": "jyj",
                "liaisons": [{"name": "赵磊", "mobile": "13800000003"}],
            },
        ],
        "officials": [{"name": OFFICIAL, "mobile": OFFICIAL_MOBILE, "channel": "wang"}],
    }
    raw.update(extra)
    return raw


def county(store_url: str, clock: FakeClock, **extra: Any) -> Services:
    config = parse_config(county_config(store_url, **extra))
    return Services(config=config, ledger=open_ledger(store_url, clock))


def assign(
    services: Services,
    code: str,
    deadline: dt.date | None,
    lead: str = FGJ,
    milestones: tuple[tuple[str, dt.date], ...] = (),
    official: str | None = None,
    co_units: tuple[str, ...] = (),
) -> None:
    row = cmd.AssignTask(
        code=code,
        title=f"改革任务{code}",
        lead_unit=lead,
        co_units=co_units,
        official=official,
        deadline=deadline,
        deadline_text=str(deadline or "持续推进"),
        milestones=tuple(cmd.Milestone(name=n, due=d) for n, d in milestones),
    )
    services.ledger.assign(row, OFFICE)


def working_hours(
    start: dt.date, end: dt.date, hours: range = range(9, 18)
) -> Iterator[dt.datetime]:
    """Every hour on the hour from `start` to `end` inclusive (the calendar decides what is
    a working hour: sweeping outside them must do nothing, so they are included too)."""
    day = start
    while day <= end:
        for hour in hours:
            yield dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=TZ)
        day += dt.timedelta(days=1)


def stored(services: Services, topic_suffix: str) -> list[Any]:
    """Every stored domain event whose topic ends with `topic_suffix`, in order."""
    recorder = services.ledger.recorder
    found: list[Any] = []
    start = 0
    while True:
        batch = recorder.select_notifications(start, 1000, inclusive_of_start=False)
        if not batch:
            return found
        found += [
            services.ledger.mapper.to_domain_event(n)
            for n in batch
            if n.topic.endswith(topic_suffix)
        ]
        start = batch[-1].id


def issued(services: Services) -> list[Any]:
    return stored(services, f"{Reminder.__qualname__}.Issued")


def queued(services: Services) -> list[Any]:
    return stored(services, f"{ChatMessage.__qualname__}.Queued")


def event_count(services: Services) -> int:
    return int(services.ledger.recorder.max_notification_id() or 0)


def deliver(services: Services, now: dt.datetime) -> int:
    """The deliver step after a sweep (console chats accept every message): how many went.
    The fair ladder climbs only on deliveries, so scenario tests run it like the scheduler."""
    return len(deliver_due(services, now, clock=now.timestamp).delivered)
