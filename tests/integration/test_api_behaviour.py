"""The HTTP API's behaviour on a real store (SQLite file and PostgreSQL): what callers see."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from domain.reminder import Reminder
from domain.token import token_aggregate_id
from duban.api import create_app
from duban.api.errors import STATUSES, status_of
from duban.app.access import TokenRegistry
from duban.app.errors import Conflict, NoDeadline, PlanNotFound, TaskNotFound
from duban.app.services import Services
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from tests.conftest import FakeClock
from tests.support.api import (
    CO_UNIT,
    HOSTILE_TITLE,
    LEAD_UNIT,
    OTHER_UNIT,
    Tokens,
    bearer,
    issue_tokens,
    row,
    sample_rows,
    write_config,
)
from tests.support.signin import sign_in_app

# An English word in what a person reads (issue 14): none in an error message.
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


@dataclass
class Api:
    services: Services
    client: TestClient
    tokens: Tokens

    def post(self, path: str, token: str, json: Any = None) -> Any:
        if isinstance(json, bytes):  # JSON as sent by a client, e.g. with escapes httpx refuses
            headers = {**bearer(token), "Content-Type": "application/json"}
            return self.client.post(f"/api/v1{path}", headers=headers, content=json)
        return self.client.post(f"/api/v1{path}", headers=bearer(token), json=json)

    def get(self, path: str, token: str) -> Any:
        return self.client.get(f"/api/v1{path}", headers=bearer(token))

    def stored_bytes(self) -> bytes:
        notes = self.services.ledger.recorder.select_notifications(0, 10_000)
        return b"".join(n.topic.encode() + n.state for n in notes)


@pytest.fixture
def api(tmp_path: Path, store_url: str, clock: FakeClock) -> Iterator[Api]:
    services = bootstrap(load_config(write_config(tmp_path, store_url)), clock=clock)
    tokens = issue_tokens(TokenRegistry(services.ledger))
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        api = Api(services, client, tokens)
        answer = api.post("/tasks/import", tokens.office, {"rows": sample_rows()})
        assert answer.status_code == 200, answer.text
        yield api
    services.ledger.close()


def test_a_liaison_claims_reports_and_the_board_shows_it(api: Api) -> None:
    lead = api.tokens.lead
    assert api.post("/tasks/2024-01/claim", lead).status_code == 200
    answer = api.post("/tasks/2024-01/reports", lead, {"text": "方案已起草", "percent": 40})
    assert answer.json()["message"] == "2024-01 进展已报送（40%）"
    board = api.get(f"/board?unit={LEAD_UNIT}", api.tokens.auditor).json()
    assert [(r["code"], r["percent"], r["status_label"]) for r in board["rows"]] == [
        ("2024-01", 40, "推进中"),
        ("2024-03", 0, "已交办"),
    ]
    history = api.get("/tasks/2024-01/history", api.tokens.auditor).json()
    assert history[-1]["type"].endswith("ProgressReported")
    assert history[-1]["actor"] == f"liaison:{LEAD_UNIT}/张伟"
    assert history[-1]["text"] == "方案已起草"


def test_the_board_filters_by_unit_group_official_and_light(api: Api) -> None:
    def codes(query: str) -> list[str]:
        return [r["code"] for r in api.get(f"/board?{query}", api.tokens.auditor).json()["rows"]]

    assert codes(f"unit={CO_UNIT}") == ["2024-01", "2024-03"]  # co-operating counts
    assert codes("group=社会事业改革专责小组") == ["2024-02"]
    assert codes("official=王建国") == ["2024-01", "2024-03"]
    assert codes("light=red") == []  # the clock stands at 2024-03-01; 2024-02 is due 03-05
    assert codes("light=yellow") == ["2024-02"]


def test_domain_errors_keep_their_code_and_chinese_message(api: Api) -> None:
    office = api.tokens.office
    missing = api.get("/tasks/2099-99", office)
    assert (missing.status_code, missing.json()["error"]) == (404, "task_not_found")
    assert "没有编号为 2099-99 的任务" in missing.json()["message"]
    unclaimed = api.post("/tasks/2024-01/reports", office, {"text": "进展", "percent": 5})
    assert (unclaimed.status_code, unclaimed.json()["error"]) == (409, "not_claimed")
    assert "尚未签收" in unclaimed.json()["message"]
    api.post("/tasks/2024-01/claim", office)
    twice = api.post("/tasks/2024-01/claim", office)
    assert (twice.status_code, twice.json()["error"]) == (409, "already_claimed")
    earlier = {"new_deadline": "2024-01-01", "reason": "资金未到位"}
    not_later = api.post("/tasks/2024-01/extension/request", office, earlier)
    assert (not_later.status_code, not_later.json()["error"]) == (422, "extension_date_not_later")
    assert api.post("/tasks", office, row("2024-01")).status_code == 409


@pytest.mark.parametrize(
    ("path", "body", "field", "said"),
    [
        ("/tasks/2024-01/reports", {"text": "进展", "percent": 101}, "body.percent",
         "进度不能大于100"),
        ("/tasks/2024-01/reports", {"percent": 10}, "body.text", "缺少必填项：进展情况"),
        ("/tasks/2024-01/reports", {"text": "x", "percent": 1, "mood": "好"}, "body.mood",
         "不是可填写的项（请检查拼写或删除）"),
        ("/tasks/2024-01/reports", {"text": "x", "percent": 1, "evidence": ["ftp://x"]},
         "body.evidence", "佐证材料"),
        ("/tasks/2024-01/extension/request", {"new_deadline": "2024年9月", "reason": "x"},
         "body.new_deadline", "新的完成时限不是有效日期（应为 2026-12-31 格式）"),
        ("/tasks/2024-01/reports", b'{"text": "\\ud800", "percent": 1}', "body.text",
         "进展情况含有无法保存的字符"),
        ("/tasks/2024-01/extension/request", {"new_deadline": 0, "reason": "x"},
         "body.new_deadline", "新的完成时限不是有效日期"),  # not 1970-01-01
        ("/tasks", row("2024-09", milestones=[{"name": "x", "due": "2024-06-30T00:00:00"}]),
         "body.milestones.0.due", "第1项阶段节点时限不是有效日期"),
        ("/tasks/2024-01/reports", {"text": "x", "percent": "5"}, "body.percent", "进度应为整数"),
        ("/tasks/2024-01/reports", {"text": "x", "percent": True}, "body.percent",
         "进度应为整数"),
        ("/tasks/import", {"rows": [row("2024-09")], "dry_run": "yes"}, "body.dry_run",
         "试运行应为布尔值（是或否）"),
        ("/tasks/bad%20code/claim", None, "path.code",
         "任务编号只能由字母、数字和 - _ . 组成（如 2024-07）"),
        ("/tokens", {"role": "root"}, "body.role", "角色应为「县委改革办」、「单位联络员」"),
    ],
)  # fmt: skip
def test_a_request_that_fails_validation_names_the_field(
    api: Api, path: str, body: Any, field: str, said: str
) -> None:
    """The field stays an identifier in `fields`; the messages name it in Chinese (issue 14)."""
    before = api.services.ledger.recorder.max_notification_id()
    answer = api.post(path, api.tokens.office, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "validation_error"
    named = {f["field"]: f["message"] for f in answer.json()["fields"]}
    assert field in named
    assert said in named[field]
    assert said in answer.json()["message"]
    assert answer.json()["message"].startswith("请求参数有误：")
    assert not ENGLISH_WORD.findall(answer.json()["message"]), answer.json()["message"]
    assert api.services.ledger.recorder.max_notification_id() == before


def test_an_unknown_query_parameter_is_named_not_ignored(api: Api) -> None:
    answer = api.get("/board?unti=县财政局", api.tokens.office)
    assert answer.status_code == 422
    assert answer.json()["fields"][0]["field"] == "query.unti"


def test_an_import_with_bad_rows_names_every_bad_row_and_imports_nothing(api: Api) -> None:
    rows = [row("2024-10"), row("2024-11", deadline="明年"), row("2024-12", lead_unit="")]
    answer = api.post("/tasks/import", api.tokens.office, {"rows": rows})
    assert answer.status_code == 422
    fields = {f["field"] for f in answer.json()["fields"]}
    assert {"body.rows.1.deadline", "body.rows.2.lead_unit"} <= fields
    codes = [r["code"] for r in api.get("/board", api.tokens.office).json()["rows"]]
    assert "2024-10" not in codes


def test_import_is_all_or_nothing_and_reimport_changes_nothing(api: Api) -> None:
    again = api.post("/tasks/import", api.tokens.office, {"rows": sample_rows()}).json()
    assert {c["action"] for c in again["changes"]} == {"unchanged"}
    edited = [row("2024-01", deadline="2024-07-31"), row("2024-04")]
    dry = api.post("/tasks/import", api.tokens.office, {"rows": edited, "dry_run": True}).json()
    assert [(c["code"], c["action"]) for c in dry["changes"]] == [
        ("2024-01", "revise"),
        ("2024-04", "create"),
    ]
    assert api.get("/tasks/2024-04", api.tokens.office).status_code == 404


def test_a_revoked_token_is_refused_from_the_next_request(api: Api) -> None:
    office = api.tokens.office
    issued = api.post("/tokens", office, {"role": "liaison", "unit": OTHER_UNIT}).json()
    assert api.get("/me", issued["token"]).json()["actor"] == f"liaison:{OTHER_UNIT}/联络员"
    revoked = api.post(f"/tokens/{issued['token_id']}/revoke", office, {"reason": "离岗"})
    assert revoked.json()["revoked"] is True
    refused = api.get("/me", issued["token"])
    assert refused.status_code == 401
    assert refused.json()["message"] == "访问令牌已吊销"
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    again = api.post(f"/tokens/{issued['token_id']}/revoke", office, {})
    assert (again.status_code, again.json()["error"]) == (409, "token_already_revoked")


def test_a_token_is_shown_once_and_never_stored_listed_or_logged(api: Api) -> None:
    with capture_logs() as logs:
        issued = api.post("/tokens", api.tokens.office, {"role": "auditor", "name": "审计"})
        token = issued.json()["token"]
        api.get("/me", token)
        listing = api.get("/tokens", api.tokens.office).text
    secret = token.split("_", 2)[2]
    assert secret not in listing
    assert secret.encode() not in api.stored_bytes()
    assert all(secret not in repr(entry) for entry in logs)
    assert issued.json()["token_id"] in listing


def test_hostile_text_is_data_in_json_and_text_on_the_web(api: Api) -> None:
    task = api.get("/tasks/2024-03", api.tokens.auditor).json()
    assert task["title"] == HOSTILE_TITLE
    sign_in_app(api.client, api.services)  # the board is private by default
    page = api.client.get("/").text + api.client.get("/tasks/2024-03").text
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    policy = api.client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy  # and no script-src: no script runs, even if injected


def test_a_plan_goes_through_pre_review(api: Api) -> None:
    lead, office = api.tokens.lead, api.tokens.office
    plan = {"plan_code": "FA-2024-01", "title": "营商环境改革方案", "task_code": "2024-01"}
    submitted = api.post("/plans", lead, plan)
    assert (submitted.status_code, submitted.json()["unit"]) == (201, LEAD_UNIT)
    foreign = api.post("/plans", lead, {**plan, "plan_code": "FA-2", "unit": OTHER_UNIT})
    assert foreign.status_code == 403
    opinion = {"verdict": "opinion", "text": "请补充风险评估"}
    assert api.post("/plans/FA-2024-01/reviews", office, opinion).json()["status"] == "in_review"
    approve = {"verdict": "approve", "text": "同意提交改革委会议"}
    assert api.post("/plans/FA-2024-01/reviews", office, approve).json()["status"] == "approved"
    late = api.post("/plans/FA-2024-01/reviews", office, opinion)
    assert (late.status_code, late.json()["error"]) == (409, "plan_review_error")
    assert api.post("/plans/FA-none/reviews", office, opinion).status_code == 404
    assert api.get("/plans/FA-none", office).json()["error"] == "plan_not_found"
    unnamed = api.post("/plans", office, {**plan, "plan_code": "FA-3"})
    assert (unnamed.status_code, unnamed.json()["error"]) == (422, "invalid_request")
    assert [p["plan_code"] for p in api.get("/plans", api.tokens.auditor).json()] == ["FA-2024-01"]


def test_statuses_are_chosen_by_class_most_specific_first() -> None:
    """No line of the table hides behind an earlier, more general one."""
    classes = [cls for cls, _ in STATUSES]
    for i, later in enumerate(classes):
        assert not any(issubclass(later, earlier) for earlier in classes[:i]), later
    assert status_of(Conflict("x")) == 409
    assert status_of(PlanNotFound("x")) == 404
    assert status_of(TaskNotFound("x")) == 404
    assert status_of(NoDeadline("x")) == 422


def test_a_bug_is_logged_and_answered_with_a_500_that_reveals_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> None:
        raise RuntimeError("internal detail: /var/secret/path")

    monkeypatch.setattr(api.services.ledger, "claim", broken)
    with capture_logs() as logs:
        answer = api.post("/tasks/2024-01/claim", api.tokens.office)
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "internal_error",
        "message": "服务器内部错误，已记录日志",
        "fields": [],
    }
    assert any(e["event"] == "unhandled_error" for e in logs)


def test_the_audit_trail_shows_a_tasks_events_and_the_reminders_about_it(
    api: Api, clock: FakeClock
) -> None:
    lead = api.tokens.lead
    api.post("/tasks/2024-01/claim", lead)
    api.post("/tasks/2024-01/reports", lead, {"text": "方案已起草", "percent": 30})
    reminder = Reminder(
        key="2024-01|deadline|2024-06-30|notice|0", task_code="2024-01", target="deadline",
        due=dt.date(2024, 6, 30), rung="notice", seq=0, audience=["lead_unit"],
        channels=["fgj"], actor="system:scheduler", at=clock.now,
    )  # fmt: skip
    api.services.ledger.save(reminder)
    trail = api.get("/tasks/2024-01/audit", api.tokens.auditor).json()
    assert [e["type"] for e in trail][-2:] == ["ReformTask.ProgressReported", "Reminder.Issued"]
    assert "方案已起草" in trail[-2]["summary"]
    sign_in_app(api.client, api.services)
    page = api.client.get("/tasks/2024-01").text
    assert "发出提醒" in page
    assert "方案已起草" in page


def test_the_global_audit_log_records_token_issue_and_revocation_without_the_token(
    api: Api,
) -> None:
    issued = api.post("/tokens", api.tokens.office, {"role": "auditor", "name": "巡察组"}).json()
    api.post(f"/tokens/{issued['token_id']}/revoke", api.tokens.office, {"reason": "巡察结束"})
    log = api.get("/audit", api.tokens.auditor).json()
    token = str(token_aggregate_id(issued["token_id"]))
    kinds = [e["type"] for e in log if e["data"]["originator_id"] == token]
    assert kinds == ["AccessToken.Issued", "AccessToken.Revoked"]
    assert issued["token"].split("_", 2)[2] not in json.dumps(log, ensure_ascii=False)


def test_a_co_units_report_is_recorded_but_the_percent_stays_the_lead_units(api: Api) -> None:
    lead, co = api.tokens.lead, api.tokens.co
    assert api.post("/tasks/2024-01/claim", lead).status_code == 200
    assert api.post(
        "/tasks/2024-01/reports", lead, {"text": "方案已起草", "percent": 30}
    ).is_success
    answer = api.post("/tasks/2024-01/reports", co, {"text": "配合部分已全部完成", "percent": 100})
    assert answer.status_code == 200, answer.text
    assert api.get("/tasks/2024-01", api.tokens.auditor).json()["percent"] == 30
    rows = api.get(f"/board?unit={CO_UNIT}", api.tokens.auditor).json()["rows"]
    assert [(r["percent"], r["reports"]) for r in rows if r["code"] == "2024-01"] == [(30, 2)]
    history = api.get("/tasks/2024-01/history", api.tokens.auditor).json()
    contributed = [e for e in history if e["type"] == "ReformTask.ProgressReported"][-1]
    assert (contributed["actor"], contributed["percent"]) == (f"liaison:{CO_UNIT}/李娜", 100)
