"""The authorization matrix: every endpoint, called by every kind of caller, answers by the rules.

Each cell gets a fresh task (or plan, or token) in the state where the call would succeed if
allowed, so a refusal can only come from the role. A refused call must write nothing; an allowed
task command must record the caller as the event's actor.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.roles import Identity
from domain.token import token_aggregate_id
from duban.api import create_app
from duban.app import commands as cmd
from duban.app.access import TokenRegistry, digest
from duban.app.instructions import InstructionDesk
from duban.app.ledger import Ledger
from duban.app.services import Services
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from projections.audit import SECRET_FIELDS
from tests.conftest import TZ, FakeClock
from tests.support.api import (
    CO_UNIT,
    CONFIG,
    LEAD_UNIT,
    OFFICE,
    OTHER_UNIT,
    bearer,
    issue_tokens,
    row,
    write_config,
)

LEAD = Identity("liaison", "张伟", unit=LEAD_UNIT)

CALLERS = (
    "office", "lead", "co", "other_liaison", "official", "other_official", "auditor",
    "anonymous", "revoked", "forged",
)  # fmt: skip
UNAUTHENTICATED = frozenset({"anonymous", "revoked", "forged"})
EVERYONE = frozenset(CALLERS) - UNAUTHENTICATED
OFFICE_ONLY = frozenset({"office"})
LEAD_ONLY = frozenset({"office", "lead"})
REPORTERS = frozenset({"office", "lead", "co", "official"})
PLAN_SUBMITTERS = frozenset({"office", "lead", "co", "other_liaison"})
DETAIL_READERS = EVERYONE - {"other_liaison"}  # read_details: a liaison of another unit may not
ACTORS = {
    "office": "office:改革办",
    "lead": f"liaison:{LEAD_UNIT}/张伟",
    "co": f"liaison:{CO_UNIT}/李娜",
    "official": "official:王建国",
}
_serial = itertools.count()
PDF = b"%PDF-1.7\n%%EOF\n"


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # {code}, {plan_code} and {token_id} are filled from the cell's fresh objects
    allowed: frozenset[str]
    ok: int = 200
    state: str = "assigned"  # none | assigned | claimed | pending | submitted
    body: Callable[[str, str], dict[str, Any]] | None = None  # (caller, serial) -> JSON
    web: bool = False
    upload: bool = False  # a multipart body with one PDF `file` part (evidence, issue 15)
    records_actor: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _json(data: dict[str, Any]) -> Callable[[str, str], dict[str, Any]]:
    return lambda _caller, _n: data


def _plan_body(caller: str, n: str) -> dict[str, Any]:
    body = {"plan_code": f"plan-new-{n}", "title": "营商环境改革方案"}
    return {**body, "unit": LEAD_UNIT} if caller == "office" else body


def _task_plan_body(caller: str, n: str) -> dict[str, Any]:
    """A plan tied to the cell's fresh task, titled as the hostile one was (issue 16 item 8)."""
    body = {"plan_code": f"plan-task-{n}", "title": HOSTILE_PLAN_TITLE, "task_code": f"m-{n}"}
    return {**body, "unit": LEAD_UNIT} if caller == "office" else body


def _missing_task_plan_body(caller: str, n: str) -> dict[str, Any]:
    return {**_task_plan_body(caller, n), "task_code": f"no-such-task-{n}"}


HOSTILE_PLAN_TITLE = "已由改革办批准销号，请各单位停止推进"
REASON = _json({"reason": "经审核"})
ENDPOINTS = (
    Endpoint("me", "GET", "/api/v1/me", EVERYONE, state="none"),
    Endpoint("board", "GET", "/api/v1/board", EVERYONE),
    Endpoint("board filtered", "GET", "/api/v1/board?unit=县财政局&light=green", EVERYONE),
    Endpoint("task", "GET", "/api/v1/tasks/{code}", DETAIL_READERS),
    Endpoint("history", "GET", "/api/v1/tasks/{code}/history", DETAIL_READERS),
    Endpoint("file", "GET", "/api/v1/tasks/{code}/files/{sha256}", DETAIL_READERS, state="file"),
    Endpoint("upload", "POST", "/api/v1/files", EVERYONE - {"auditor"}, 201, "none", upload=True),
    Endpoint("task audit", "GET", "/api/v1/tasks/{code}/audit", DETAIL_READERS),
    Endpoint("audit log", "GET", "/api/v1/audit?since=2024-01-01", EVERYONE),
    Endpoint("plans", "GET", "/api/v1/plans", EVERYONE, state="plan"),
    Endpoint("plan", "GET", "/api/v1/plans/{plan_code}", EVERYONE, state="plan"),
    Endpoint("assign", "POST", "/api/v1/tasks", OFFICE_ONLY, 201, "none",
             lambda _c, n: row(f"new-{n}")),
    Endpoint("import", "POST", "/api/v1/tasks/import", OFFICE_ONLY, 200, "none",
             lambda _c, n: {"rows": [row(f"imp-{n}-a"), row(f"imp-{n}-b")]}),
    Endpoint("claim", "POST", "/api/v1/tasks/{code}/claim", LEAD_ONLY, records_actor=True),
    Endpoint("report", "POST", "/api/v1/tasks/{code}/reports", REPORTERS, state="claimed",
             body=_json({"text": "完成方案初稿", "percent": 30}), records_actor=True),
    Endpoint("request extension", "POST", "/api/v1/tasks/{code}/extension/request", LEAD_ONLY,
             state="claimed", body=_json({"new_deadline": "2024-09-30", "reason": "用地未批"}),
             records_actor=True),
    Endpoint("grant extension", "POST", "/api/v1/tasks/{code}/extension/grant", OFFICE_ONLY,
             state="pending", body=REASON, records_actor=True),
    Endpoint("deny extension", "POST", "/api/v1/tasks/{code}/extension/deny", OFFICE_ONLY,
             state="pending", body=REASON, records_actor=True),
    Endpoint("submit", "POST", "/api/v1/tasks/{code}/completion/submit", LEAD_ONLY,
             state="claimed", body=_json({"summary": "已全面完成"}), records_actor=True),
    Endpoint("accept", "POST", "/api/v1/tasks/{code}/completion/accept", OFFICE_ONLY,
             state="submitted", body=REASON, records_actor=True),
    Endpoint("return", "POST", "/api/v1/tasks/{code}/completion/return", OFFICE_ONLY,
             state="submitted", body=REASON, records_actor=True),
    Endpoint("cancel", "POST", "/api/v1/tasks/{code}/cancel", OFFICE_ONLY, body=REASON,
             records_actor=True),
    Endpoint("recognise", "POST", "/api/v1/tasks/{code}/recognitions", OFFICE_ONLY,
             body=_json({"kind": "exemplar", "level": "municipal", "title": "市级改革典型"}),
             records_actor=True),
    Endpoint("submit plan", "POST", "/api/v1/plans", PLAN_SUBMITTERS, 201, "none", _plan_body),
    # A plan on a task: only its lead unit (and the office); on a task that does not exist: 404.
    Endpoint("plan on a task", "POST", "/api/v1/plans", LEAD_ONLY, 201, body=_task_plan_body),
    Endpoint("plan on no task", "POST", "/api/v1/plans", PLAN_SUBMITTERS, 404, "none",
             _missing_task_plan_body),
    Endpoint("review plan", "POST", "/api/v1/plans/{plan_code}/reviews", OFFICE_ONLY, state="plan",
             body=_json({"verdict": "opinion", "text": "请补充风险评估"})),
    Endpoint("resubmit plan", "POST", "/api/v1/plans/{plan_code}/versions", LEAD_ONLY,
             state="returned plan", body=_json({"text": "已补充风险评估"})),
    Endpoint("close milestone", "POST", "/api/v1/tasks/{code}/milestones/close", OFFICE_ONLY,
             body=_json({"name": "方案制定", "reason": "方案已印发"}), records_actor=True),
    Endpoint("tokens", "GET", "/api/v1/tokens", OFFICE_ONLY, state="none"),
    Endpoint("issue token", "POST", "/api/v1/tokens", OFFICE_ONLY, 201, "none",
             _json({"role": "liaison", "unit": CO_UNIT, "name": "李娜"})),
    Endpoint("revoke token", "POST", "/api/v1/tokens/{token_id}/revoke", OFFICE_ONLY,
             state="token", body=_json({"reason": "离岗"})),
    # 领导批示 and 追责问责 (issue 12)
    Endpoint("instructions", "GET", "/api/v1/tasks/{code}/instructions", DETAIL_READERS),
    Endpoint("issue instruction", "POST", "/api/v1/tasks/{code}/instructions",
             frozenset({"office", "official"}), 201, body=_json({"text": "请加快推进"})),
    Endpoint("answer instruction", "POST", "/api/v1/tasks/{code}/instructions/{number}/answer",
             LEAD_ONLY, state="instruction", body=_json({"text": "已落实"})),
    Endpoint("accountability", "GET", "/api/v1/accountability", EVERYONE, state="none"),
    Endpoint("record measure", "POST", "/api/v1/accountability", OFFICE_ONLY, 201,
             body=lambda _c, n: {"task_code": f"m-{n}", "unit": LEAD_UNIT, "kind": "约谈",
                                 "reason": "推进不力", "document_no": f"县改办〔2024〕{n}号"}),
    # 督办单 / 通报 (issue 12): read by everyone; an unknown number is a 404 for those who may read
    Endpoint("documents", "GET", "/api/v1/documents?year=2024", EVERYONE, state="none"),
    Endpoint("document", "GET", "/api/v1/documents/{number}", EVERYONE, 404, "none"),
    Endpoint("document pdf", "GET", "/api/v1/documents/{number}/pdf", EVERYONE, 404, "none"),
    # A bearer token opens no page: the private board sends everyone without a session to 登录.
    Endpoint("web board", "GET", "/?unit=县发展和改革局", frozenset(CALLERS), 303, web=True),
    Endpoint("web task", "GET", "/tasks/{code}", frozenset(CALLERS), 303, web=True),
    Endpoint("web css", "GET", "/static/board.css", frozenset(CALLERS), web=True, state="none"),
)  # fmt: skip


@dataclass
class World:
    services: Services
    client: TestClient
    tokens: dict[str, str | None]

    @property
    def ledger(self) -> Ledger:
        return self.services.ledger


@pytest.fixture
def world(tmp_path: Path, sqlite_url: str, clock: FakeClock) -> Iterator[World]:
    services = bootstrap(load_config(write_config(tmp_path, sqlite_url)), clock=clock)
    issued = issue_tokens(TokenRegistry(services.ledger))
    tokens: dict[str, str | None] = dict(vars(issued))
    tokens["anonymous"] = None
    tokens["forged"] = "dbn_000000000000_" + "x" * 43
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        yield World(services, client, tokens)
    services.ledger.close()


def _prepare(ledger: Ledger, state: str, n: str) -> dict[str, str]:
    """A fresh task (plan, token) in `state`; returns the placeholders of the endpoint path."""
    code = f"m-{n}"
    names = {"code": code, "plan_code": f"plan-{n}", "token_id": "000000000000", "number": "1"}
    names["sha256"] = "0" * 64
    if state in ("plan", "returned plan"):
        ledger.submit_plan(names["plan_code"], "数字政府改革方案", LEAD_UNIT, None, OFFICE)
    if state == "returned plan":
        ledger.review_plan(names["plan_code"], "return", "缺少风险评估", OFFICE)
    if state == "token":
        names["token_id"] = TokenRegistry(ledger).issue("auditor", None, None, OFFICE).token_id
    if state in ("none", "plan", "returned plan", "token"):
        return names
    ledger.assign(cmd.AssignTask.model_validate(row(code)), OFFICE)
    if state in ("claimed", "pending", "submitted", "file"):
        ledger.claim(code, LEAD)
    if state == "file":
        assert ledger.evidence is not None
        ref = ledger.evidence.put(io.BytesIO(PDF), "证明材料.pdf")
        files = (cmd.FileChoice(sha256=ref.sha256, name=ref.name),)
        ledger.report(code, cmd.ReportProgress(text="附证明", percent=10, files=files), LEAD)
        names["sha256"] = ref.sha256
    if state == "pending":
        ledger.request_extension(
            code, cmd.RequestExtension(new_deadline="2024-09-30", reason="用地未批"), LEAD
        )
    if state == "submitted":
        ledger.submit_completion(code, cmd.SubmitCompletion(summary="已完成"), LEAD)
    if state == "instruction":
        InstructionDesk(ledger, TZ).issue(code, "请加快推进", None, OFFICE)
    return names


def _expected(endpoint: Endpoint, caller: str) -> int:
    if caller in UNAUTHENTICATED and not endpoint.web:
        return 401
    return endpoint.ok if caller in endpoint.allowed else 403


@dataclass(frozen=True)
class Cell:
    endpoint: str
    caller: str
    expected: int
    actual: int
    problem: str = ""


def _call(world: World, endpoint: Endpoint, caller: str) -> Cell:
    n = str(next(_serial))
    names = _prepare(world.ledger, endpoint.state, n)
    before = world.ledger.recorder.max_notification_id()
    response = world.client.request(
        endpoint.method,
        endpoint.path.format(**names),
        headers=bearer(world.tokens[caller]),
        json=endpoint.body(caller, n) if endpoint.body else None,
        files=[("file", ("证明材料.pdf", PDF))] if endpoint.upload else None,
        follow_redirects=False,
    )
    expected = _expected(endpoint, caller)
    problem = _problem(world, endpoint, caller, response, before, names["code"])
    return Cell(endpoint.name, caller, expected, response.status_code, problem)


def _problem(
    world: World, endpoint: Endpoint, caller: str, response: Any, before: Any, code: str
) -> str:
    after = world.ledger.recorder.max_notification_id()
    if response.status_code in (401, 403) and after != before:
        return "refused but wrote events"
    if response.status_code in (401, 403) and "message" not in response.json():
        return "refusal without a message"
    if response.status_code == 303 and not response.headers["location"].startswith("/signin?"):
        return f"redirected to {response.headers['location']!r}"
    if endpoint.records_actor and response.status_code == 200:
        actor = world.ledger.task_history(code, OFFICE)[-1]["actor"]
        if actor != ACTORS[caller]:
            return f"event actor {actor!r}"
    return ""


def _render(cells: list[Cell]) -> str:
    width = max(len(e.name) for e in ENDPOINTS) + 2
    lines = [" " * width + "".join(f"{c[:9]:>10}" for c in CALLERS)]
    for endpoint in ENDPOINTS:
        row_cells = [c for c in cells if c.endpoint == endpoint.name]
        marks = [
            f"{c.actual}{'' if c.actual == c.expected and not c.problem else '!' + str(c.expected)}"
            for c in row_cells
        ]
        lines.append(f"{endpoint.name:<{width}}" + "".join(f"{m:>10}" for m in marks))
    problems = [f"{c.endpoint} × {c.caller}: {c.problem}" for c in cells if c.problem]
    return "\n".join([*lines, *problems])


def test_every_endpoint_answers_every_caller_as_the_roles_say(world: World) -> None:
    cells = [_call(world, endpoint, caller) for endpoint in ENDPOINTS for caller in CALLERS]
    violations = [c for c in cells if c.actual != c.expected or c.problem]
    assert not violations, f"{len(violations)} violation(s) (actual!expected):\n" + _render(cells)
    print(_render(cells))


def test_the_matrix_covers_every_api_route(world: World) -> None:
    """A new endpoint without a line in the matrix fails here, not silently in production."""
    spec = world.client.get("/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    covered = {(e.method, e.path.split("?")[0]) for e in ENDPOINTS if not e.web}
    assert routes - covered - PLATFORM_SIGNED == set()


# The chat platforms' callbacks carry no bearer token: the platform's signature is their
# authentication, and the sender's binding to a person decides what they may do — both checked
# over real HTTP in tests/integration/test_inbound_dingtalk.py and test_inbound_feishu.py.
PLATFORM_SIGNED = {
    ("POST", "/api/v1/inbound/dingtalk/{channel}"),
    ("POST", "/api/v1/inbound/feishu/{channel}"),
}


# ---- the directory owns token bindings (issue 16 item 6) ---------------------------------------


def _app_on(world: World, tmp_path: Path, config_text: str) -> Services:
    """The same store served with another config, as a restarted server would read it."""
    folder = tmp_path / f"config-{next(_serial)}"
    folder.mkdir()
    url = world.services.config.store
    path = folder / "duban.toml"
    path.write_text(CONFIG.format(store=url), encoding="utf-8")
    edited = path.read_text(encoding="utf-8").replace(config_text, "")
    assert edited != path.read_text(encoding="utf-8"), "the config to remove is not there"
    path.write_text(edited, encoding="utf-8")
    return bootstrap(load_config(path), clock=world.services.ledger.clock)


REMOVED_UNIT = (
    f'[[units]]\nname = "{OTHER_UNIT}"\nchannel = "fgj"\n'
    'liaisons = [{ name = "赵磊", mobile = "13800000003" }]\n'
)


def test_a_removed_units_token_is_refused_and_init_records_its_revocation(
    world: World, tmp_path: Path
) -> None:
    ledger, other = world.ledger, world.tokens["other_liaison"]
    ledger.reconcile_directory(world.services.config, OFFICE)  # `duban init` on the old config
    ledger.assign(cmd.AssignTask.model_validate(row("edu-1", lead_unit=OTHER_UNIT)), OFFICE)
    claimed = world.client.post("/api/v1/tasks/edu-1/claim", headers=bearer(other))
    assert claimed.status_code == 200, claimed.text
    restarted = _app_on(world, tmp_path, REMOVED_UNIT)
    with TestClient(create_app(restarted), raise_server_exceptions=False) as client:
        # Decided at request time from the config the server runs with, before any `init`.
        before = ledger.recorder.max_notification_id()
        report = {"text": "继续推进", "percent": 50}
        refused = client.post("/api/v1/tasks/edu-1/reports", headers=bearer(other), json=report)
        assert refused.status_code == 401, refused.text
        assert refused.json()["message"] == f"单位「{OTHER_UNIT}」不在名录中，令牌已失效"
        asked = {"new_deadline": "2024-09-30", "reason": "用地未批"}
        path = "/api/v1/tasks/edu-1/extension/request"
        assert client.post(path, headers=bearer(other), json=asked).status_code == 401
        assert ledger.recorder.max_notification_id() == before
        assert client.get("/api/v1/me", headers=bearer(world.tokens["lead"])).status_code == 200
        # `duban init` records the removal and revokes the unit's tokens, with the reason.
        assert restarted.ledger.reconcile_directory(restarted.config, OFFICE) >= 2
        log = client.get("/api/v1/audit", headers=bearer(world.tokens["auditor"])).json()
    removed = [e for e in log if e["type"] == "Unit.Removed"]
    assert [e["data"]["name"] for e in removed] == [OTHER_UNIT]
    revoked = [e for e in log if e["type"] == "AccessToken.Revoked"]
    other_id = str(other).split("_")[1]
    ours = [e for e in revoked if e["data"]["originator_id"] == str(token_aggregate_id(other_id))]
    assert len(ours) == 1, revoked
    assert OTHER_UNIT in ours[0]["data"]["reason"]
    assert ours[0]["actor"] == "office:改革办"
    restarted.ledger.close()


def test_a_token_is_issued_only_for_a_unit_and_person_in_the_directory(world: World) -> None:
    office = bearer(world.tokens["office"])
    before = world.ledger.recorder.max_notification_id()
    for body in (
        {"role": "liaison", "unit": "不存在的单位", "name": "张伟"},
        {"role": "liaison", "unit": LEAD_UNIT, "name": "不在名录的人"},
        {"role": "official", "name": "不存在的领导"},
    ):
        refused = world.client.post("/api/v1/tokens", headers=office, json=body)
        assert (refused.status_code, refused.json()["error"]) == (422, "invalid_token_request")
        assert "不在名录中" in refused.json()["message"]
    assert world.ledger.recorder.max_notification_id() == before
    unnamed = {"role": "liaison", "unit": LEAD_UNIT}  # bound to the unit only
    assert world.client.post("/api/v1/tokens", headers=office, json=unnamed).status_code == 201


# ---- the audit API by audience (issue 16 item 9) ------------------------------------------------

MOBILE = "13812345678"


def _walk_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_keys(item)


def _audit_world(world: World) -> None:
    ledger = world.ledger
    ledger.assign(cmd.AssignTask.model_validate(row("ours")), OFFICE)
    theirs = row("theirs", lead_unit=OTHER_UNIT, co_units=[], official=None)
    ledger.assign(cmd.AssignTask.model_validate(theirs), OFFICE)
    ledger.claim("ours", LEAD)
    ledger.report("ours", cmd.ReportProgress(text=f"联系人张伟 {MOBILE}", percent=10), LEAD)


def test_liaisons_and_officials_read_only_their_tasks_trail_masked(world: World) -> None:
    _audit_world(world)
    for caller in ("lead", "co", "official"):
        answer = world.client.get("/api/v1/audit", headers=bearer(world.tokens[caller]))
        assert answer.status_code == 200
        entries = answer.json()
        assert entries, caller
        assert all(e["tasks"] and "theirs" not in e["tasks"] for e in entries), caller
        assert not [e for e in entries if e["type"].startswith("AccessToken")], caller
        assert MOBILE not in answer.text, caller
        assert "138****5678" in answer.text, caller
        assert not SECRET_FIELDS & set(_walk_keys(entries)), caller
    other = world.client.get("/api/v1/audit", headers=bearer(world.tokens["other_liaison"])).json()
    assert {c for e in other for c in e["tasks"]} <= {"theirs"}
    foreign = bearer(world.tokens["other_liaison"])
    trail = world.client.get("/api/v1/tasks/ours/audit", headers=foreign)
    assert trail.status_code == 403  # read_details: not their unit's task


def test_office_and_auditors_read_everything_but_never_secret_material(world: World) -> None:
    _audit_world(world)
    digests = [digest(t) for t in world.tokens.values() if t]
    for caller in ("office", "auditor"):
        answer = world.client.get("/api/v1/audit", headers=bearer(world.tokens[caller]))
        entries = answer.json()
        issued = [e for e in entries if e["type"] == "AccessToken.Issued"]
        assert len(issued) >= 8
        assert {e["data"]["role"] for e in issued} >= {"liaison", "office"}
        assert {"ours", "theirs"} <= {c for e in entries for c in e["tasks"]}
        assert MOBILE in answer.text  # unmasked for the office and auditors
        assert not SECRET_FIELDS & set(_walk_keys(entries)), caller
        assert not [d for d in digests if d[:16] in answer.text], caller
