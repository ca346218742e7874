"""What the kill loop and the chat-outage test share: a county of fake robots, a scripted quarter
of deadlines, real `duban` processes to start and SIGKILL, and readers of the stored facts.

The quarter (2024 Q4) is a list of ~30 tasks imported once, a script of what people do along
the way (claims, extensions, completions, a return and a cancellation) and the moments at
which the service runs (`steps`). The same script replayed in-process, without kills, on a
second store gives the reminder keys a run must end with (`reference_keys`, used by the
chat-outage test); the kill loop checks against an expectation computed by hand instead
(tests/reliability/kill_expectation.py), which shares no code with the sweep.

Everything that records a moment runs on the quarter's clock, never the machine's: the
sweeps and deliverers by `--now`, and `duban init` and `duban serve` (which takes the import,
the script's actions and the reports) by `$DUBAN_NOW` pinned to the loop's `opening`, half an
hour before its first step. The ladder climbs on deliveries (PRODUCT.md rule 4): tasks
imported at today's date would have their 交办 notices queued years after the quarter.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from domain.calendar import WorkingCalendar
from domain.reminder import ChatMessage
from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.access import TokenRegistry
from duban.app.ledger import Ledger
from duban.app.services import Services, open_ledger
from duban.app.sweep import sweep
from duban.settings.config import parse_config
from notifiers.wecom import MENTION_TEXT
from tests.conftest import TZ
from tests.e2e.test_delivery_cli import toml
from tests.fakes.platforms import Accepted, FakePlatforms
from tests.support.clock import NOW_ENV
from tests.support.server import DUBAN, ServeProcess, start_serve

FULL = os.environ.get("DUBAN_RELIABILITY", "").lower() == "full"
BOUND_S = 60.0  # the longest any single wait in these tests may take
OFFICE = Identity("office", "改革办")
KEYWORD = "督办"
SECRET = "SECkill0loop1secret2for3dingtalk4robots5"

# ---- the county: six units, each chat on a robot of its own platform ------------------------


@dataclass(frozen=True)
class UnitSpec:
    name: str
    channel: str
    platform: str
    liaison: str
    mobile: str


UNITS = (
    UnitSpec("县发展和改革局", "fgj", "wecom", "张伟", "13800000001"),
    UnitSpec("县财政局", "czj", "dingtalk", "李娜", "13800000002"),
    UnitSpec("县教育局", "jyj", "feishu", "赵磊", "13800000003"),
    UnitSpec("县工业和信息化局", "gxj", "wecom", "王芳", "13800000004"),
    UnitSpec("县商务局", "swj", "feishu", "刘洋", "13800000005"),
    UnitSpec("县行政审批服务局", "spj", "dingtalk", "陈静", "13800000006"),
)
OFFICIAL = "王建国"
OFFICIAL_MOBILE = "13900000001"
# Extra chats: the office and the leaders on Feishu (their digests are the most frequent and
# Feishu allows the most), the official's on DingTalk.
EXTRA_CHATS = (("office", "feishu"), ("leaders", "feishu"), ("wang", "dingtalk"))


def _robot(fake: FakePlatforms, platform: str) -> str:
    if platform == "wecom":
        return fake.add_wecom()
    if platform == "dingtalk":
        return fake.add_dingtalk(secret=SECRET, keyword=KEYWORD)
    return fake.add_feishu(keyword=KEYWORD)


@dataclass
class County:
    """The config (as data) and which chat each fake robot belongs to."""

    raw: dict[str, Any]
    chat_of_robot: dict[str, str] = field(default_factory=dict)

    def write(self, directory: Path, store_url: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "duban.toml"
        path.write_text(toml({**self.raw, "store": store_url}), encoding="utf-8")
        return path

    def config(self, store_url: str) -> Any:
        return parse_config({**self.raw, "store": store_url})


def county(fake: FakePlatforms, **delivery: Any) -> County:
    """Every chat on fake robots; WeCom and DingTalk chats get two robots (round-robin)."""
    found = County(raw={})
    channels: list[dict[str, Any]] = []
    chats = [(u.channel, u.platform) for u in UNITS] + list(EXTRA_CHATS)
    for name, platform in chats:
        hooks = [_robot(fake, platform) for _ in range(1 if platform == "feishu" else 2)]
        for hook in hooks:
            found.chat_of_robot[robot_id(hook)] = name
        chat: dict[str, Any] = {"name": name, "platform": platform, "webhook": hooks[0]}
        if hooks[1:]:
            chat["extra_webhooks"] = hooks[1:]
        if platform == "dingtalk":
            chat |= {"secret": SECRET, "keyword": KEYWORD}
        elif platform == "feishu":
            chat["keyword"] = KEYWORD
        channels.append(chat)
    found.raw = {
        "timezone": "Asia/Shanghai",
        "store": "sqlite:///unused.db",
        "allowed_webhook_hosts": [fake.host],
        "office": {"name": "县委改革办", "channel": "office", "leaders_channel": "leaders"},
        "channels": channels,
        "units": [
            {
                "name": u.name,
                "channel": u.channel,
                "liaisons": [{"name": u.liaison, "mobile": u.mobile}],
            }
            for u in UNITS
        ],
        "officials": [{"name": OFFICIAL, "mobile": OFFICIAL_MOBILE, "channel": "wang"}],
        "delivery": {"max_attempts": 8, "backoff_base_s": 60, "timeout_s": 10.0, **delivery},
    }
    return found


def robot_id(hook: str) -> str:
    """The robot part of a fake webhook, as `Accepted.robot` names it."""
    if "key=" in hook:
        return hook.rsplit("key=", 1)[1]
    if "access_token=" in hook:
        return hook.rsplit("access_token=", 1)[1]
    return hook.rsplit("/", 1)[1]


# ---- the quarter: tasks, what people do, when the service runs --------------------------------

QUARTER_START = dt.date(2024, 10, 8)  # the first working day after the National Day holiday
QUARTER_END = dt.date(2024, 12, 31)
TASKS = 30


def _deadline(i: int) -> dt.date:
    """Deadlines spread over the quarter, about every two and a half days, on weekdays."""
    day = dt.date(2024, 10, 14) + dt.timedelta(days=(i * 5) // 2)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def task_rows() -> list[cmd.AssignTask]:
    rows = []
    for i in range(TASKS):
        unit = UNITS[i % len(UNITS)]
        deadline = _deadline(i)
        milestones = (
            (cmd.Milestone(name="方案制定", due=deadline - dt.timedelta(days=14)),)
            if i % 5 == 2
            else ()
        )
        co_units = (UNITS[(i + 1) % len(UNITS)].name,) if i % 3 == 0 else ()
        rows.append(
            cmd.AssignTask(
                code=f"2024-{i + 1:02d}",
                title=f"第{i + 1}项改革任务：深化“放管服”改革，推进政务服务“一网通办”",
                lead_unit=unit.name,
                co_units=co_units,
                official=OFFICIAL if i % 4 == 1 else None,
                deadline=deadline,
                deadline_text=deadline.isoformat(),
                milestones=milestones,
            )
        )
    return rows


def lead_of(code: str) -> UnitSpec:
    return UNITS[(int(code.split("-")[1]) - 1) % len(UNITS)]


def liaison(code: str) -> Identity:
    unit = lead_of(code)
    return Identity("liaison", unit.liaison, unit=unit.name)


@dataclass(frozen=True)
class Action:
    """Something a person does on a day of the quarter (before that day's sweep)."""

    day: dt.date
    kind: str  # claim | extend | grant | submit | accept | return | cancel
    code: str
    new_deadline: dt.date | None = None


UNCLAIMED = ("2024-05", "2024-17", "2024-29")  # never claimed: reminded all the same


def script() -> list[Action]:
    d = dt.date
    claims = [
        Action(QUARTER_START, "claim", f"2024-{i:02d}")
        for i in range(1, TASKS + 1)
        if f"2024-{i:02d}" not in UNCLAIMED
    ]
    return [
        *claims,
        Action(d(2024, 10, 21), "extend", "2024-04", d(2024, 11, 29)),
        Action(d(2024, 10, 23), "grant", "2024-04"),
        Action(d(2024, 10, 24), "submit", "2024-06"),
        Action(d(2024, 10, 28), "accept", "2024-06"),
        Action(d(2024, 11, 4), "cancel", "2024-09"),
        Action(d(2024, 11, 11), "extend", "2024-14", d(2024, 12, 20)),
        Action(d(2024, 11, 13), "grant", "2024-14"),
        Action(d(2024, 11, 18), "submit", "2024-16"),
        Action(d(2024, 11, 20), "return", "2024-16"),
        Action(d(2024, 12, 2), "submit", "2024-20"),
        Action(d(2024, 12, 4), "accept", "2024-20"),
    ]


def steps(calendar: WorkingCalendar, every: int, hours: tuple[int, ...]) -> list[dt.datetime]:
    """The moments the service runs: `hours` of every `every`-th working day of the quarter."""
    days = [
        QUARTER_START + dt.timedelta(days=n)
        for n in range((QUARTER_END - QUARTER_START).days + 1)
        if calendar.is_working_day(QUARTER_START + dt.timedelta(days=n))
    ]
    return [
        dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)
        for day in days[::every]
        for hour in hours
    ]


def opening(moments: list[dt.datetime]) -> dt.datetime:
    """The moment the loop's store is set up and its tasks imported: half an hour before the
    first step (the script's actions of a day likewise come half an hour before its sweep)."""
    return moments[0] - dt.timedelta(minutes=30)


def pinned(moment: dt.datetime) -> dict[str, str]:
    """The environment entry that pins a `duban` process's clock to `moment`."""
    return {NOW_ENV: moment.isoformat()}


def actions_before(
    actions: list[Action], done: int, moment: dt.datetime
) -> tuple[list[Action], int]:
    """The actions of the script not yet done whose day has come by `moment` (in order)."""
    end = done
    while end < len(actions) and actions[end].day <= moment.date():
        end += 1
    return actions[done:end], end


def apply_in_process(ledger: Ledger, action: Action) -> None:
    who = liaison(action.code)
    match action.kind:
        case "claim":
            ledger.claim(action.code, who)
        case "extend":
            assert action.new_deadline is not None
            req = cmd.RequestExtension(new_deadline=action.new_deadline, reason="工作量增加")
            ledger.request_extension(action.code, req, who)
        case "grant":
            ledger.grant_extension(action.code, cmd.DecideExtension(reason="同意延期"), OFFICE)
        case "submit":
            ledger.submit_completion(action.code, cmd.SubmitCompletion(summary="已完成"), who)
        case "accept":
            ledger.accept_completion(action.code, cmd.Decision(reason="同意销号"), OFFICE)
        case "return":
            ledger.return_completion(action.code, cmd.Decision(reason="材料不全"), OFFICE)
        case "cancel":
            ledger.cancel(action.code, cmd.Decision(reason="并入其他任务"), OFFICE)
        case _:
            raise ValueError(action.kind)


def api_request(action: Action) -> tuple[str, str, dict[str, Any] | None]:
    """(whose token: "office" or "liaison", path, JSON body) of an action through the API."""
    base = f"/tasks/{action.code}"
    match action.kind:
        case "claim":
            return "liaison", f"{base}/claim", None
        case "extend":
            assert action.new_deadline is not None
            body = {"new_deadline": action.new_deadline.isoformat(), "reason": "工作量增加"}
            return "liaison", f"{base}/extension/request", body
        case "grant":
            return "office", f"{base}/extension/grant", {"reason": "同意延期"}
        case "submit":
            return "liaison", f"{base}/completion/submit", {"summary": "已完成"}
        case "accept":
            return "office", f"{base}/completion/accept", {"reason": "同意销号"}
        case "return":
            return "office", f"{base}/completion/return", {"reason": "材料不全"}
        case "cancel":
            return "office", f"{base}/cancel", {"reason": "并入其他任务"}
    raise ValueError(action.kind)


def reference_keys(
    county_: County,
    store_url: str,
    moments: list[dt.datetime],
    imported_at: dt.datetime | None = None,
) -> list[frozenset[str]]:
    """The reminder keys stored after each moment when the quarter runs without a kill, in
    this process, on its own store: what every killed run must end each step with. The
    tasks are imported at `imported_at` (default: the first moment) — their 签收 deadlines
    follow from it."""
    now = [imported_at or moments[0]]
    config = county_.config(store_url)
    services = Services(config=config, ledger=open_ledger(store_url, lambda: now[0]))
    actions, done = script(), 0
    services.ledger.import_tasks(task_rows(), OFFICE)
    after: list[frozenset[str]] = []
    reader = StoreReader(services.ledger)
    position = 0
    try:
        for moment in moments:
            todo, done = actions_before(actions, done, moment)
            for action in todo:
                now[0] = moment - dt.timedelta(minutes=30)
                apply_in_process(services.ledger, action)
            now[0] = moment
            sweep(services, moment)
            position = _assume_delivered(services, position, moment)
            reader.catch_up()
            after.append(frozenset(reader.reminders))
    finally:
        services.ledger.close()
    return after


def _assume_delivered(services: Services, after: int, moment: dt.datetime) -> int:
    """Every message queued since `after` recorded as delivered at `moment`: the runs under
    test deliver each step too, and the ladder climbs only on deliveries (PRODUCT.md rule 4)."""
    queued = list(services.ledger.events_of(ChatMessage.Queued, after=after))
    messages = [services.ledger.repository.get(event.originator_id) for _, event in queued]
    for message in messages:
        message.mark_delivered(actor="system:reference", at=moment)
    if messages:
        services.ledger.save(*messages)
    return int(services.ledger.recorder.max_notification_id() or 0)


# ---- reading the stored facts (by topic, incrementally) ----------------------------------------

_TOPIC = "domain.reminder:{}"
_TOPICS = {
    "issued": _TOPIC.format("Reminder.Issued"),
    "queued": _TOPIC.format("ChatMessage.Queued"),
    "attempt": _TOPIC.format("ChatMessage.AttemptRecorded"),
    "delivered": _TOPIC.format("ChatMessage.Delivered"),
    "failed": _TOPIC.format("ChatMessage.Failed"),
    "report": "domain.task:ReformTask.ProgressReported",
}


@dataclass
class StoredMessage:
    key: str
    channel: str
    kind: str
    reminder_keys: list[str]
    mentions: bool = False
    ok_attempts: int = 0
    attempts: int = 0
    status: str = "pending"
    queued_at: dt.datetime | None = None
    done_at: dt.datetime | None = None
    timeouts: list[dt.datetime] = field(default_factory=list)  # attempts the client gave up


class StoreReader:
    """Reminders, chat messages and progress reports as stored, read forward from a cursor."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._cursor = 0
        self.reminders: dict[str, list[str]] = {}  # key -> channels
        self.messages: dict[str, StoredMessage] = {}  # by message id
        self.report_texts: list[str] = []  # in store order; a text stored twice is here twice
        self.writes = 0  # reminder and chat-message events read so far (the sweep's writes)

    def catch_up(self) -> None:
        recorder, mapper = self._ledger.recorder, self._ledger.mapper
        while batch := recorder.select_notifications(
            self._cursor, 500, topics=list(_TOPICS.values()), inclusive_of_start=False
        ):
            for notification in batch:
                self._apply(notification.topic, mapper.to_domain_event(notification))
            self._cursor = batch[-1].id

    def _apply(self, topic: str, event: Any) -> None:
        mid = str(event.originator_id)
        self.writes += topic != _TOPICS["report"]
        if topic == _TOPICS["issued"]:
            self.reminders[event.key] = list(event.channels)
        elif topic == _TOPICS["queued"]:
            self.messages[mid] = StoredMessage(
                event.message_key,
                event.channel,
                event.kind,
                list(event.reminder_keys),
                mentions=bool(event.mention_mobiles),
                queued_at=event.at,
            )
        elif topic == _TOPICS["attempt"]:
            message = self.messages[mid]
            message.attempts += 1
            message.ok_attempts += bool(event.answer.get("ok"))
            if event.answer.get("http_status") is None and "Timeout" in event.answer["detail"]:
                message.timeouts.append(event.at)
        elif topic in (_TOPICS["delivered"], _TOPICS["failed"]):
            self.messages[mid].status = "delivered" if topic == _TOPICS["delivered"] else "failed"
            self.messages[mid].done_at = event.at
        elif topic == _TOPICS["report"]:
            self.report_texts.append(event.text)

    def pending(self) -> list[StoredMessage]:
        return [m for m in self.messages.values() if m.status == "pending"]

    def failed(self) -> list[StoredMessage]:
        return [m for m in self.messages.values() if m.status == "failed"]

    def undelivered_reminders(self) -> list[str]:
        """Reminder keys some chat of theirs has no delivered message for (a message that
        failed for good told nobody: it does not count)."""
        done: set[tuple[str, str]] = set()
        for message in self.messages.values():
            if message.status == "delivered":
                done |= {(key, message.channel) for key in message.reminder_keys}
        return [
            key
            for key, channels in self.reminders.items()
            if any((key, channel) not in done for channel in channels)
        ]


# ---- the fake platforms, with a trap that holds an accepted part's answer back -----------------


class TrappingPlatforms(FakePlatforms):
    """The fake platforms; when armed, the next accepted request's answer is withheld until
    released, so a deliverer can be killed between the platform's acceptance and its record."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.armed = threading.Event()
        self.trapped = threading.Event()
        self.release = threading.Event()

    def handle(self, path: str, raw: bytes) -> Any:
        reply = super().handle(path, raw)
        if reply.status == 200 and reply.code == 0 and self.armed.is_set():
            self.armed.clear()
            self.trapped.set()
            self.release.wait(BOUND_S)
        return reply

    def arm(self) -> None:
        self.release.clear()
        self.trapped.clear()
        self.armed.set()

    def disarm(self) -> None:
        self.armed.clear()
        self.release.set()


@dataclass(frozen=True)
class SentPart:
    """One part as the chat shows it: a WeCom digest and the @-mention text that follows it
    from the same robot are one part (one attempt of the deliverer sends both)."""

    key: tuple[str, ...]
    at: float  # when the platform accepted it (its first request)


def sent_parts(accepted: list[Accepted], chat_of_robot: dict[str, str]) -> list[SentPart]:
    """The accepted requests as parts, in order. The same part sent twice has the same key,
    whichever robot of the chat took it."""
    parts: list[SentPart] = []
    for request in accepted:
        if request.platform == "wecom" and request.text.endswith(MENTION_TEXT):
            continue  # the mention of the digest this robot took just before
        chat = chat_of_robot.get(request.robot, request.robot)
        key = (chat, request.title or "", request.text, ",".join(request.mobiles))
        parts.append(SentPart(key, request.at))
    return parts


# ---- processes -------------------------------------------------------------------------------


@dataclass
class Kill:
    """One SIGKILL: of which process, doing what, when (epoch seconds, like `Accepted.at`)."""

    target: str  # sweep | deliver | serve
    command: str
    started: float
    killed: float
    delivers: bool
    trapped: bool = False


def duban_process(
    config: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], float]:
    process = subprocess.Popen(
        [str(DUBAN), "--config", str(config), *args],
        cwd=config.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    return process, time.time()


class Watched:
    """A `duban` process with INFO logs on stderr, read line by line as they come, so that a
    test can wait until the process says it is at work (e.g. its first `delivery.attempt`)."""

    def __init__(self, config: Path, *args: str) -> None:
        self.command = " ".join(args)
        self.process = subprocess.Popen(
            [str(DUBAN), "--config", str(config), "--log-level", "INFO", *args],
            cwd=config.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.started = time.time()
        self.lines: list[str] = []
        self._seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="watched-stderr", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            with self._seen:
                self.lines.append(raw.decode("utf-8", errors="replace"))
                self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    def events(self, names: tuple[str, ...]) -> int:
        """How many of its log lines so far are one of these events."""
        found = 0
        for line in list(self.lines):
            try:
                event = json.loads(line).get("event")
            except ValueError:
                continue
            found += event in names
        return found

    def wait_for(self, names: tuple[str, ...], count: int = 1) -> bool:
        """Until `count` lines of these events were logged (True) or the process ended."""
        deadline = time.monotonic() + BOUND_S
        with self._seen:
            while self.events(names) < count:
                if not self._reader.is_alive() or time.monotonic() > deadline:
                    return self.events(names) >= count
                self._seen.wait(0.5)
        return True

    def kill(self) -> bool:
        """SIGKILL it if it still runs; whether the signal is what ended it."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self._wait()
        return self.process.returncode == -signal.SIGKILL

    def finish(self) -> None:
        """Wait (bounded) for an un-killed process; it must have succeeded."""
        try:
            self._wait(BOUND_S * 2)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.command} did not finish in {BOUND_S * 2:.0f} s") from None
        if self.process.returncode != 0:
            raise AssertionError(
                f"{self.command} exited {self.process.returncode}:\n{''.join(self.lines)}"
            )

    def _wait(self, seconds: float = BOUND_S) -> None:
        self.process.wait(seconds)
        self._reader.join(BOUND_S)
        assert self.process.stderr is not None
        self.process.stderr.close()


def finish(process: subprocess.Popen[bytes], what: str) -> None:
    """Wait (bounded) for an un-killed process; it must have succeeded."""
    try:
        _, err = process.communicate(timeout=BOUND_S * 2)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate(timeout=BOUND_S)
        raise AssertionError(f"{what} did not finish within {BOUND_S * 2:.0f} s") from None
    if process.returncode != 0:
        raise AssertionError(f"{what} exited {process.returncode}:\n{err.decode(errors='replace')}")


def run_duban(config: Path, *args: str, env: dict[str, str] | None = None) -> float:
    """Run one `duban` command to completion (`env`: entries added to this process's
    environment); its duration in seconds."""
    process, started = duban_process(config, *args, env=env)
    finish(process, f"duban {' '.join(args)}")
    return time.time() - started


def wait_for(condition: Callable[[], bool], seconds: float = BOUND_S, step: float = 0.02) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


# ---- the API under load: a client thread posting progress reports -----------------------------


@dataclass
class ReportLoad:
    """Posts progress reports to the running `duban serve` (whose URL may change on restart)
    and remembers the texts of those answered 2xx."""

    url: Callable[[], str]
    tokens: dict[str, str]  # unit name -> liaison token
    codes: list[str]
    accepted: list[str] = field(default_factory=list)
    refused: int = 0  # 4xx: e.g. a task completed meanwhile
    server_errors: list[str] = field(default_factory=list)
    unanswered: int = 0  # connection refused or cut: the server was down or killed
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> ReportLoad:
        self._thread = threading.Thread(target=self._run, name="report-load", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(BOUND_S)

    def _run(self) -> None:
        n = 0
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                code = self.codes[n % len(self.codes)]
                text = f"第{n}次进展报送（kill loop）"
                token = self.tokens[lead_of(code).name]
                try:
                    answer = client.post(
                        f"{self.url()}/api/v1/tasks/{code}/reports",
                        json={"text": text, "percent": n % 101},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                except httpx.HTTPError:
                    self.unanswered += 1
                    self._stop.wait(0.05)
                else:
                    if answer.is_success:
                        self.accepted.append(text)
                    elif answer.status_code >= 500:
                        self.server_errors.append(f"{answer.status_code} {answer.text[:300]}")
                    else:
                        self.refused += 1
                n += 1
                # About ten reports a second: a busy office. Faster, on a loaded machine, a
                # sweep loses every one of its 8 attempts to reports on the tasks it
                # escalates (SweepError "gave up after 8 conflicts"): see the lead's note.
                self._stop.wait(0.1)


def issue_tokens(ledger: Ledger) -> tuple[str, dict[str, str]]:
    """An office token and one liaison token per unit."""
    registry = TokenRegistry(ledger)
    office = registry.issue("office", None, None, OFFICE).token
    liaisons = {u.name: registry.issue("liaison", u.liaison, u.name, OFFICE).token for u in UNITS}
    return office, liaisons


@dataclass
class Serve:
    """`duban serve`, restartable after a kill; each start binds port 0 (the kernel's pick,
    never a port reserved beforehand nor the killed process's), so the URL changes. `env`
    (e.g. `pinned(...)`) is added to its environment at every start."""

    config: Path
    log_dir: Path
    env: dict[str, str] | None = None
    process: ServeProcess | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        self.process = start_serve(
            self.config, self.log_dir / f"serve-{self.starts}", "--no-scheduler", env=self.env
        )

    @property
    def url(self) -> str:
        assert self.process is not None
        return self.process.url

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=BOUND_S)
