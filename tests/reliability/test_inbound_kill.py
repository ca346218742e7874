"""Callbacks handled while `duban serve` is SIGKILLed and restarted (issue 17, acceptance 4).

A DingTalk group (`support_inbound.Group`, one client thread) writes to the robot of 县财政局's
chat without pause: claims of six tasks along the way and progress reports on the tasks claimed
so far, each message with its own msgId, text and percent, signed as DingTalk signs. Meanwhile
the real `duban serve` is SIGKILLed at random moments (seeded, the seed printed;
`DUBAN_KILL_SEED` replays its moments) once it has answered a message since it was started, and
started again on the same store. Every callback not answered 200 (refused while the server is
down, or its connection lost because the server was killed with it in flight) is sent again, as
the platform retries, until it is answered: 200, or 403 「replayed」 when the killed server had
recorded it before it died.

At the end the store is read back in-process and must hold:
- every msgId sent recorded exactly once as an inbound message, none other, each done;
- each task's reports exactly the texts sent, once each, in the order they were sent (the
  group sends the next message only once the previous one is answered 200), and each claim
  once, every event carrying the inbound message that caused it (`via`);
- each message's recorded raw-body digest that of the body sent (the same at every attempt);
and every message was answered 200 with its own result the first time it was handled (a text in
the HTTP body: the callbacks carry no sessionWebhook), no other answer was a 4xx/5xx, the app
secret is in no log, and the run killed the server at least once with a callback in flight (the test
would otherwise not have tested the crash window; a bounded run kills on until it has): how
many, and how many of those fell after the commit (the retry was answered as a replay) or
before it (handled afresh), is printed.

Bounded by default (about ten seconds of kills per store, SQLite and PostgreSQL, and on
until at least three kills, one with a callback in flight);
`DUBAN_RELIABILITY=full` kills for five minutes and at least fifty times per store.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import pytest

from tests.fakes.platforms import FakePlatforms
from tests.reliability.conftest import FULL, scale
from tests.reliability.support_inbound import (
    APP_SECRET,
    SECRET_ENV,
    TASKS,
    Group,
    import_tasks,
    inbound_config,
    read_store,
    via,
)
from tests.reliability.support_kill import Serve

BUDGET_S = scale(10, 300)  # how long the server is killed and restarted, per store
MIN_KILLS = scale(3, 50)
MAX_KILLS = scale(40, 400)  # while no kill has landed in flight yet, kill on up to this many
MAX_DELAY_S = 1.5  # a kill falls up to this long after the restarted server's first answer


def _seed() -> int:
    return int(os.environ.get("DUBAN_KILL_SEED") or random.SystemRandom().randrange(1 << 32))


@pytest.mark.timeout(3600 if FULL else 600)
def test_callbacks_killed_in_flight_are_recorded_once_when_the_platform_retries(
    tmp_path: Path,
    store_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SECRET_ENV, APP_SECRET)  # for `duban import`, `duban serve` inherits it
    store = "sqlite" if store_url.startswith("sqlite") else "postgresql"
    seed = _seed()
    with capsys.disabled():
        print(f"\ninbound kill ({store}): DUBAN_KILL_SEED={seed}", flush=True)
    rng = random.Random(seed)
    with FakePlatforms() as fake:
        config = inbound_config(tmp_path / "site", store_url, fake.add_dingtalk(), fake.host)
        import_tasks(config)
        serve = Serve(config, tmp_path / "logs")
        up = threading.Event()
        serve.start()
        up.set()
        group = Group(lambda: serve.url, up)
        group.start()
        kills = 0
        try:
            started = time.monotonic()

            def more() -> bool:
                if kills >= MAX_KILLS:
                    return False
                in_flight = any(d.lost for d in list(group.deliveries))
                return time.monotonic() - started < BUDGET_S or kills < MIN_KILLS or not in_flight

            while more():
                # The restarted server has answered a message; then a random moment later
                # (the group never pauses: nearly always with a callback in flight) it dies.
                answered = group.wait_answered(group.answered + 1)
                assert answered, f"the server answered nothing: {group.failure!r}"
                time.sleep(rng.uniform(0.0, MAX_DELAY_S))
                server = serve.process
                assert server is not None
                if server.process.poll() is not None:
                    raise AssertionError(f"duban serve had died by itself:\n{server.output()}")
                up.clear()
                server.process.kill()
                server.process.wait(60)
                kills += 1
                serve.start()
                up.set()
            group.finish()
        finally:
            group.abandon()  # when something failed: the group is still writing
            up.set()
            serve.stop()
    logs = [p.read_text(errors="replace") for p in (tmp_path / "logs").rglob("serve.*")]
    assert not [log for log in logs if APP_SECRET in log], "the app secret is in a log"

    deliveries = group.deliveries
    # A message is lost by one kill at most: the next kill waits for its retry's answer. (Its
    # retry at once may be lost too, to the dying process; then it is refused.)
    lost = [d for d in deliveries if d.lost]
    after_commit = sum(d.replay for d in lost)
    with capsys.disabled():
        print(
            f"inbound kill ({store}): {len(deliveries)} messages, {kills} kills, "
            f"{len(lost)} with a callback in flight ({after_commit} after its commit: "
            f"answered as a replay; {len(lost) - after_commit} before: handled on retry), "
            f"{sum(d.refused for d in deliveries)} attempts refused while down",
            flush=True,
        )
    assert kills >= MIN_KILLS
    assert 1 <= len(lost) <= kills, "no kill landed while a callback was in flight"
    assert not [(d.said.msg_id, d.statuses) for d in deliveries if d.statuses]
    for d in deliveries:  # each answered with its own result the first time it was handled
        assert d.answer is not None
        if not d.replay:
            said = d.answer["text"]["content"]
            assert said.startswith(f"{d.said.sender}：{d.said.code} "), said
            assert "未办理" not in said, said

    stored = read_store(store_url)
    sent = {d.said.msg_id for d in deliveries}
    recorded = stored.messages()
    assert set(recorded) == sent, (
        sorted(sent - set(recorded))[:5],
        sorted(set(recorded) - sent)[:5],
    )
    assert [m for m, n in recorded.items() if n > 1] == []
    by_id = {str(e.message_id): e for e in stored.inbound}
    wrong = [
        (d.said.msg_id, by_id[d.said.msg_id].outcome, by_id[d.said.msg_id].task_code)
        for d in deliveries
        if (by_id[d.said.msg_id].outcome, by_id[d.said.msg_id].task_code) != ("done", d.said.code)
    ]
    assert not wrong, wrong[:5]
    assert [
        d.said.msg_id for d in deliveries if by_id[d.said.msg_id].body_sha256 != d.body_sha256
    ] == []
    for code in TASKS:
        mine = [d.said for d in deliveries if d.said.code == code]
        reports = [s for s in mine if s.report is not None]
        claims = [s for s in mine if s.report is None]
        got = [(e.text, e.via) for e in stored.reports.get(code, [])]
        assert got == [(s.report, via(s)) for s in reports], code
        assert [e.via for e in stored.claims.get(code, [])] == [via(s) for s in claims], code
