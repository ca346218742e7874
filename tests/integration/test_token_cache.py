"""A serving process keeps the identities of the tokens it has checked (issue 18), yet a token
revoked or a person disabled elsewhere — the CLI, another `duban serve` on the same store — is
refused on the very next request, and a token issued elsewhere works at once. Real `duban
serve` processes and the real CLI, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api import LEAD_UNIT, row, write_config
from tests.support.server import ServeProcess, duban, start_serve


def _issue(config: Path, *args: str) -> dict[str, str]:
    issued: dict[str, str] = json.loads(duban(config, "token", "issue", "--format", "json", *args))
    return issued


def _me(server: ServeProcess, token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{server.url}/api/v1/me", headers=headers, timeout=30)


def _post(server: ServeProcess, token: str, path: str, body: object = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(f"{server.url}/api/v1{path}", json=body, headers=headers, timeout=30)


@pytest.fixture
def config(store_url: str, tmp_path: Path) -> Path:
    path = write_config(tmp_path, store_url)
    duban(path, "init")
    return path


@pytest.fixture
def server(config: Path, tmp_path: Path) -> Iterator[ServeProcess]:
    serving = start_serve(config, tmp_path / "logs", "--no-scheduler")
    try:
        yield serving
    finally:
        serving.stop()


def test_a_cached_token_is_refused_at_once_after_the_cli_revokes_it(
    config: Path, server: ServeProcess
) -> None:
    office = _issue(config, "--role", "office")
    liaison = _issue(config, "--role", "liaison", "--unit", LEAD_UNIT, "--name", "张伟")
    for _ in range(3):  # checked, then answered from the cache
        assert _me(server, office["token"]).status_code == 200
        assert _me(server, liaison["token"]).status_code == 200
    # Writes that are not about tokens move the store on; the cache stays valid across them.
    assert _post(server, office["token"], "/tasks", row("T-1")).status_code == 201
    assert _post(server, liaison["token"], "/tasks/T-1/claim").status_code == 200
    report = {"text": "方案已起草", "percent": 10}
    assert _post(server, liaison["token"], "/tasks/T-1/reports", report).status_code == 200

    duban(config, "token", "revoke", liaison["token_id"])

    refused = _me(server, liaison["token"])
    assert refused.status_code == 401
    assert refused.json()["message"] == "访问令牌已吊销"
    assert _post(server, liaison["token"], "/tasks/T-1/reports", report).status_code == 401
    assert _me(server, office["token"]).status_code == 200  # the others still work

    fresh = _issue(config, "--role", "liaison", "--unit", LEAD_UNIT, "--name", "张伟")
    assert _me(server, fresh["token"]).status_code == 200  # issued elsewhere: works at once
    assert _post(server, fresh["token"], "/tasks/T-1/reports", report).status_code == 200


def test_a_cached_token_is_refused_at_once_after_its_person_is_disabled(
    config: Path, server: ServeProcess
) -> None:
    duban(config, "invite", "张伟")  # the liaison's account, which the token is bound to
    liaison = _issue(config, "--role", "liaison", "--unit", LEAD_UNIT, "--name", "张伟")
    office = _issue(config, "--role", "office")
    for _ in range(3):
        assert _me(server, liaison["token"]).status_code == 200

    duban(config, "person", "disable", "张伟")

    refused = _me(server, liaison["token"])
    assert refused.status_code == 401
    assert refused.json()["message"] == "该人员已被停用，令牌已失效"
    assert _me(server, office["token"]).status_code == 200


def test_a_token_revoked_through_another_server_is_refused_by_this_one(
    config: Path, server: ServeProcess, tmp_path: Path
) -> None:
    office = _issue(config, "--role", "office")
    auditor = _issue(config, "--role", "auditor")
    other = start_serve(config, tmp_path / "logs-other", "--no-scheduler")
    try:
        for serving in (server, other):
            assert _me(serving, auditor["token"]).status_code == 200
            assert _me(serving, auditor["token"]).status_code == 200
        revoked = _post(other, office["token"], f"/tokens/{auditor['token_id']}/revoke", {})
        assert revoked.status_code == 200, revoked.text
        for serving in (server, other):
            assert _me(serving, auditor["token"]).status_code == 401
    finally:
        other.stop()


def test_a_write_with_a_cached_token_revoked_since_is_refused_and_not_recorded(
    config: Path, server: ServeProcess
) -> None:
    """A known token skips the store in the middleware; the endpoint's thread confirms it
    (`duban.api.deps.ConfirmingRoute`) before it acts: the first request after the
    revocation, a write, is refused 401 and nothing is recorded."""
    office = _issue(config, "--role", "office")
    liaison = _issue(config, "--role", "liaison", "--unit", LEAD_UNIT, "--name", "张伟")
    assert _post(server, office["token"], "/tasks", row("T-1")).status_code == 201
    assert _post(server, liaison["token"], "/tasks/T-1/claim").status_code == 200
    report = {"text": "方案已起草", "percent": 10}
    assert _post(server, liaison["token"], "/tasks/T-1/reports", report).status_code == 200
    history = {"Authorization": f"Bearer {office['token']}"}
    before = httpx.get(f"{server.url}/api/v1/tasks/T-1/history", headers=history, timeout=30)

    duban(config, "token", "revoke", liaison["token_id"])

    refused = _post(server, liaison["token"], "/tasks/T-1/reports", report)
    assert refused.status_code == 401
    assert refused.json()["message"] == "访问令牌已吊销"
    assert refused.headers["www-authenticate"] == "Bearer"
    after = httpx.get(f"{server.url}/api/v1/tasks/T-1/history", headers=history, timeout=30)
    assert after.json() == before.json()
