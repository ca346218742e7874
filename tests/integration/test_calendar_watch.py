"""Next year's holidays not imported: one weekly message to the office chat, and the board's
banner, until a notice for that year is recorded (issue 13, acceptance item 6).

Real SQLite files, the office chat on the local fake WeCom robot over real HTTP, the real
deliverer, and a fake clock: the job runs at a Monday in December 2026 (chinesecalendar 1.11
covers years up to 2026, so 2027 is uncovered until a notice is recorded).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.holiday_notice import HolidayNotice
from domain.reminder import ChatMessage
from domain.roles import Identity
from duban.api import create_app
from duban.app.calendar_notices import import_notice
from duban.app.calendar_watch import (
    IMPORT_COMMAND,
    calendar_banner,
    calendar_gap,
    covered_officially,
    queue_weekly_notice,
)
from duban.app.delivery_adapters import deliver_due
from duban.app.scheduled import JOBS
from duban.app.services import Services, open_ledger
from duban.settings.config import parse_config
from tests.conftest import TZ, FakeClock
from tests.fakes.platforms import FakePlatforms
from tests.support.signin import sign_in_app

MONDAY = dt.datetime(2026, 12, 7, 10, 0, tzinfo=TZ)  # a working day; 2027 not covered
QUEUED = f"{ChatMessage.__module__}:{ChatMessage.__qualname__}.Queued"
BANNER = "2027年节假日安排尚未导入"
NOTICES = Path(__file__).resolve().parents[1] / "data" / "notices"


def services_on(store: str, clock: FakeClock, office_webhook: str | None, host: str) -> Services:
    office = (
        {"name": "office", "platform": "wecom", "webhook": office_webhook}
        if office_webhook
        else {"name": "office", "platform": "console"}
    )
    config = parse_config(
        {
            "store": store,
            "allowed_webhook_hosts": [host],
            "channels": [office, {"name": "leaders", "platform": "console"}],
            "office": {"channel": "office", "leaders_channel": "leaders"},
        }
    )
    return Services(config=config, ledger=open_ledger(config.store, clock))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY)


@pytest.fixture
def fake() -> Iterator[FakePlatforms]:
    with FakePlatforms() as server:
        yield server


@pytest.fixture
def county(tmp_path: Path, clock: FakeClock, fake: FakePlatforms) -> Iterator[Services]:
    services = services_on(f"sqlite:///{tmp_path / 'duban.db'}", clock, fake.add_wecom(), fake.host)
    yield services
    services.ledger.close()


def queued(services: Services) -> list[ChatMessage]:
    notes = services.ledger.recorder.select_notifications(0, 10_000, topics=[QUEUED])
    events: list[Any] = [services.ledger.mapper.to_domain_event(n) for n in notes]
    return [services.ledger.repository.get(ChatMessage.create_id(e.message_key)) for e in events]


def record_notice(services: Services, year: int) -> None:
    """A recorded notice for `year`, as `duban calendar import` writes it."""
    text = f"国务院办公厅关于{year}年部分节假日安排的通知"
    notice = HolidayNotice(
        year=year,
        holidays=[f"{year}-01-01"],
        workdays=[],
        source_sha256=hashlib.sha256(text.encode()).hexdigest(),
        actor="office:改革办",
        at=MONDAY,
    )
    services.ledger.save(notice)


def never(_services: Services, _year: int) -> bool:
    return False


def always(_services: Services, _year: int) -> bool:
    return True


# ---- which year is missing -----------------------------------------------------------------


def test_next_year_is_watched_from_the_first_of_december_until_covered(county: Services) -> None:
    assert not covered_officially(2027)
    assert covered_officially(2026)
    assert calendar_gap(county, MONDAY, never) == 2027
    assert calendar_gap(county, MONDAY, always) is None  # a recorded notice covers it
    assert calendar_gap(county, dt.datetime(2026, 11, 30, 23, 59, tzinfo=TZ), never) is None
    assert calendar_gap(county, dt.datetime(2026, 12, 1, 0, 0, tzinfo=TZ), never) == 2027
    assert calendar_gap(county, dt.datetime(2025, 12, 8, 10, 0, tzinfo=TZ), never) is None
    # still uncovered once the year has begun: the guess is now this year's
    assert calendar_gap(county, dt.datetime(2027, 1, 4, 10, 0, tzinfo=TZ), never) == 2027
    # 16:30 UTC on 30 November is already 1 December in the office's zone
    late = dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC)
    assert calendar_gap(county, late, never) == 2027


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)  # the store is only read here
@given(day=st.dates(dt.date(2004, 1, 1), dt.date(2026, 11, 30)))
def test_no_year_is_missing_before_december_of_the_last_covered_year(
    county: Services, day: dt.date
) -> None:
    moment = dt.datetime.combine(day, dt.time(10), TZ)
    assert calendar_gap(county, moment, never) is None


def test_the_recorded_notice_in_the_store_covers_its_year(county: Services) -> None:
    assert calendar_gap(county, MONDAY) == 2027
    record_notice(county, 2028)  # another year's notice does not count
    assert calendar_gap(county, MONDAY) == 2027
    record_notice(county, 2027)
    assert calendar_gap(county, MONDAY) is None
    assert calendar_banner(county, MONDAY) is None


# ---- the weekly message --------------------------------------------------------------------


def test_one_message_per_iso_week_and_only_on_a_working_day(county: Services) -> None:
    assert queue_weekly_notice(county, MONDAY, never)
    for day in range(1, 5):  # the rest of that week, and a restart the same day
        assert not queue_weekly_notice(county, MONDAY + dt.timedelta(days=day), never)
    assert not queue_weekly_notice(county, MONDAY, never)
    saturday = dt.datetime(2026, 12, 12, 10, 0, tzinfo=TZ)
    assert not county.calendar.is_working_day(saturday.date())
    assert not queue_weekly_notice(county, saturday, never)
    assert not queue_weekly_notice(county, saturday + dt.timedelta(days=1), never)
    assert queue_weekly_notice(county, dt.datetime(2026, 12, 14, 9, 30, tzinfo=TZ), never)
    messages = queued(county)
    assert [m.message_key for m in messages] == [
        "calendar_watch|2027|2026-W50",
        "calendar_watch|2027|2026-W51",
    ]
    assert {m.channel for m in messages} == {county.config.office.channel}
    assert all(BANNER in m.parts[0] and IMPORT_COMMAND in m.parts[0] for m in messages)
    assert not queue_weekly_notice(county, dt.datetime(2026, 12, 21, 10, tzinfo=TZ), always)


def test_the_week_across_new_year_is_told_once(county: Services) -> None:
    """ISO week 2026-W53 runs to Sunday 2027-01-03: told on Thursday 2026-12-31, not again on
    Friday 2027-01-01 (元旦, and the same week), though 2027 is by then this year's gap."""
    thursday = dt.datetime(2026, 12, 31, 10, 0, tzinfo=TZ)
    assert queue_weekly_notice(county, thursday, never)
    assert not queue_weekly_notice(county, thursday + dt.timedelta(days=1), never)
    assert [m.message_key for m in queued(county)] == ["calendar_watch|2027|2026-W53"]


# ---- acceptance item 6 ---------------------------------------------------------------------


def _board(web: TestClient, county: Services) -> str:
    """The board as a signed-in auditor sees it (not the sign-in page a redirect would show)."""
    sign_in_app(web, county)
    answer = web.get("/")
    assert (answer.status_code, answer.url.path) == (200, "/")
    return answer.text


def test_item_6_weekly_notice_reaches_the_office_chat_and_the_board_until_the_import(
    county: Services, clock: FakeClock, fake: FakePlatforms
) -> None:
    with TestClient(create_app(county)) as web:
        board = _board(web, county)
        assert BANNER in board
        assert IMPORT_COMMAND in board

        job = JOBS["calendar_watch"]  # as the scheduler runs it, every working day
        job(county, clock())
        deliver_due(county, clock())
        job(county, clock.advance(days=2))  # Wednesday: the same ISO week
        deliver_due(county, clock())
        sent = fake.messages("wecom")
        assert len(sent) == 1
        assert BANNER in sent[0].text
        assert IMPORT_COMMAND in sent[0].text
        assert len(queued(county)) == 1

        notice = (NOTICES / "2027.txt").read_text(encoding="utf-8")
        imported = import_notice(county, notice, Identity("office", "改革办"))  # `calendar import`
        assert (imported.year, imported.action) == (2027, "record")
        clock.advance(days=5)  # Monday 2026-12-14: a new week
        job(county, clock())
        deliver_due(county, clock())
        assert len(queued(county)) == 1
        assert len(fake.messages("wecom")) == 1
        assert BANNER not in _board(web, county)  # a week later: signed in anew
