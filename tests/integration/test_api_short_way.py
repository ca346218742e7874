"""The progress report's short way (`duban.api.fast_path`) answers exactly as FastAPI's route.

Two apps on two stores built the same way, one with the short way and one without, get the same
requests in the same order; every answer (status, body bytes, content type) must be the same,
and what the stores hold afterwards must read the same. A spy on the short way's command step
shows which requests it carried (the well-formed ones) and which it passed on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import duban.api.fast_path as fast_path
from duban.api import create_app
from duban.app.access import TokenRegistry
from duban.app.services import Services
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from tests.conftest import FakeClock
from tests.support.api import Tokens, bearer, issue_tokens, sample_rows, write_config


@dataclass
class Side:
    services: Services
    client: TestClient
    tokens: Tokens

    def send(self, path: str, who: str, body: bytes, content_type: str) -> tuple[Any, ...]:
        token = getattr(self.tokens, who) if who else None
        headers = {**bearer(token), "Content-Type": content_type}
        answer = self.client.post(f"/api/v1{path}", headers=headers, content=body)
        return answer.status_code, answer.content, answer.headers.get("content-type")

    def history(self, code: str) -> list[tuple[Any, ...]]:
        office = bearer(self.tokens.office)
        answer = self.client.get(f"/api/v1/tasks/{code}/history", headers=office)
        assert answer.status_code == 200, answer.text
        keep = ("type", "version", "percent", "text", "actor")  # not the times, nor token ids
        return [tuple(e.get(k) for k in keep) for e in answer.json()]


@pytest.fixture
def sides(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Side, Side]]:
    built: list[Side] = []
    for name, short in (("short", True), ("long", False)):
        workdir = tmp_path / name
        workdir.mkdir()
        url = f"sqlite:///{workdir / 'duban.db'}"
        services = bootstrap(load_config(write_config(workdir, url)), clock=clock)
        tokens = issue_tokens(TokenRegistry(services.ledger))
        app = create_app(services, short_way=short)
        client = TestClient(app, raise_server_exceptions=False).__enter__()
        side = Side(services, client, tokens)
        rows = json.dumps({"rows": sample_rows()}).encode()
        assert side.send("/tasks/import", "office", rows, "application/json")[0] == 200
        assert side.send("/tasks/2024-01/claim", "lead", b"", "application/json")[0] == 200
        built.append(side)
    yield built[0], built[1]
    for side in built:
        side.client.__exit__(None, None, None)
        side.services.ledger.close()


@pytest.fixture
def carried(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The codes of the reports the short way carried out itself."""
    seen: list[str] = []
    real = fast_path._report

    def spy(ctx: Any, code: str, body: Any, who: Any) -> Any:
        seen.append(code)
        return real(ctx, code, body, who)

    monkeypatch.setattr(fast_path, "_report", spy)
    return seen


def _utf8(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


JSON = "application/json"
ANSWERING = _utf8({"text": "回复批示", "percent": 45, "answers": ["all"]})
# (path, caller, body, content type, carried by the short way)
CASES: list[tuple[str, str, bytes, str, bool]] = [
    ("/tasks/2024-01/reports", "lead", _utf8({"text": "方案已起草", "percent": 40}), JSON, True),
    ("/tasks/2024-01/reports", "lead", json.dumps({"text": "征求意见", "percent": 50}).encode(),
     "application/json; charset=utf-8", True),  # \u escapes, a charset
    ("/tasks/2024-01/reports", "co", _utf8({"text": "配合单位报送", "percent": 10}), JSON, True),
    ("/tasks/2024-01/reports", "other_liaison", _utf8({"text": "越权", "percent": 1}), JSON, True),
    ("/tasks/2024-01/reports", "auditor", _utf8({"text": "审计", "percent": 1}), JSON, True),
    ("/tasks/2099-99/reports", "lead", _utf8({"text": "没有的任务", "percent": 1}), JSON, True),
    ("/tasks/2024-02/reports", "lead", _utf8({"text": "未签收", "percent": 1}), JSON, True),
    ("/tasks/2024-01/reports", "lead", ANSWERING, JSON, True),
    ("/tasks/2024-01/reports", "lead", _utf8({"text": "字符串", "percent": "40"}), JSON, False),
    ("/tasks/2024-01/reports", "lead", _utf8({"text": "超出", "percent": 140}), JSON, False),
    ("/tasks/2024-01/reports", "lead", _utf8({"text": "多余", "percent": 1, "x": 1}), JSON, False),
    ("/tasks/2024-01/reports", "lead", b'{"text": "NUL\\u0000", "percent": 1}', JSON, False),
    ("/tasks/2024-01/reports", "lead", b'{"text": "\\ud800", "percent": 1}', JSON, False),
    ("/tasks/2024-01/reports", "lead", b'{"text": "broken', JSON, False),
    ("/tasks/2024-01/reports", "lead", _utf8({"text": "纯文", "percent": 1}), "text/plain", False),
    ("/tasks/2024-01/reports?unit=x", "lead", _utf8({"text": "查询", "percent": 1}), JSON, False),
    ("/tasks/2024-01/reports", "", _utf8({"text": "无令牌", "percent": 1}), JSON, False),
    ("/tasks/2024-01/reports", "revoked", _utf8({"text": "已吊销", "percent": 1}), JSON, False),
    ("/tasks/bad code/reports", "lead", _utf8({"text": "编号", "percent": 1}), JSON, False),
    ("/tasks/2024-01/reports", "lead", _utf8({"text": "最后一次", "percent": 60}), JSON, True),
]  # fmt: skip


def test_each_request_is_answered_the_same_both_ways(
    sides: tuple[Side, Side], carried: list[str]
) -> None:
    short, long = sides
    for path, who, body, content_type, takes in CASES:
        before = len(carried)
        assert short.send(path, who, body, content_type) == long.send(path, who, body, content_type)
        if who:  # the long side never uses the short way: only the short side's calls count
            assert (len(carried) > before) == takes, (path, who, body)
    assert short.history("2024-01") == long.history("2024-01")
    assert len(carried) == sum(takes for *_, takes in CASES)


def test_a_token_revoked_after_it_was_cached_is_refused_by_the_short_way(
    sides: tuple[Side, Side], carried: list[str]
) -> None:
    short, long = sides
    body = _utf8({"text": "吊销前", "percent": 20})
    for side in sides:  # the lead's token is now known to each registry
        assert side.send("/tasks/2024-01/reports", "lead", body, JSON)[0] == 200
        token_id = side.tokens.lead.split("_")[1]
        TokenRegistry(side.services.ledger).revoke(token_id, _office(), "人员调整")
    after = _utf8({"text": "吊销后", "percent": 30})
    refused = short.send("/tasks/2024-01/reports", "lead", after, JSON)
    assert refused[0] == 401
    assert refused == long.send("/tasks/2024-01/reports", "lead", after, JSON)
    assert carried == ["2024-01", "2024-01"]  # it took the request, and refused it in the thread
    assert short.history("2024-01") == long.history("2024-01")


def _office() -> Any:
    from tests.support.api import OFFICE

    return OFFICE
