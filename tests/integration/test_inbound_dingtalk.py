"""Replies from a DingTalk group become ledger events (issue 17), against a real `duban serve`.

The platform's side is `tests.fakes.callbacks.DingTalkCallbacks` (it signs with its own
implementation of DingTalk's published algorithm); the group is `tests.fakes.platforms` (the
session webhook the answers go to). Acceptance 1 (each command from a signed callback to its
event, an answer in the group, the board), 2 (bad signature, stale timestamp, replayed msgId,
a stranger and another unit's liaison change nothing) and 5 (the audit trail shows the message,
its digest and the event) on SQLite; the replay no-op on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.callbacks import DingTalkCallbacks
from tests.fakes.platforms import Accepted, FakePlatforms
from tests.support.server import ServeProcess, duban, start_serve

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "DUBAN_TEST_CZJ_APP_SECRET": "dingtalk-app-secret-czj",
    "DUBAN_TEST_FGJ_TOKEN": "feishu-verification-token",
    "DUBAN_TEST_FGJ_KEY": "feishu-encrypt-key",
}
LI_JING = "manager4523"  # 县财政局 李静
ZHANG_WEI = "zhangwei01"  # 县发展和改革局 张伟 (his Feishu open_id: ou_zhangwei)


def inbound_config(folder: Path, fake: FakePlatforms, store: str | None = None) -> Path:
    """The example config with 县财政局's chat on DingTalk and 县发展和改革局's on Feishu, both
    receiving, and the two liaisons bound to their platform user ids."""
    text = (ROOT / "examples/duban.toml").read_text(encoding="utf-8")
    text = text.replace("sqlite:///var/duban.db", store or f"sqlite:///{folder}/duban.db")
    text = text.replace("allowed_webhook_hosts = []", f'allowed_webhook_hosts = ["{fake.host}"]')
    text = _replaced(
        text,
        'name = "czj"   # 县财政局\nplatform = "console"',
        f'name = "czj"   # 县财政局\nplatform = "dingtalk"\nwebhook = "{fake.add_dingtalk()}"\n'
        'display_name = "县财政局"\n'
        'inbound = { app_secret_env = "DUBAN_TEST_CZJ_APP_SECRET" }',
    )
    text = _replaced(
        text,
        'name = "fgj"   # 县发展和改革局\nplatform = "console"',
        f'name = "fgj"   # 县发展和改革局\nplatform = "feishu"\nwebhook = "{fake.add_feishu()}"\n'
        'inbound = { verification_token_env = "DUBAN_TEST_FGJ_TOKEN", '
        'encrypt_key_env = "DUBAN_TEST_FGJ_KEY" }',
    )
    text = _replaced(
        text,
        '{ name = "李静", mobile = "13800000002" }',
        f'{{ name = "李静", mobile = "13800000002", users = ["{LI_JING}"] }}',
    )
    text = _replaced(
        text,
        '{ name = "张伟", mobile = "13800000001" }',
        f'{{ name = "张伟", mobile = "13800000001", users = ["{ZHANG_WEI}", "ou_zhangwei"] }}',
    )
    path = folder / "duban.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _replaced(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


@dataclass
class Installation:
    """A served installation with the 2024 task list imported, and the fake group."""

    config: Path
    served: ServeProcess
    fake: FakePlatforms

    def history(self, code: str) -> list[dict[str, Any]]:
        return list(json.loads(duban(self.config, "task", "history", code, "--format", "json")))

    def board(self) -> dict[str, dict[str, Any]]:
        rows = json.loads(duban(self.config, "board", "--format", "json"))
        rows = rows["rows"] if isinstance(rows, dict) else rows
        return {row["code"]: row for row in rows}

    def audit(self, code: str) -> list[dict[str, Any]]:
        out = duban(self.config, "audit", "log", "--task", code, "--format", "jsonl")
        return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def secrets_env() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in SECRETS}
    os.environ.update(SECRETS)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def serve_installation(folder: Path, fake: FakePlatforms, store: str | None = None) -> Installation:
    config = inbound_config(folder, fake, store)
    duban(config, "import", str(ROOT / "examples/tasks-2024.csv"))
    served = start_serve(config, folder / "logs", "--no-scheduler")
    return Installation(config, served, fake)


@pytest.fixture(scope="module")
def installation(
    tmp_path_factory: pytest.TempPathFactory, secrets_env: None
) -> Iterator[Installation]:
    with FakePlatforms() as fake:
        found = serve_installation(tmp_path_factory.mktemp("inbound"), fake)
        try:
            yield found
        finally:
            found.served.stop()


def until(found: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Wait for a condition the server makes true after answering (its answer in the group)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("the condition did not come true in time")


class Group:
    """One DingTalk group as the robot's callbacks see it: its session webhook at the fake."""

    def __init__(self, site: Installation, title: str = "县财政局督办群") -> None:
        self.site = site
        self.token = f"session{time.monotonic_ns()}"
        self.session = site.fake.add_dingtalk(self.token)
        self.title = title
        url = f"{site.served.url}/api/v1/inbound/dingtalk/czj"
        self.robot = DingTalkCallbacks(url, SECRETS["DUBAN_TEST_CZJ_APP_SECRET"])
        self.last_raw = b""

    def answers(self) -> list[Accepted]:
        return self.site.fake.messages("dingtalk", robot=self.token)

    def body(self, text: str, sender: str, **extra: Any) -> dict[str, Any]:
        return self.robot.body(
            text,
            sender_staff_id=sender,
            sender_nick=extra.pop("nick", ""),
            conversation_title=self.title,
            session_webhook=self.session,
            **extra,
        )

    def post(self, body: dict[str, Any], **signing: Any) -> httpx.Response:
        headers, raw = self.robot.request(body, **signing)
        self.last_raw = raw
        return httpx.post(self.robot.url, content=raw, headers=headers, timeout=10.0)

    def say(self, text: str, sender: str = LI_JING) -> str:
        """Send `text` as `sender`; the answer that reached the group."""
        before = len(self.answers())
        answer = self.post(self.body(text, sender))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"msgtype": "empty"}  # the answer goes by the session webhook
        return str(until(lambda: self.answers()[before:])[0].text)


def _events(history: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in history if e["type"] == kind]


# ---- acceptance 1 and 5: every command, its event, its answer, the board, the trail ----------


def test_each_command_becomes_its_event_and_is_answered_in_the_group(
    installation: Installation,
) -> None:
    group = Group(installation)

    assert group.say("签收 2024-19") == "李静：2024-19 已签收"
    claimed = _events(installation.history("2024-19"), "ReformTask.Claimed")
    assert claimed[0]["actor"] == "liaison:县财政局/李静"
    assert claimed[0]["via"].startswith("chat:")

    said = group.say("2024-19 进展 百分之六十 出让细则已起草")
    assert said == "李静：2024-19 进展已报送（60%）"
    raw = group.last_raw
    report = _events(installation.history("2024-19"), "ReformTask.ProgressReported")[-1]
    assert (report["percent"], report["text"]) == (60, "出让细则已起草")
    assert installation.board()["2024-19"]["percent"] == 60

    said = group.say("2024-19 延期 2024-09-30 资金测算需要更多时间")
    assert said == "李静：2024-19 已申请延期至 2024-09-30"
    extension = _events(installation.history("2024-19"), "ReformTask.ExtensionRequested")
    assert extension[-1]["reason"] == "资金测算需要更多时间"

    mine = group.say("我的任务")
    assert mine.startswith("李静的待办任务")
    assert "2024-19" in mine
    assert "60%" in mine

    said = group.say("2024-19 销号 实施办法已印发")
    assert said == "李静：2024-19 已申请办结", said
    assert _events(installation.history("2024-19"), "ReformTask.CompletionSubmitted")

    helped = group.say("帮助")
    assert "签收 2024-03" in helped
    not_understood = group.say("今天天气不错")
    assert "可用指令" in not_understood
    assert not not_understood.startswith("可用指令")

    # acceptance 5: the trail shows the message, the digest of its raw body, and the event
    trail = installation.audit("2024-19")
    digest = hashlib.sha256(raw).hexdigest()
    entry = next(
        e for e in trail if e["type"] == "InboundMessage.Received" and digest in e["summary"]
    )
    assert entry["summary"].startswith(
        "县财政局 李静 在县财政局督办群回复：2024-19 进展 百分之六十 出让细则已起草"
        f"（原文摘要 SHA-256 {digest}）；已办理"
    ), entry["summary"]
    assert entry["data"]["task_version"] == report["version"]
    caused = next(
        e for e in trail if e["data"].get("via") == f"chat:{entry['data']['originator_id']}"
    )
    assert caused["type"] == "ReformTask.ProgressReported"
    assert caused["summary"] == "县财政局 李静（群内回复） 报送进展：60%，出让细则已起草"


def test_a_milestone_is_reported_done_by_the_lead_unit(installation: Installation) -> None:
    group = Group(installation, "县发展和改革局工作群")
    task = json.loads(duban(installation.config, "task", "show", "2024-01", "--format", "json"))
    name = task["milestones"][0]["name"]
    assert group.say("2024-01 签收", sender=ZHANG_WEI) == "张伟：2024-01 已签收"
    said = group.say(f"2024-01 节点完成 {name}", sender=ZHANG_WEI)
    assert said == f"张伟：2024-01 阶段节点「{name}」已完成"
    closed = _events(installation.history("2024-01"), "ReformTask.MilestoneClosed")
    assert [(e["name"], e["via"], e["through"][:5]) for e in closed] == [(name, "report", "chat:")]


# ---- acceptance 2: what changes nothing ----------------------------------------------------


def test_a_bad_signature_a_stale_timestamp_and_a_replay_change_nothing(
    installation: Installation,
) -> None:
    group = Group(installation)
    before = installation.history("2024-19")
    body = group.body("2024-19 进展 70% 已报审", LI_JING)

    assert group.post(body, sign="AAAA" + "=" * 40).status_code == 401
    stale = int((time.time() - 3601) * 1000)
    assert group.post(body, timestamp_ms=stale).status_code == 403
    assert installation.history("2024-19") == before
    assert "已报审" not in installation.served.output()  # refusals are logged without the body
    assert "inbound_refused" in installation.served.output()

    assert group.post(body).status_code == 200  # the first valid delivery is done ...
    answered = len(until(group.answers))
    after = installation.history("2024-19")
    replay = group.post(body)  # ... a replay of it, signed anew, is refused and changes nothing
    assert replay.status_code == 403
    assert replay.json()["error"] == "replayed"
    assert installation.history("2024-19") == after == [*before, after[-1]]
    assert len(group.answers()) == answered


def test_a_stranger_and_another_units_liaison_are_refused_politely(
    installation: Installation,
) -> None:
    group = Group(installation)
    before = installation.history("2024-19")

    said = group.say("2024-19 进展 90% 代为报送", sender="stranger-007")
    assert said.startswith("您的账号尚未在督办系统中登记")
    said = group.say("签收 2024-19", sender=ZHANG_WEI)
    assert said.startswith("张伟：未办理。联络员（县发展和改革局）无权"), said
    said = group.say("2099-99 进展 10% 无此任务")
    assert said.startswith("李静：未办理。"), said
    assert installation.history("2024-19") == before


# ---- the replay on both stores ---------------------------------------------------------------


def test_a_replayed_msgid_is_recorded_once_on_either_store(
    tmp_path: Path, store_url: str, secrets_env: None
) -> None:
    with FakePlatforms() as fake:
        site = serve_installation(tmp_path, fake, store_url)
        try:
            group = Group(site)
            body = group.body("签收 2024-19", LI_JING, msg_id="msg-replayed-1")
            first, second = group.post(body), group.post(body)
            assert (first.status_code, second.status_code) == (200, 403)
            until(group.answers)
            claimed = _events(site.history("2024-19"), "ReformTask.Claimed")
            trail = [e for e in site.audit("2024-19") if e["type"] == "InboundMessage.Received"]
        finally:
            site.served.stop()
    assert len(claimed) == 1
    assert len(trail) == 1
    assert len(group.answers()) == 1
