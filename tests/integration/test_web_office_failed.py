"""The 工作台's 发送失败 queue reads what the delivery loop gave up on (a real delivery against
the local platform fakes, a configuration error), newest first, office only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.errors import Forbidden
from domain.roles import Identity
from duban.app.office_desk import failed_deliveries
from tests.fakes.platforms import FakeClock, FakePlatforms
from tests.integration.test_delivery_flow import (
    START,
    channel,
    county_config,
    digest_lines,
    queue_digest,
    services_for,
)
from tests.support.delivery import deliver_until_quiet

OFFICE = Identity("office", "改革办")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START.timestamp())


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakePlatforms]:
    with FakePlatforms(clock=clock) as platforms:
        yield platforms


def test_a_message_that_failed_is_in_the_office_queue(
    sqlite_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    good = fake.add_wecom()
    broken = channel("fgj", "wecom", [good.rsplit("=", 1)[0] + "=0badbadbadbadbadbadbadbadbadbad0"])
    office = channel("office", "wecom", [fake.add_wecom()])
    services = services_for(county_config(sqlite_url, fake, broken, office), clock)
    assert failed_deliveries(services.ledger, OFFICE) == []
    key = queue_digest(services, "fgj", digest_lines(2), "wecom")
    deliver_until_quiet(services, clock)
    (failed,) = failed_deliveries(services.ledger, OFFICE)
    assert failed.message_key == key
    assert failed.channel == "fgj"
    assert "93000" in failed.reason
    with pytest.raises(Forbidden):
        failed_deliveries(services.ledger, Identity("auditor", "审计员"))
