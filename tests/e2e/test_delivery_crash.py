"""`duban deliver` killed with SIGKILL after the platform accepted a part and before the
ledger recorded it: after a restart no reminder is lost and only that one part is sent twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_delivery_cli import duban, write_config
from tests.fakes.platforms import FakeClock, FakePlatforms
from tests.integration.test_delivery_flow import (
    channel,
    county_config,
    digest_lines,
    message_state,
    queue_digest,
    services_for,
)
from tests.support.clock import FIXED_NOW, NOW_ENV

BOUND_S = 60.0  # every wait in this test is bounded by this


class StallAfterAccepting(FakePlatforms):
    """A platform that accepts request number `stall_at` and then holds its answer back."""

    def __init__(self, stall_at: int) -> None:
        super().__init__()
        self.stall_at = stall_at
        self.stalled = threading.Event()  # the request was accepted, its answer withheld
        self.release = threading.Event()

    def handle(self, path: str, raw: bytes) -> Any:
        reply = super().handle(path, raw)
        if len(self.accepted) == self.stall_at and not self.stalled.is_set():
            self.stalled.set()
            self.release.wait(BOUND_S)
        return reply


@pytest.fixture
def fake() -> Iterator[StallAfterAccepting]:
    server = StallAfterAccepting(stall_at=2).start()
    try:
        yield server
    finally:
        server.release.set()
        server.stop()


def test_killed_between_send_and_record_loses_nothing_and_repeats_only_the_part_in_flight(
    tmp_path: Path, fake: StallAfterAccepting, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(NOW_ENV, FIXED_NOW.isoformat())  # the office's clock, in every command
    queued = FIXED_NOW.timestamp()
    db = tmp_path / "duban.db"
    ding, wecom = fake.add_dingtalk(), fake.add_wecom()
    raw = county_config(f"sqlite:///{db}", fake, channel("ding", "dingtalk", [ding]))
    raw["channels"][0].pop("secret")
    raw["channels"][0].pop("keyword")
    raw["channels"].append(channel("fgj", "wecom", [wecom]))
    config = write_config(tmp_path, raw)
    services = services_for(raw, FakeClock(queued - 60))
    first = queue_digest(services, "ding", digest_lines(1000), "dingtalk")  # several parts
    services = services_for(raw, FakeClock(queued - 30))
    second = queue_digest(services, "fgj", digest_lines(20), "wecom")  # waits behind it

    # messages go in working time only: both passes at the next working moment from then on
    at = services.calendar.next_working_time(FIXED_NOW).strftime("%Y-%m-%dT%H:%M:%S")
    process = subprocess.Popen(
        [sys.executable, "-m", "duban.cli", "--config", str(config), "deliver", "--now", at],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert fake.stalled.wait(BOUND_S), "the deliverer never reached the second part"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(BOUND_S)
    finally:
        if process.poll() is None:
            process.kill()
    fake.release.set()

    crashed = message_state(services, first)
    assert crashed.is_pending
    assert crashed.parts_sent == 1  # part 2 was accepted, but its record never written
    assert message_state(services, second).is_pending

    restart = duban(config, "deliver", "--now", at)

    assert restart.returncode == 0, restart.stderr
    done = message_state(services, first)
    assert done.status == "delivered"
    assert message_state(services, second).status == "delivered"
    parts = [m.text for m in fake.messages("dingtalk")]
    assert len(parts) == done.parts_sent + 1 > 3
    assert parts[1] == parts[2]  # the part in flight, sent again after the restart
    assert len(set(parts)) == done.parts_sent  # and nothing else twice
    assert all("".join(set(parts)).count(f"2024-{i:03d}") == 1 for i in range(1000))
    assert len([m for m in fake.messages("wecom") if m.msgtype == "markdown"]) == 1
