"""The API routes for milestones, co-unit reports and plan versions (issue 12), on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from duban.api import create_app
from duban.app.access import TokenRegistry
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from tests.conftest import FakeClock
from tests.support.api import CO_UNIT, LEAD_UNIT, Tokens, bearer, issue_tokens, sample_rows
from tests.support.api import write_config as write_api_config


class Api:
    def __init__(self, client: TestClient, tokens: Tokens) -> None:
        self.client = client
        self.tokens = tokens

    def post(self, path: str, token: str, json: object = None) -> httpx.Response:
        return self.client.post(f"/api/v1{path}", headers=bearer(token), json=json)

    def get(self, path: str, token: str) -> httpx.Response:
        return self.client.get(f"/api/v1{path}", headers=bearer(token))


@pytest.fixture
def api(tmp_path: Path, clock: FakeClock) -> Iterator[Api]:
    url = f"sqlite:///{tmp_path / 'duban.db'}"
    services = bootstrap(load_config(write_api_config(tmp_path, url)), clock=clock)
    tokens = issue_tokens(TokenRegistry(services.ledger))
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        api = Api(client, tokens)
        answer = api.client.post(
            "/api/v1/tasks/import", headers=bearer(tokens.office), json={"rows": sample_rows()}
        )
        assert answer.status_code == 200, answer.text
        yield api
    services.ledger.close()


def test_a_co_unit_reports_before_the_claim_and_the_task_and_board_show_it(api: Api) -> None:
    answer = api.post("/tasks/2024-01/reports", api.tokens.co, {"text": "配合测算", "percent": 50})
    assert answer.status_code == 200, answer.text
    task = api.get("/tasks/2024-01", api.tokens.auditor).json()
    assert task["status"] == "assigned"
    assert task["percent"] == 0
    assert [(r["unit"], r["text"]) for r in task["co_unit_reports"]] == [(CO_UNIT, "配合测算")]
    board = api.get(f"/board?unit={LEAD_UNIT}", api.tokens.auditor).json()
    (row,) = [r for r in board["rows"] if r["code"] == "2024-01"]
    assert [(r["unit"], r["text"]) for r in row["co_unit_reports"]] == [(CO_UNIT, "配合测算")]
    refused = api.post("/tasks/2024-01/reports", api.tokens.lead, {"text": "x", "percent": 5})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "not_claimed"


def test_milestones_close_by_report_and_by_the_office(api: Api) -> None:
    lead, office = api.tokens.lead, api.tokens.office
    assert api.post("/tasks/2024-01/claim", lead).status_code == 200
    body = {"text": "方案已印发", "percent": 40, "milestone": "方案制定"}
    answer = api.post("/tasks/2024-01/reports", lead, body)
    assert answer.status_code == 200, answer.text
    task = api.get("/tasks/2024-01", office).json()
    assert task["closed_milestones"] == ["方案制定"]
    again = api.post("/tasks/2024-01/milestones/close", office, {"name": "方案制定", "reason": "x"})
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "milestone_already_closed"
    unknown = api.post("/tasks/2024-01/milestones/close", office, {"name": "无", "reason": "x"})
    assert unknown.json()["error"] == "milestone_not_found"
    forbidden = api.post("/tasks/2024-01/milestones/close", lead, {"name": "无", "reason": "x"})
    assert forbidden.status_code == 403


def test_a_plan_is_returned_resubmitted_and_approved_closing_its_milestone(api: Api) -> None:
    lead, office = api.tokens.lead, api.tokens.office
    submitted = api.post(
        "/plans",
        lead,
        {"plan_code": "P-1", "title": "方案", "task_code": "2024-01", "milestone": "方案制定"},
    )
    assert submitted.status_code == 201, submitted.text
    bad = api.post(
        "/plans",
        lead,
        {"plan_code": "P-2", "title": "方案", "task_code": "2024-01", "milestone": "无"},
    )
    assert bad.json()["error"] == "milestone_not_found"
    api.post("/plans/P-1/reviews", office, {"verdict": "return", "text": "缺少测算"})
    again = api.post("/plans/P-1/versions", lead, {"title": "方案（修改稿）", "text": "补充测算"})
    assert again.status_code == 200, again.text
    assert again.json()["revision"] == 2
    done = api.post("/plans/P-1/reviews", office, {"verdict": "approve", "text": "同意"}).json()
    assert done["status"] == "approved"
    assert [v["title"] for v in done["versions"]] == ["方案", "方案（修改稿）"]
    assert [(r["kind"], r["reason"]) for r in done["reviews"]] == [
        ("return", "缺少测算"),
        ("approve", "同意"),
    ]
    task = api.get("/tasks/2024-01", office).json()
    assert task["closed_milestones"] == ["方案制定"]
