"""The notices are queued right after the command that calls for them, through the HTTP API and
the command line, not only at the next sweep."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from duban.api import create_app
from duban.app.access import TokenRegistry
from duban.app.services import Services
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from tests.conftest import FakeClock
from tests.support.api import bearer, issue_tokens, sample_rows, write_config
from tests.support.cli_zygote import run_cli
from tests.support.sweep import queued


def kinds(services: Services) -> list[tuple[str, str]]:
    return [(m.kind, m.title.split("｜")[0]) for m in queued(services)]


def test_the_api_queues_the_notices_with_the_import_and_the_decision(
    tmp_path: Path, sqlite_url: str, clock: FakeClock
) -> None:
    services = bootstrap(load_config(write_config(tmp_path, sqlite_url)), clock=clock)
    tokens = issue_tokens(TokenRegistry(services.ledger))
    with TestClient(create_app(services), raise_server_exceptions=False) as client:

        def post(path: str, token: str, body: Any = None) -> None:
            answer = client.post(f"/api/v1{path}", json=body or {}, headers=bearer(token))
            assert answer.status_code in (200, 201), answer.text

        post("/tasks/import", tokens.office, {"rows": sample_rows()})
        assert set(kinds(services)) == {("assignment_notice", "交办通知")}
        dry = {"rows": sample_rows(), "dry_run": True}
        post("/tasks/import", tokens.office, dry)
        told = len(queued(services))

        post("/tasks/2024-01/claim", tokens.lead)
        post("/tasks/2024-01/completion/submit", tokens.lead, {"summary": "已完成", "evidence": []})
        post("/tasks/2024-01/completion/return", tokens.office, {"reason": "缺少验收材料"})

    found = kinds(services)
    assert found[told:] == [
        ("submission_notice", "销号申请"),  # to the office, queued with the submission
        *[("decision_notice", "办结申请退回")] * 2,  # the unit's and the official's
    ]
    services.ledger.close()


def test_the_command_line_queues_the_notices_at_once(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path, sqlite_url)
    (tmp_path / "tasks.csv").write_text(
        "编号,改革任务,牵头单位,配合单位,完成时限\n2024-01,推进改革,县发展和改革局,县财政局,2099-06-30\n",
        encoding="utf-8",
    )
    env = {**os.environ, "DUBAN_CONFIG": str(config), "DUBAN_NOW": "2026-12-02T10:00"}

    def duban(*args: str) -> str:
        done = run_cli([*args], env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done.stdout

    duban("import", "tasks.csv")
    duban("task", "claim", "2024-01", "--as", "liaison:县发展和改革局/张伟")
    duban("task", "request-extension", "2024-01", "--to", "2099-12-31", "--reason", "需批复",
          "--as", "liaison:县发展和改革局/张伟")  # fmt: skip
    duban("task", "deny-extension", "2024-01", "--reason", "理由不充分")
    duban("instruction", "issue", "2024-01", "--text", "请加快推进", "--answer-by", "2026-12-10")
    duban("accountability", "record", "2024-01", "--unit", "县发展和改革局", "--kind", "约谈",
          "--reason", "进度滞后", "--document", "县改办〔2026〕1号")  # fmt: skip

    services = bootstrap(load_config(config))
    found = kinds(services)
    # 县发展和改革局 and 县财政局 share the chat "fgj": one 交办通知 there. No sweep ran: each
    # decision was queued by the command that made it.
    assert found == [
        ("assignment_notice", "交办通知"),
        ("submission_notice", "延期申请"),  # the liaison's request, told to the office
        ("decision_notice", "延期申请未获批准"),
        ("decision_notice", "领导批示"),
        ("decision_notice", "追责问责"),
    ]
    services.ledger.close()


def test_a_store_away_right_after_a_command_defers_the_notices_without_a_traceback(
    tmp_path: Path, sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seen in a clean CI run: PostgreSQL restarted between a stored command and its notices
    step; the step must log one line (the next sweep queues the notice), not a traceback."""
    import duban.app.notices as notices

    services = bootstrap(load_config(write_config(tmp_path, sqlite_url)), clock=clock)

    def away(*_args: Any) -> None:
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(notices, "queue_notices", away)
    with capture_logs() as logs:
        assert notices.queue_notices_now(services) is None
    assert [(e["event"], e.get("reason"), "exc_info" in e) for e in logs] == [
        ("notices_deferred", "store_unavailable", False)
    ]
    services.ledger.close()
