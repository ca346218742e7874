"""A quarter of deadlines run by real `duban` processes that are SIGKILLed at random, many times.

Thirty tasks are imported through a real `duban serve`, and the quarter (2024 Q4) is driven by
`duban sweep --now …` and `duban deliver --now …` processes stepping through its working days
(`duban init` and `duban serve` run with `$DUBAN_NOW` pinned to the quarter's opening, so the
import, its 交办 notices and every action are recorded in the quarter, not on today's date),
while a client thread posts progress reports to the server and the script claims, extends,
submits, accepts, returns and cancels tasks through it. At random points (seeded; the seed is
printed) the sweep, the deliverer or the server is SIGKILLed and started again — inside its
write window: a sweep or deliverer once it has logged that it is at work (its issue, or its
n-th delivery attempt), the server once it has stored a report since it was started, each
after a further random short delay. A deliverer is sometimes killed right after the platform
accepted a part and before the answer reached it — the one case `notifiers/delivery.py`
documents as sent twice. Whether each kill came after the killed process's first write is
read from the store and printed.

After every step and restart, and at the end:
- the reminder keys in the store are exactly those computed by hand for the quarter
  (tests/reliability/kill_expectation.py: the task list, the fair ladder's offsets and
  gaps and chinese_calendar; not the project's sweep): each due rung once, none missing, each
  rung of 催办 and above a working day after the unit was delivered the one below;
- every message a step queued was delivered in that step, at its moment (the ladder climbs on
  deliveries: a message left for the next step would shift the rest of the quarter);
- every report the API answered 2xx is in the ledger, and no report is stored twice;
and at the end every issued reminder's chats got a delivered message and no message failed
for good, the fake platforms accepted exactly one copy of every part the ledger records as
sent, and each extra copy is matched to a kill of a process that was delivering that part
when it was killed.

Bounded by default (SQLite and PostgreSQL, a few kills each, part of `make test`);
`DUBAN_RELIABILITY=full` (`make reliability`) kills at least 50 times per store and steps
through two hours of every working day. `DUBAN_KILL_SEED` replays a seed.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from duban.app.sweep import calendar_from_config
from duban.bootstrap import bootstrap
from tests.reliability.kill_expectation import expected_keys
from tests.reliability.support_kill import (
    BOUND_S,
    FULL,
    Kill,
    ReportLoad,
    SentPart,
    Serve,
    StoreReader,
    TrappingPlatforms,
    Watched,
    actions_before,
    api_request,
    county,
    issue_tokens,
    lead_of,
    opening,
    pinned,
    reference_keys,
    run_duban,
    script,
    sent_parts,
    steps,
    task_rows,
    wait_for,
)
from tests.support.pg import PgServer


@dataclass(frozen=True)
class Sizes:
    kills: int
    every: int  # every n-th working day
    hours: tuple[int, ...]


# Every fifth working day at 09:00 and again at 15:00: the afternoon sweep comes after the
# morning's messages were delivered, and must not climb on them the same day (the fair ladder's
# one working day between rungs); the quarter still climbs to 再次通报 (the oracle test below).
# Each step is a few `duban` processes, so the steps, not the kills, make the loop's time.
BOUNDED = Sizes(kills=6, every=5, hours=(9, 15))
BOUNDED_PG = Sizes(kills=4, every=7, hours=(9,))  # PostgreSQL in `make test`: a shorter quarter
FULL_SIZES = Sizes(kills=50, every=1, hours=(9, 15))
# What a process logs once it is at work, and how many such lines mean it has written: the
# sweep logs `sweep_issued` once its issue is stored; the deliverer logs `delivery.attempt` on
# each platform answer, just before recording it, so its second one follows its first write.
AT_WORK = {
    "sweep": (("sweep_issued", "delivery.attempt"), 1),
    "deliver": (("delivery.attempt",), 2),
}
# The full loop runs ~250 processes and 50 restarts per store: longer than the suite's limit.
LIMIT = pytest.mark.timeout(3600 if FULL else 600)


@dataclass
class Counts:
    store: str
    seed: int
    kills: list[Kill] = field(default_factory=list)
    missed: int = 0  # kill attempts whose process had already finished
    settled: int = 0  # steps whose queued messages took extra delivery passes (rate limits)
    after_write: int = 0  # kills that came after the killed process's first write
    expected: int = 0
    issued: int = 0
    messages_delivered: int = 0
    messages_failed: int = 0
    parts_recorded: int = 0
    parts_accepted: int = 0
    duplicates: int = 0
    reports_accepted: int = 0
    reports_stored: int = 0
    reports_duplicated: int = 0
    reports_unanswered: int = 0

    def line(self) -> str:
        by = Counter(k.target for k in self.kills)
        trapped = sum(k.trapped for k in self.kills)
        return (
            f"kill loop [{self.store}] seed={self.seed}: kills={len(self.kills)} "
            f"(sweep {by['sweep']}, deliver {by['deliver']} of which {trapped} between "
            f"acceptance and record, serve {by['serve']}; {self.after_write} after the killed "
            f"process's first write; {self.missed} attempts missed; {self.settled} steps "
            f"settled by extra delivery passes) | "
            f"reminders expected={self.expected} issued={self.issued} | messages "
            f"delivered={self.messages_delivered} failed={self.messages_failed} | parts "
            f"recorded={self.parts_recorded} accepted={self.parts_accepted} "
            f"duplicates={self.duplicates} | reports accepted={self.reports_accepted} "
            f"stored={self.reports_stored} duplicated={self.reports_duplicated} "
            f"unanswered={self.reports_unanswered}"
        )


class KillLoop:
    """One run of the quarter against one store, with its kills and its checks."""

    def __init__(self, tmp_path: Path, store_url: str, sizes: Sizes, seed: int) -> None:
        self.sizes = sizes
        self.rng = random.Random(seed)
        self.fake = TrappingPlatforms()
        self.fake.start()
        self.county = county(self.fake)
        self.config = self.county.write(tmp_path / "run", store_url)
        calendar = calendar_from_config(self.county.config(store_url))
        self.moments = steps(calendar, sizes.every, sizes.hours)
        self.opening = opening(self.moments)  # the store set up and the tasks imported
        self.expected = expected_keys(script(), self.moments, self.opening)
        # Whether each step issues anything (so its sweep and deliverer have work).
        self.busy = [
            bool(now - before) for before, now in zip([frozenset(), *self.expected], self.expected)
        ]
        self.counts = Counts("sqlite" if store_url.startswith("sqlite") else "postgres", seed)
        self.serve = Serve(self.config, tmp_path / "logs", pinned(self.opening))
        self.services = bootstrap(self.config, lambda: self.opening)  # the tokens' issue
        self.reader = StoreReader(self.services.ledger)
        self.load: ReportLoad | None = None
        self.actions, self.done = script(), 0

    # ---- setting up: init, tokens, the server, the import, the client thread -----------------

    def start(self) -> None:
        run_duban(self.config, "init", env=pinned(self.opening))
        self.office, self.liaisons = issue_tokens(self.services.ledger)
        self.serve.start()
        rows = [row.model_dump(mode="json") for row in task_rows()]
        self._api(self.office, "/tasks/import", {"rows": rows})
        claimed = [a.code for a in self.actions if a.kind == "claim"]
        self.load = ReportLoad(lambda: self.serve.url, self.liaisons, claimed).start()

    def close(self) -> None:
        if self.load is not None:
            self.load.stop()
        self.serve.stop()
        self.fake.disarm()
        self.fake.stop()
        self.services.ledger.close()

    def _api(self, token: str, path: str, body: object | None) -> None:
        answer = httpx.post(
            f"{self.serve.url}/api/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=BOUND_S,
        )
        assert answer.is_success, f"{path}: {answer.status_code} {answer.text}"

    def _act(self, moment: dt.datetime) -> None:
        todo, self.done = actions_before(self.actions, self.done, moment)
        for action in todo:
            whose, path, body = api_request(action)
            token = self.office if whose == "office" else self.liaisons[lead_of(action.code).name]
            self._api(token, path, body)

    # ---- the quarter -------------------------------------------------------------------------

    def run(self) -> Counts:
        for i, moment in enumerate(self.moments):
            self._act(moment)
            self._step(moment, self._target(i))
            self._settle(moment)
            self.check(self.expected[i], f"after {moment:%Y-%m-%d %H:%M}")
        last = self.moments[-1] + dt.timedelta(hours=1)
        for _ in range(self.sizes.kills * 3):  # kills still owed: at the quarter's last hour,
            if len(self.counts.kills) >= self.sizes.kills:  # where only the server has work
                break
            self._step(last, "serve")
            self.check(self.expected[-1], "after a kill at the quarter's end")
        self._drain(last + dt.timedelta(hours=1))
        return self.finish()

    def _target(self, i: int) -> str | None:
        """Which process to kill at step `i`, if any: the kills owed are spread over the
        steps left, a step with nothing to issue (e.g. an afternoon after the morning's
        rungs) weighing a third of one with work, so that most kills hit a writing process."""
        owed = self.sizes.kills - len(self.counts.kills)
        weights = [1.0 if self.busy[j] else 1 / 3 for j in range(i, len(self.moments))]
        if owed <= 0 or self.rng.random() > min(1.0, 1.6 * owed * weights[0] / sum(weights)):
            return None
        if self.busy[i]:  # something to plan and to send: any process is worth killing
            return self.rng.choice(["sweep", "deliver", "deliver", "serve"])
        return "serve"  # a sweep with nothing due has no write window to kill it in

    def _step(self, moment: dt.datetime, target: str | None) -> None:
        now = moment.replace(tzinfo=None).isoformat()
        if target is None:
            run_duban(self.config, "sweep", "--now", now)
        elif target == "sweep":
            self._kill_at_work("sweep", ("sweep", "--now", now))
            run_duban(self.config, "sweep", "--now", now)  # the restart
        elif target == "deliver":
            run_duban(self.config, "sweep", "--no-deliver", "--now", now)
            if self.rng.random() < 0.5:
                self._kill_in_flight(("deliver", "--now", now))
            else:
                self._kill_at_work("deliver", ("deliver", "--now", now))
            run_duban(self.config, "deliver", "--now", now)  # the restart
        else:
            self._kill_server_during(("sweep", "--now", now))

    def _writes(self) -> int:
        self.reader.catch_up()
        return self.reader.writes

    def _kill_at_work(self, kind: str, args: tuple[str, ...]) -> None:
        """SIGKILL once the process's log says it has written (sometimes one line later),
        after a further random short delay: inside its write window, not in start-up."""
        before = self._writes()
        process = Watched(self.config, *args)
        events, written = AT_WORK[kind]
        process.wait_for(events, count=written + (self.rng.random() < 0.3))
        time.sleep(self.rng.uniform(0.0, 0.02))
        if process.kill():  # the kill's time is taken once the process is gone
            self.counts.kills.append(Kill(kind, " ".join(args), process.started, time.time(), True))
            self.counts.after_write += self._writes() > before
        else:
            self.counts.missed += 1  # it had finished (e.g. every robot held by its limit)

    def _kill_in_flight(self, args: tuple[str, ...]) -> None:
        """SIGKILL a deliverer while the platform holds back its answer to an accepted part."""
        before = self._writes()
        self.fake.arm()
        process = Watched(self.config, *args)
        try:
            wait_for(lambda: self.fake.trapped.is_set() or process.process.poll() is not None)
            trapped = self.fake.trapped.is_set()
            killed = process.kill() if trapped else False
            killed_at = time.time()
        finally:
            self.fake.disarm()
        if killed:
            kill = Kill("deliver", " ".join(args), process.started, killed_at, True, trapped=True)
            self.counts.kills.append(kill)
            self.counts.after_write += self._writes() > before
        else:
            self.counts.missed += 1
            if process.process.poll() is None:
                process.finish()

    def _kill_server_during(self, args: tuple[str, ...]) -> None:
        """SIGKILL `duban serve` while it takes reports and a sweep runs beside it, once it
        has stored a report since it was started, after a further random short delay."""
        assert self.load is not None
        load, stored = self.load, len(self.load.accepted)
        process = Watched(self.config, *args)
        assert wait_for(lambda: len(load.accepted) > stored), "the server stored no report"
        time.sleep(self.rng.uniform(0.0, 0.3))
        server = self.serve.process
        assert server is not None
        if server.process.poll() is not None:
            raise AssertionError(f"duban serve had died by itself:\n{server.output()}")
        server.process.kill()
        server.process.wait(BOUND_S)
        self.counts.kills.append(Kill("serve", "serve", time.time(), time.time(), False))
        self.counts.after_write += 1  # it had answered a report 2xx: stored
        self.serve.start()
        process.finish()
        self.check_reports()

    # ---- checks --------------------------------------------------------------------------------

    def check(self, expected: frozenset[str], when: str) -> None:
        self.reader.catch_up()
        issued = set(self.reader.reminders)
        assert issued == expected, (
            f"{when}: missing {sorted(expected - issued)[:5]}, "
            f"not expected {sorted(issued - expected)[:5]}"
        )

    def check_reports(self) -> None:
        assert self.load is not None
        accepted = list(self.load.accepted)
        self.reader.catch_up()
        missing = set(accepted) - set(self.reader.report_texts)
        assert not missing, f"reports answered 2xx but not in the ledger: {sorted(missing)[:5]}"
        # A multiset: every text is posted once, so a text stored twice is a duplicate report.
        twice = [text for text, n in Counter(self.reader.report_texts).items() if n > 1]
        assert not twice, f"reports stored more than once: {twice[:5]}"
        assert not self.load.server_errors, self.load.server_errors[:3]

    def _settle(self, moment: dt.datetime) -> None:
        """Every message queued so far delivered at `moment` before the next step: the
        expectation counts a reminder as heard on the day of the step that issued it. Only
        the robots' rate limits (real time) can leave one pending; then more passes."""
        self.reader.catch_up()
        if self.reader.pending():
            self.counts.settled += 1
            self._drain(moment)
        late = [m.key for m in self.reader.messages.values() if m.done_at and m.done_at > moment]
        assert not late, f"delivered after the step's moment {moment}: {late[:3]}"

    def _drain(self, moment: dt.datetime) -> None:
        """Delivery passes until nothing is pending (the robots' rate limits are real time)."""
        now = moment.replace(tzinfo=None).isoformat()
        for _ in range(30):
            self.reader.catch_up()
            if not self.reader.pending():
                return
            run_duban(self.config, "deliver", "--now", now)
            time.sleep(1)
        pending = [m.key for m in self.reader.pending()]
        raise AssertionError(f"still pending after 30 delivery passes: {pending[:5]}")

    def finish(self) -> Counts:
        assert self.load is not None
        self.load.stop()
        self.check_reports()
        counts, reader = self.counts, self.reader
        counts.expected, counts.issued = len(self.expected[-1]), len(reader.reminders)
        statuses = Counter(m.status for m in reader.messages.values())
        counts.messages_delivered, counts.messages_failed = (
            statuses["delivered"],
            statuses["failed"],
        )
        failed = [(m.channel, m.key) for m in reader.failed()]
        assert not failed, f"{len(failed)} messages failed for good, e.g. {failed[:3]}"
        assert not reader.undelivered_reminders(), reader.undelivered_reminders()[:5]
        counts.parts_recorded = sum(m.ok_attempts for m in reader.messages.values())
        parts = sent_parts(self.fake.accepted, self.county.chat_of_robot)
        counts.parts_accepted = len(parts)
        counts.duplicates = self._check_duplicates(parts)
        assert counts.parts_accepted == counts.parts_recorded + counts.duplicates
        counts.reports_accepted = len(self.load.accepted)
        counts.reports_stored = len(reader.report_texts)
        counts.reports_duplicated = counts.reports_stored - len(set(reader.report_texts))
        counts.reports_unanswered = self.load.unanswered
        return counts

    def _check_duplicates(self, parts: list[SentPart]) -> int:
        """Every part accepted more than once is matched to its own kill: of a process that
        delivers, running when the first copy was accepted and killed before the next."""
        first: dict[tuple[str, ...], float] = {}
        repeats: list[tuple[float, float, tuple[str, ...]]] = []
        for part in parts:
            if part.key in first:
                repeats.append((first[part.key], part.at, part.key))
            else:
                first[part.key] = part.at
        unused = [k for k in self.counts.kills if k.delivers]
        for sent, again, key in sorted(repeats):
            cause = next((k for k in unused if k.started <= sent <= k.killed <= again), None)
            assert cause is not None, f"sent twice without a kill in flight: {key[:2]}"
            unused.remove(cause)
        trapped = sum(k.trapped for k in self.counts.kills)
        assert len(repeats) >= trapped, "a part held in flight at a kill was never resent"
        return len(repeats)


def _seed() -> int:
    return int(os.environ.get("DUBAN_KILL_SEED") or random.SystemRandom().randrange(1 << 32))


def _run(
    tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str], bounded: Sizes = BOUNDED
) -> Counts:
    sizes = FULL_SIZES if FULL else bounded
    seed = _seed()
    with capsys.disabled():
        print(f"\nkill loop: DUBAN_KILL_SEED={seed}", flush=True)
    loop = KillLoop(tmp_path, store_url, sizes, seed)
    try:
        loop.start()
        counts = loop.run()
    finally:
        loop.close()
    with capsys.disabled():
        print(counts.line(), flush=True)
    assert len(counts.kills) >= sizes.kills
    assert counts.issued == counts.expected > 0
    assert counts.messages_failed == 0
    assert counts.reports_duplicated == 0
    # Every kill but those held in flight (on the deliverer's first part, before its record)
    # came after the killed process's first write, as read back from the store.
    trapped = sum(k.trapped for k in counts.kills)
    assert counts.after_write >= len(counts.kills) - trapped, counts.line()
    return counts


@LIMIT
def test_sweeps_deliverers_and_the_server_killed_at_random_lose_nothing_and_repeat_only_parts_in_flight(  # noqa: E501
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(tmp_path, f"sqlite:///{tmp_path / 'run' / 'duban.db'}", capsys)


@LIMIT
@pytest.mark.postgres
def test_the_kill_loop_on_postgresql(
    tmp_path: Path, pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_server.create_database(f"duban_kill_{os.getpid()}")
    _run(tmp_path, url, capsys, BOUNDED_PG)


# The full loop's oracle (every working day, about 15 s) runs where the full loop does, under
# `make reliability`; `make test` checks the same oracle on the two bounded loops it runs.
_FULL_ORACLE = pytest.param(
    FULL_SIZES,
    id="full",
    marks=pytest.mark.skipif(not FULL, reason="DUBAN_RELIABILITY=full: the full loop's oracle"),
)


@pytest.mark.parametrize("sizes", [BOUNDED, BOUNDED_PG, _FULL_ORACLE], ids=["bounded", "pg", None])
def test_the_hand_expectation_matches_an_unkilled_run_of_the_quarter_in_process(
    tmp_path: Path, sizes: Sizes
) -> None:
    """The oracle against the project's sweep on a store of its own, without kills or
    processes (`reference_keys`: each step's messages taken as delivered at its moment, the
    tasks imported at the loop's opening): moment by moment, for the loop of every size that
    runs (the full one under `make reliability`, where the full loop needs it). Either side
    being wrong fails here first, naming the step."""
    with TrappingPlatforms() as fake:
        county_ = county(fake)
        url = f"sqlite:///{tmp_path / 'reference.db'}"
        moments = steps(calendar_from_config(county_.config(url)), sizes.every, sizes.hours)
        expected = expected_keys(script(), moments, opening(moments))
        stored = reference_keys(county_, url, moments, opening(moments))
    for moment, mine, theirs in zip(moments, expected, stored, strict=True):
        assert mine == theirs, (
            f"{moment:%Y-%m-%d %H:%M}: only by hand {sorted(mine - theirs)[:5]}, "
            f"only in the store {sorted(theirs - mine)[:5]}"
        )
    assert any("|bulletin|1" in key for key in expected[-1])  # the quarter climbs to 再次通报
    assert any("|claim_overdue|" in key for key in expected[-1])  # and 逾期未签收
