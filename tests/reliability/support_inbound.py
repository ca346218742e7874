"""What the inbound kill test uses: a DingTalk group that keeps writing to the robot and retries
every callback not answered 200 (as the platform does), and the store read back afterwards.

The group (`Group`) is one client thread. It sends its messages one after another, each with a
msgId of its own, and re-sends a message (same body and msgId, signed anew: DingTalk signs the
timestamp only) until it is answered 200 (or 403 "replayed": recorded before), before it goes
on to the next. Every request opens a
connection of its own, so a connection error is exact: refused (the server was down: nothing
reached it) or lost after the request was sent (the server was killed with the request in
flight). The callbacks carry no sessionWebhook, so the server answers in the HTTP body: a text
for a message handled now, a 403 `{"error": "replayed"}` for one it had recorded before,
which says on which side of its commit a kill in flight fell.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from domain.inbound import inbound_id
from domain.roles import Identity
from domain.task import task_id
from duban.app.importer import read_task_list
from duban.app.services import open_ledger
from duban.bootstrap import bootstrap
from tests.fakes.callbacks import DingTalkCallbacks

ROOT = Path(__file__).resolve().parents[2]
SECRET_ENV = "DUBAN_TEST_KILL_CZJ_APP_SECRET"
APP_SECRET = "dingtalk-app-secret-for-the-kill-test"
CHANNEL = "czj"
# The liaisons who write in the group, their DingTalk user ids, and the tasks their units lead.
LIAISONS = {
    "李静": ("czj-lijing", '{ name = "李静", mobile = "13800000002" }'),
    "张伟": ("fgj-zhangwei", '{ name = "张伟", mobile = "13800000001" }'),
    "王磊": ("gxj-wanglei", '{ name = "王磊", mobile = "13800000003" }'),
}
TASKS = {  # code -> the liaison of its lead unit
    "2024-19": "李静",
    "2024-01": "张伟",
    "2024-04": "王磊",
    "2024-17": "张伟",
    "2024-06": "王磊",
    "2024-18": "张伟",
}
CLAIM_EVERY = 5  # the n-th task is claimed as the group's (n * CLAIM_EVERY)-th message
OFFICE = Identity("office", "改革办")
WAIT_S = 60.0  # the longest any single wait may take


def import_tasks(config: Path) -> None:
    """`duban import examples/tasks-2024.csv`, in-process (as the CLI does, only faster)."""
    services = bootstrap(config)
    try:
        services.ledger.reconcile_directory(services.config, OFFICE)
        sample = read_task_list(ROOT / "examples/tasks-2024.csv")
        assert sample.ok, sample.errors
        services.ledger.import_tasks(sample.rows, OFFICE)
    finally:
        services.ledger.close()


def inbound_config(folder: Path, store_url: str, webhook: str, host: str) -> Path:
    """The example config on `store_url`, 县财政局's chat a DingTalk robot that receives (its
    app secret in $DUBAN_TEST_KILL_CZJ_APP_SECRET), the LIAISONS bound to their user ids."""
    text = (ROOT / "examples/duban.toml").read_text(encoding="utf-8")
    replacements = {
        "sqlite:///var/duban.db": store_url,
        "allowed_webhook_hosts = []": f'allowed_webhook_hosts = ["{host}"]',
        'name = "czj"   # 县财政局\nplatform = "console"': (
            f'name = "czj"   # 县财政局\nplatform = "dingtalk"\nwebhook = "{webhook}"\n'
            f'inbound = {{ app_secret_env = "{SECRET_ENV}" }}'
        ),
    }
    for user, line in LIAISONS.values():
        replacements[line] = line.replace(" }", f', users = ["{user}"] }}')
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "duban.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ---- the group: what it says, sent until answered 200 ------------------------------------------


@dataclass(frozen=True)
class Said:
    """One message of the group: its msgId, who wrote it, the command and, for a report, the
    text the task's history must show."""

    msg_id: str
    sender: str
    command: str
    code: str
    report: str | None = None


def script(n: int) -> Said:
    """The group's n-th message: a claim of the next task every CLAIM_EVERY messages (while
    tasks are left), otherwise a progress report on one of the tasks claimed so far, each with
    its own text and a percent that changes from one report to the next."""
    codes = list(TASKS)
    if n % CLAIM_EVERY == 0 and n // CLAIM_EVERY < len(codes):
        code = codes[n // CLAIM_EVERY]
        return Said(f"kill-msg-{n:05d}", TASKS[code], f"签收 {code}", code)
    claimed = min(n // CLAIM_EVERY + 1, len(codes))
    code = codes[n % claimed]
    percent = (n * 37) % 99 + 1
    report = f"断电测试第{n}条进展"
    verb = "报送" if n % 3 == 0 else "进展"
    mark = "％" if n % 4 == 0 else "%"
    return Said(
        f"kill-msg-{n:05d}", TASKS[code], f"{code} {verb} {percent}{mark} {report}", code, report
    )


@dataclass
class Delivery:
    """How one message went: its attempts, and how the one answered 200 was answered."""

    said: Said
    refused: int = 0  # connection refused: the server was down
    lost: int = 0  # the request was sent and its connection died: killed in flight
    statuses: list[int] = field(default_factory=list)  # answers other than 200
    answer: dict[str, Any] | None = None
    body_sha256: str = ""  # of the body as sent (the same at every attempt)

    @property
    def replay(self) -> bool:
        return self.answer is not None and self.answer.get("error") == "replayed"


def _replayed(answer: httpx.Response) -> bool:
    """The server's 403 for a msgId it had recorded already: the platform stops retrying."""
    return answer.status_code == 403 and answer.json().get("error") == "replayed"


class Group(threading.Thread):
    """The DingTalk group writing to the robot at `url()` (which changes at each restart),
    message after message until stopped; `up` is set while a server is serving."""

    def __init__(self, url: Callable[[], str], up: threading.Event) -> None:
        super().__init__(name="dingtalk-group", daemon=True)
        self._url = url
        self._up = up
        self._stop_asked = threading.Event()
        self._abandoned = threading.Event()
        self._answered = threading.Condition()
        self.deliveries: list[Delivery] = []
        self.failure: BaseException | None = None

    @property
    def answered(self) -> int:
        """How many messages were answered 200 so far."""
        return sum(d.answer is not None for d in list(self.deliveries))

    def wait_answered(self, count: int) -> bool:
        """Until `count` messages have been answered 200 (or the thread died)."""
        deadline = time.monotonic() + WAIT_S
        with self._answered:
            while self.answered < count and self.is_alive() and time.monotonic() < deadline:
                self._answered.wait(0.5)
        return self.answered >= count

    def finish(self) -> None:
        """Stop after the message in hand is answered 200."""
        self._stop_asked.set()
        self.join(WAIT_S * 2)
        assert not self.is_alive(), "the group's last message was never answered 200"
        if self.failure is not None:
            raise AssertionError(f"the group stopped: {self.failure!r}") from self.failure

    def abandon(self) -> None:
        """Stop now, the message in hand answered or not (a test that failed)."""
        self._stop_asked.set()
        self._abandoned.set()
        self.join(WAIT_S)

    def run(self) -> None:
        # No connection is kept alive: each request opens its own, so a kill between two
        # requests is seen as a refused connection, never as a lost one.
        limits = httpx.Limits(max_keepalive_connections=0)
        try:
            with httpx.Client(timeout=30.0, limits=limits) as client:
                n = 0
                while not self._stop_asked.is_set():
                    self._deliver(client, Delivery(script(n)))
                    n += 1
        except BaseException as exc:  # reported by finish()
            self.failure = exc

    def _deliver(self, client: httpx.Client, delivery: Delivery) -> None:
        """Send one message until it is answered 200: the same body each time, signed anew.
        After a lost request the next attempt goes at once to the same address (the server
        is dead: refused); after a refused one, once a server serves again (at its address)."""
        said = delivery.said
        self.deliveries.append(delivery)
        body = DingTalkCallbacks("", APP_SECRET).body(
            said.command,
            sender_staff_id=LIAISONS[said.sender][0],
            sender_nick=said.sender,
            conversation_title="县财政局督办群",
            msg_id=said.msg_id,
        )
        deadline = time.monotonic() + WAIT_S * 2
        url: str | None = None
        while time.monotonic() < deadline:
            if self._abandoned.is_set():
                return
            if url is None:
                self._up.wait(WAIT_S)
                url = f"{self._url()}/api/v1/inbound/dingtalk/{CHANNEL}"
            headers, raw = DingTalkCallbacks(url, APP_SECRET).request(body)  # signed now
            delivery.body_sha256 = hashlib.sha256(raw).hexdigest()
            try:
                answer = client.post(url, content=raw, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                delivery.refused += 1
                url = None
                continue
            except httpx.TimeoutException as exc:  # a live server that does not answer: a bug
                raise AssertionError(f"{said.msg_id}: no answer in 30 s") from exc
            except httpx.TransportError:
                delivery.lost += 1
                continue
            if answer.status_code != 200 and not _replayed(answer):
                delivery.statuses.append(answer.status_code)
                continue
            with self._answered:
                delivery.answer = answer.json()
                self._answered.notify_all()
            return
        raise AssertionError(f"{said.msg_id} was not answered 200 in {WAIT_S * 2:.0f} s")


# ---- the store, read back ---------------------------------------------------------------------

_INBOUND = "domain.inbound:InboundMessage.Received"
_REPORT = "domain.task:ReformTask.ProgressReported"
_CLAIM = "domain.task:ReformTask.Claimed"


@dataclass
class Stored:
    """The inbound messages, claims and reports in the store, in store order."""

    inbound: list[Any] = field(default_factory=list)  # InboundMessage.Received events
    reports: dict[str, list[Any]] = field(default_factory=dict)  # task code -> its reports
    claims: dict[str, list[Any]] = field(default_factory=dict)

    def messages(self) -> Counter[str]:
        return Counter(str(e.message_id) for e in self.inbound)


def read_store(store_url: str) -> Stored:
    """Every stored inbound message, and the claims and reports of TASKS."""
    codes = {str(task_id(code)): code for code in TASKS}
    found = Stored()
    ledger = open_ledger(store_url)
    try:
        recorder, mapper = ledger.recorder, ledger.mapper
        cursor = 0
        topics = [_INBOUND, _REPORT, _CLAIM]
        while batch := recorder.select_notifications(
            cursor, 500, topics=topics, inclusive_of_start=False
        ):
            for notification in batch:
                event = mapper.to_domain_event(notification)
                if notification.topic == _INBOUND:
                    found.inbound.append(event)
                    continue
                code = codes.get(str(event.originator_id), str(event.originator_id))
                table = found.reports if notification.topic == _REPORT else found.claims
                table.setdefault(code, []).append(event)
            cursor = batch[-1].id
    finally:
        ledger.close()
    return found


def via(said: Said) -> str:
    """What the task event a message caused records as `via`."""
    return f"chat:{inbound_id('dingtalk', said.msg_id)}"
