"""领导批示 and 追责问责 over the HTTP API (issue 12): the roles (a liaison cannot issue, an
official only on the tasks they lead, only the lead unit answers, only the office records a
measure), the field checks, and what the answers show."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from duban.api import create_app
from duban.app import commands as cmd
from duban.app.access import TokenRegistry
from duban.app.services import Services
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from tests.conftest import FakeClock
from tests.support.api import (
    CO_UNIT,
    LEAD_UNIT,
    OFFICE,
    OFFICIAL,
    OTHER_UNIT,
    Tokens,
    bearer,
    issue_tokens,
    row,
    write_config,
)

CODE = "2024-01"
TASK = f"/api/v1/tasks/{CODE}/instructions"


@dataclass
class Api:
    services: Services
    client: TestClient
    tokens: Tokens

    def call(self, method: str, path: str, caller: str, body: Any = None) -> Any:
        token = getattr(self.tokens, caller)
        return self.client.request(method, path, headers=bearer(token), json=body)

    def events(self) -> int:
        return self.services.ledger.recorder.max_notification_id() or 0


@pytest.fixture
def api(tmp_path: Path, sqlite_url: str, clock: FakeClock) -> Iterator[Api]:
    services = bootstrap(load_config(write_config(tmp_path, sqlite_url)), clock=clock)
    tokens = issue_tokens(TokenRegistry(services.ledger))
    services.ledger.assign(cmd.AssignTask.model_validate(row(CODE)), OFFICE)
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        yield Api(services, client, tokens)
    services.ledger.close()


def test_who_may_issue_an_instruction(api: Api) -> None:
    before = api.events()
    for caller in ("lead", "co", "other_liaison", "other_official", "auditor"):
        answer = api.call("POST", TASK, caller, {"text": "请加快推进"})
        assert answer.status_code == 403, (caller, answer.text)
        assert answer.json()["error"] == "forbidden"
    assert api.events() == before
    first = api.call("POST", TASK, "official", {"text": "请加快推进", "answer_by": "2024-03-08"})
    assert first.status_code == 201, first.text
    assert first.json()["ref"] == f"{CODE}/1"
    assert first.json()["issued_by_name"] == OFFICIAL
    second = api.call("POST", TASK, "office", {"text": "请跟踪"})
    assert (second.status_code, second.json()["ref"]) == (201, f"{CODE}/2")
    shown = api.call("GET", f"/api/v1/tasks/{CODE}", "co").json()["open_instructions"]
    assert [(i["ref"], i["text"], i["answer_by"]) for i in shown] == [
        (f"{CODE}/1", "请加快推进", "2024-03-08"),
        (f"{CODE}/2", "请跟踪", None),
    ]
    board = api.call("GET", "/api/v1/board", "office").json()["rows"]
    waiting = {row["code"]: row["open_instructions"] for row in board}
    assert waiting[CODE] == 2
    assert all(n == 0 for code, n in waiting.items() if code != CODE)
    listed = api.call("GET", TASK, "lead").json()
    assert [(i["ref"], i["answered"], i["overdue"]) for i in listed] == [
        (f"{CODE}/1", False, False),
        (f"{CODE}/2", False, False),
    ]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": ""}, 422),
        ({"text": "x", "answer_by": "2024-02-01"}, 422),  # before today (2024-03-01)
        ({"text": "x", "answer_by": "2100-01-01"}, 422),
        ({"text": "x", "answer_by": "soon"}, 422),
        ({"text": "x", "extra": 1}, 422),
    ],
)
def test_a_bad_instruction_is_refused_with_the_field_named(
    api: Api, body: dict[str, Any], status: int
) -> None:
    before = api.events()
    answer = api.call("POST", TASK, "office", body)
    assert answer.status_code == status, answer.text
    assert answer.json()["message"]
    assert api.events() == before


def test_only_the_lead_unit_answers_and_only_once(api: Api) -> None:
    api.call("POST", TASK, "official", {"text": "请加快推进", "answer_by": "2024-03-08"})
    path = f"{TASK}/1/answer"
    for caller in ("co", "other_liaison", "official", "auditor"):
        assert api.call("POST", path, caller, {"text": "已落实"}).status_code == 403, caller
    assert api.call("POST", f"{TASK}/9/answer", "lead", {"text": "已落实"}).status_code == 404
    done = api.call("POST", path, "lead", {"text": "已落实"})
    assert done.status_code == 200, done.text
    assert (done.json()["answered"], done.json()["answer_text"]) == (True, "已落实")
    assert api.call("GET", f"/api/v1/tasks/{CODE}", "lead").json()["open_instructions"] == []
    rows = api.call("GET", "/api/v1/board", "lead").json()["rows"]
    assert {row["code"]: row["open_instructions"] for row in rows}[CODE] == 0
    again = api.call("POST", path, "lead", {"text": "再答"})
    assert (again.status_code, again.json()["error"]) == (409, "instruction_already_answered")
    assert api.call("GET", "/api/v1/tasks/no-such/instructions", "office").status_code == 404


def test_only_the_office_records_a_measure(api: Api) -> None:
    body = {
        "task_code": CODE,
        "unit": CO_UNIT,
        "kind": "通报批评",
        "reason": "配合不力",
        "document_no": "县改办〔2024〕2号",
    }
    before = api.events()
    for caller in ("lead", "co", "official", "auditor"):
        assert api.call("POST", "/api/v1/accountability", caller, body).status_code == 403
    not_in_task = api.call("POST", "/api/v1/accountability", "office", {**body, "unit": OTHER_UNIT})
    assert not_in_task.status_code == 422
    unknown = api.call("POST", "/api/v1/accountability", "office", {**body, "kind": "警告"})
    assert unknown.status_code == 422
    missing = api.call("POST", "/api/v1/accountability", "office", {**body, "task_code": "none"})
    assert missing.status_code == 404
    assert api.events() == before
    done = api.call("POST", "/api/v1/accountability", "office", body)
    assert done.status_code == 201, done.text
    assert (done.json()["kind"], done.json()["kind_label"]) == ("criticism", "通报批评")
    assert api.call("POST", "/api/v1/accountability", "office", body).status_code == 409
    lead = api.call(
        "POST", "/api/v1/accountability", "office", {**body, "unit": LEAD_UNIT, "kind": "问责"}
    )
    assert lead.status_code == 201
    office_view = api.call("GET", "/api/v1/accountability?year=2024", "office").json()
    assert [m["unit"] for m in office_view] == [CO_UNIT, LEAD_UNIT]
    assert api.call("GET", "/api/v1/accountability?year=2023", "auditor").json() == []
    co_view = api.call("GET", "/api/v1/accountability", "co").json()
    assert [m["unit"] for m in co_view] == [CO_UNIT]
    assert api.call("GET", "/api/v1/accountability?year=1999", "office").status_code == 422


def test_the_lead_units_report_answers_instructions(api: Api) -> None:
    api.call("POST", TASK, "official", {"text": "请报送推进方案", "answer_by": "2024-03-08"})
    api.call("POST", TASK, "office", {"text": "请跟踪"})
    assert api.call("POST", f"/api/v1/tasks/{CODE}/claim", "lead").status_code == 200
    reports = f"/api/v1/tasks/{CODE}/reports"
    before = api.events()
    refused = api.call(
        "POST", reports, "co", {"text": "配合推进", "percent": 10, "answers": ["all"]}
    )
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
    assert "只有牵头单位" in refused.json()["message"]
    bad = api.call("POST", reports, "lead", {"text": "x", "percent": 10, "answers": ["2024-99/1"]})
    assert bad.status_code == 422
    assert "不是任务 2024-01 的批示" in bad.json()["message"]
    assert api.events() == before, "a refused report saves nothing"
    body = {"text": "推进方案已报送", "percent": 30, "answers": [f"{CODE}/1"]}
    done = api.call("POST", reports, "lead", body)
    assert done.status_code == 200, done.text
    assert done.json()["message"].endswith(f"已答复批示 {CODE}/1")
    listed = api.call("GET", TASK, "office").json()
    assert [(i["ref"], i["answered"], i["answer_text"]) for i in listed] == [
        (f"{CODE}/1", True, "推进方案已报送"),
        (f"{CODE}/2", False, None),
    ]
    rest = api.call("POST", reports, "lead", {"text": "已跟踪", "percent": 40, "answers": ["all"]})
    assert rest.status_code == 200, rest.text
    assert api.call("GET", f"/api/v1/tasks/{CODE}", "lead").json()["open_instructions"] == []
    plain = api.call("POST", reports, "lead", {"text": "继续推进", "percent": 50})
    assert plain.status_code == 200, plain.text
