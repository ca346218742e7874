"""The chat platforms go down for minutes at a time while the service keeps sweeping; it
recovers by itself and catches up: every reminder delivered, nothing lost, nothing twice.

Three weeks of the quarter's county (tests/reliability/support_kill.py) run as the scheduler
runs them — a sweep every 15 minutes of working hours, a delivery pass every minute something
is due — on one simulated clock shared by the fake platforms, the rate limiter and the ledger.
On most mornings, right when the day's digests are queued, every robot of every platform
fails for some simulated minutes: HTTP 502s, requests that hang past the client's timeout,
each platform's rate-limit code (DingTalk's blocks a robot for ten minutes), 200s whose body
is not JSON, 200s whose JSON is not the platform's answer, and all of these mixed. Sweeps go
on during the outages and queue more. Nobody intervenes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from domain.task import ReformTask
from duban.app.delivery_adapters import deliver_due
from duban.app.services import Services, open_ledger
from duban.app.sweep import calendar_from_config, sweep
from duban.settings.config import parse_config
from notifiers.wecom import MENTION_TEXT
from tests.conftest import TZ
from tests.fakes.platforms import FakeClock, FakePlatforms, _json, _Reply
from tests.reliability.support_kill import (
    FULL,
    OFFICE,
    County,
    StoreReader,
    actions_before,
    apply_in_process,
    county,
    reference_keys,
    script,
    sent_parts,
    task_rows,
)

# The client's timeout: generous in normal running, so that a loaded test machine does not turn
# a slow answer into the documented in-flight duplicate; short while the platforms are down, so
# that hung requests cost the test little real time.
CLIENT_TIMEOUT_S = 2.0
IMPATIENT_TIMEOUT_S = 0.1
HANG_S = 0.3  # real seconds a hung request is held: longer than the short timeout
THROTTLE = {"wecom": (45009, "api freq out of limit"),
            "dingtalk": (130101, "send too fast, exceed 20 times per minute"),
            "feishu": (11232, "frequency limited psm[lark.oapi.app]")}  # fmt: skip
MODES = ("502", "hang", "throttle", "garbage", "wrong")


@dataclass(frozen=True)
class Outage:
    start: dt.datetime
    minutes: int
    mode: str  # one of MODES, or "mixed": each request fails its own way

    def covers(self, epoch: float) -> bool:
        begin = self.start.timestamp()
        return begin <= epoch < begin + 60 * self.minutes


class FailingPlatforms(FakePlatforms):
    """The fake platforms, down during the outages of the simulated clock."""

    def __init__(self, clock: FakeClock, outages: list[Outage]) -> None:
        super().__init__(clock=clock)
        self.outages = outages
        self.failures: Counter[str] = Counter()
        self._mixed = itertools.cycle(MODES)
        self._count_lock = threading.Lock()

    def handle(self, path: str, raw: bytes) -> Any:
        outage = next((o for o in self.outages if o.covers(self.clock())), None)
        if outage is None:
            return super().handle(path, raw)
        platform = _platform(path)
        if outage.mode == "busy" and platform == "feishu":
            return super().handle(path, raw)  # Feishu documents no "system busy" code
        with self._count_lock:
            mode = next(self._mixed) if outage.mode == "mixed" else outage.mode
            self.failures[mode] += 1
        return self._fail(mode, platform)

    def _fail(self, mode: str, platform: str) -> _Reply:
        if mode == "502":
            return _Reply(502, b"<html><body>502 Bad Gateway</body></html>")
        if mode == "hang":  # held past the client's timeout, then dropped: never accepted
            self._stopping.wait(HANG_S)
            return _Reply(504, b"<html>gateway timeout</html>")
        if mode == "throttle":
            code, msg = THROTTLE[platform]
            keys = ("code", "msg") if platform == "feishu" else ("errcode", "errmsg")
            return _json(code, msg, keys=keys)
        if mode == "garbage":
            return _Reply(200, b"<html>upstream error</html>")
        if mode == "wrong":  # JSON, but not the platform's answer (a proxy's, a captive portal's)
            return _Reply(200, b'{"status": "queued", "result": null}')
        if mode == "busy":  # WeCom's and DingTalk's documented "system busy, retry later"
            return _json(-1, "system busy")
        raise ValueError(mode)


def _platform(path: str) -> str:
    if path.startswith("/cgi-bin/webhook"):
        return "wecom"
    return "dingtalk" if path.startswith("/robot/send") else "feishu"


# ---- running the service on the simulated clock ------------------------------------------------


def _services(county_: County, store_url: str, clock: FakeClock) -> Services:
    config = parse_config({**county_.raw, "store": store_url})
    return Services(config, open_ledger(store_url, lambda: dt.datetime.fromtimestamp(clock(), TZ)))


def _minute_after(epoch: float) -> float:
    """The first fire time of a minutely job at or after `epoch`."""
    return -(-epoch // 60) * 60


def run_days(
    services: Services, clock: FakeClock, days: list[dt.date], outages: list[Outage]
) -> int:
    """Each day as the scheduler runs it: the script's actions before work, a sweep at every
    quarter hour of working hours and a delivery pass at every minute something is due
    (passes with nothing due do nothing, so they are skipped). The number of passes."""
    delivery = services.config.delivery.model_copy(update={"timeout_s": IMPATIENT_TIMEOUT_S})
    impatient = Services(services.config.model_copy(update={"delivery": delivery}), services.ledger)
    actions, done, passes = script(), 0, 0
    for day in days:
        opening = dt.datetime.combine(day, dt.time(9), tzinfo=TZ)
        todo, done = actions_before(actions, done, opening)
        clock.now = (opening - dt.timedelta(minutes=30)).timestamp()
        for action in todo:
            apply_in_process(services.ledger, action)
        sweeps = [(opening + dt.timedelta(minutes=15 * i)).timestamp() for i in range(36)]
        closing = opening.replace(hour=19).timestamp()  # deliver runs 09:00-18:59
        moment: float = sweeps[0]
        while moment < closing:
            clock.now = moment
            now = dt.datetime.fromtimestamp(moment, TZ)
            if moment in sweeps:
                sweep(services, now)
            down = any(o.covers(moment) for o in outages)
            report = deliver_due(impatient if down else services, now, clock=clock)
            passes += 1
            later = [s for s in sweeps if s > moment]
            if report.next_at is not None:
                later.append(max(_minute_after(report.next_at), moment + 60))
            moment = min(later, default=closing)
    return passes


def working_days(county_: County, start: dt.date, count: int) -> list[dt.date]:
    calendar = calendar_from_config(parse_config({**county_.raw, "store": "sqlite:///x.db"}))
    days = (start + dt.timedelta(days=n) for n in itertools.count())
    return list(itertools.islice((d for d in days if calendar.is_working_day(d)), count))


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def outages_over(days: list[dt.date]) -> list[Outage]:
    """An outage on most mornings, starting just before the day's first sweep, of each kind;
    one lasts 35 minutes, long enough for a message to be retried six or seven times."""
    plan = [("502", 25), ("hang", 15), ("throttle", 30), ("garbage", 20), ("wrong", 20),
            ("mixed", 35), ("502", 5)]  # fmt: skip
    found = [
        Outage(_at(day, 8, 55), minutes, mode)
        for day, (mode, minutes) in zip(days, plan, strict=False)
    ]
    found.append(Outage(_at(days[1], 14, 0), 240, "502"))  # an afternoon with nothing to send
    return found


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(_at(dt.date(2024, 10, 8), 8, 0).timestamp())


@pytest.fixture
def setting(
    clock: FakeClock, tmp_path: Path
) -> Iterator[tuple[FailingPlatforms, County, Services]]:
    with FailingPlatforms(clock, []) as fake:
        county_ = county(fake, timeout_s=CLIENT_TIMEOUT_S)
        services = _services(county_, f"sqlite:///{tmp_path / 'duban.db'}", clock)
        services.ledger.import_tasks(task_rows(), OFFICE)
        yield fake, county_, services
        services.ledger.close()


def _down(fake: FailingPlatforms, moment: dt.datetime) -> bool:
    return any(o.covers(moment.timestamp()) for o in fake.outages)


def _mention_texts(fake: FakePlatforms, chat_of_robot: dict[str, str]) -> Counter[str]:
    return Counter(
        chat_of_robot[m.robot]
        for m in fake.accepted
        if m.platform == "wecom" and m.text.endswith(MENTION_TEXT)
    )


def _mentioning_messages(reader: StoreReader, chats: set[str]) -> Counter[str]:
    return Counter(m.channel for m in reader.messages.values() if m.channel in chats and m.mentions)


def test_minutes_of_502s_hangs_throttling_and_wrong_answers_are_caught_up_with_nothing_lost_or_twice(  # noqa: E501
    setting: tuple[FailingPlatforms, County, Services], clock: FakeClock, tmp_path: Path
) -> None:
    fake, county_, services = setting
    days = working_days(county_, dt.date(2024, 11, 4), 15 if FULL else 7)
    fake.outages = outages_over(days)

    passes = run_days(services, clock, days, fake.outages)

    # Every kind of failure happened, many times.
    assert set(fake.failures) == set(MODES), fake.failures
    assert all(n >= 3 for n in fake.failures.values()), fake.failures
    reader = StoreReader(services.ledger)
    reader.catch_up()
    # The reminders are exactly those of the same days without an outage: none lost.
    moments = [_at(day, 9, 0) for day in days]
    imported = next(e.at for _, e in services.ledger.events_of(ReformTask.Assigned))
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    expected = reference_keys(county_, reference, moments, imported)[-1]
    assert set(reader.reminders) == expected
    # Every message delivered after retrying, none given up, every chat of every reminder told.
    statuses = Counter(m.status for m in reader.messages.values())
    assert statuses == {"delivered": len(reader.messages)}, statuses
    assert not reader.undelivered_reminders()
    retried = [m for m in reader.messages.values() if m.attempts > m.ok_attempts]
    assert len(retried) >= len(days) // 2  # the outages really held messages back
    # Nothing twice: each part accepted once, each WeCom @-mention once per digest. The one
    # exception allowed is the documented in-flight case, and only with its evidence: an
    # answer that reached the client after its timeout, outside any outage.
    parts = sent_parts(fake.accepted, county_.chat_of_robot)
    recorded = sum(m.ok_attempts for m in reader.messages.values())
    assert len({p.key for p in parts}) == recorded
    late = [t for m in reader.messages.values() for t in m.timeouts if not _down(fake, t)]
    assert len(parts) - recorded <= len(late), "a part sent twice without a timeout in flight"
    wecom = {c["name"] for c in county_.raw["channels"] if c["platform"] == "wecom"}
    if not late:
        assert _mention_texts(fake, county_.chat_of_robot) == _mentioning_messages(reader, wecom)
    # Recovered by itself, soon: each message out within the hour after its outage ended.
    assert not reader.pending()
    waits = [m.done_at - m.queued_at for m in reader.messages.values() if m.done_at and m.queued_at]
    longest = max(o.minutes for o in fake.outages if o.start.hour < 12)
    assert max(waits) < dt.timedelta(minutes=longest + 60), max(waits)
    print(
        f"\nchat outage: {len(days)} days, {passes} delivery passes, "
        f"failures {dict(fake.failures)}, {len(reader.reminders)} reminders, "
        f"{len(reader.messages)} messages delivered "
        f"({len(retried)} after retries, the longest wait {max(waits)}), "
        f"{len(parts)} parts accepted, {len(parts) - recorded} twice"
    )


def test_a_few_minutes_of_system_busy_answers_are_waited_out(
    setting: tuple[FailingPlatforms, County, Services], clock: FakeClock
) -> None:
    fake, county_, services = setting
    days = working_days(county_, dt.date(2024, 10, 8), 2)
    fake.outages = [Outage(_at(day, 8, 55), 10, "busy") for day in days]

    run_days(services, clock, days, fake.outages)

    assert fake.failures["busy"] > 0
    reader = StoreReader(services.ledger)
    reader.catch_up()
    failed = [m.key for m in reader.messages.values() if m.status != "delivered"]
    assert not failed, f"given up after 'system busy': {failed[:3]}"
