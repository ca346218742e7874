"""Replies from a Feishu group become ledger events (issue 17), against a real `duban serve`.

The platform's side is `tests.fakes.callbacks.FeishuCallbacks` (AES-256-CBC with pycryptodome,
the request signature with hashlib: not the server's implementations); the answers reach the
group through the channel's webhook robot at `tests.fakes.platforms`. Acceptance 3: the URL
verification, an encrypted event, and a body that fails decryption; a replayed event_id too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.fakes.callbacks import FeishuCallbacks
from tests.fakes.platforms import FakePlatforms
from tests.integration.test_inbound_dingtalk import (
    SECRETS,
    Installation,
    secrets_env,
    serve_installation,
    until,
)

__all__ = ["secrets_env"]  # the fixture, shared with the DingTalk tests


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, secrets_env: None) -> Iterator[Installation]:
    with FakePlatforms() as fake:
        found = serve_installation(tmp_path_factory.mktemp("feishu"), fake)
        try:
            yield found
        finally:
            found.served.stop()


def _bot(site: Installation) -> FeishuCallbacks:
    url = f"{site.served.url}/api/v1/inbound/feishu/fgj"
    return FeishuCallbacks(url, SECRETS["DUBAN_TEST_FGJ_TOKEN"], SECRETS["DUBAN_TEST_FGJ_KEY"])


def _said(site: Installation, bot: FeishuCallbacks, text: str, **ids: str) -> str:
    before = len(site.fake.messages("feishu"))
    answer = bot.post(bot.message_event(text, **(ids or {"open_id": "ou_zhangwei"})))
    assert answer.status_code == 200, answer.text
    return str(until(lambda: site.fake.messages("feishu")[before:])[0].text)


def test_the_url_verification_is_answered_with_its_challenge(site: Installation) -> None:
    bot = _bot(site)
    answer = bot.post(bot.url_verification("challenge-7f3a"))
    assert (answer.status_code, answer.json()) == (200, {"challenge": "challenge-7f3a"})
    wrong = FeishuCallbacks(bot.url, "not-the-token", SECRETS["DUBAN_TEST_FGJ_KEY"])
    assert wrong.post(wrong.url_verification()).status_code == 401


def test_an_encrypted_message_becomes_its_event_and_is_answered(site: Installation) -> None:
    bot = _bot(site)
    assert "张伟：2024-01 已签收" in _said(site, bot, "签收 2024-01")
    said = _said(site, bot, "2024-01 报送 30％ 项目谋划清单已完成", user_id="zhangwei01")
    assert "张伟：2024-01 进展已报送（30%）" in said
    history = json.loads(_cli(site, "task", "history", "2024-01", "--format", "json"))
    report = [e for e in history if e["type"] == "ReformTask.ProgressReported"][-1]
    assert (report["percent"], report["text"], report["via"][:5]) == (
        30,
        "项目谋划清单已完成",
        "chat:",
    )


def test_a_body_failing_decryption_or_its_signature_is_refused(site: Installation) -> None:
    bot = _bot(site)
    garbage = json.dumps({"encrypt": "bm90IGFlcyBhdCBhbGwh"}).encode()
    assert bot.post({}, raw=garbage).status_code == 403
    event = bot.message_event("签收 2024-05", open_id="ou_zhangwei")
    assert bot.post(event, signature="0" * 64).status_code == 401
    history = json.loads(_cli(site, "task", "history", "2024-05", "--format", "json"))
    assert [e["type"] for e in history] == ["ReformTask.Assigned"]


def test_a_replayed_event_id_changes_nothing(site: Installation) -> None:
    bot = _bot(site)
    event = bot.message_event("2024-01 进展 40% 申报材料已报送", open_id="ou_zhangwei")
    before = len(site.fake.messages("feishu"))
    assert bot.post(event).status_code == 200
    until(lambda: site.fake.messages("feishu")[before:])
    history = _cli(site, "task", "history", "2024-01", "--format", "json")
    assert bot.post(event).status_code == 403  # the same event_id again: refused, a no-op
    assert _cli(site, "task", "history", "2024-01", "--format", "json") == history
    assert len(site.fake.messages("feishu")) == before + 1


def _cli(site: Installation, *args: str) -> str:
    from tests.support.server import duban

    return duban(site.config, *args)
