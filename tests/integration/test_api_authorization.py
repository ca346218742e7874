"""The authorization matrix: every endpoint, called by every kind of caller, answers by the rules.

Each cell gets a fresh task (or plan, or token) in the state where the call would succeed if
allowed, so a refusal can only come from the role. A refused call must write nothing; an allowed
task command must record the caller as the event's actor.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.roles import Identity
from duban.api import create_app
from duban.app import commands as cmd
from duban.app.access import TokenRegistry
from duban.app.ledger import Ledger
from duban.app.services import Services
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from tests.conftest import FakeClock
from tests.support.api import CO_UNIT, LEAD_UNIT, OFFICE, bearer, issue_tokens, row, write_config

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
ACTORS = {
    "office": "office:改革办",
    "lead": f"liaison:{LEAD_UNIT}/张伟",
    "co": f"liaison:{CO_UNIT}/李娜",
    "official": "official:王建国",
}
_serial = itertools.count()


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
    records_actor: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _json(data: dict[str, Any]) -> Callable[[str, str], dict[str, Any]]:
    return lambda _caller, _n: data


def _plan_body(caller: str, n: str) -> dict[str, Any]:
    body = {"plan_code": f"plan-new-{n}", "title": "营商环境改革方案"}
    return {**body, "unit": LEAD_UNIT} if caller == "office" else body


REASON = _json({"reason": "经审核"})
ENDPOINTS = (
    Endpoint("me", "GET", "/api/v1/me", EVERYONE, state="none"),
    Endpoint("board", "GET", "/api/v1/board", EVERYONE),
    Endpoint("board filtered", "GET", "/api/v1/board?unit=县财政局&light=green", EVERYONE),
    Endpoint("task", "GET", "/api/v1/tasks/{code}", EVERYONE),
    Endpoint("history", "GET", "/api/v1/tasks/{code}/history", EVERYONE),
    Endpoint("task audit", "GET", "/api/v1/tasks/{code}/audit", EVERYONE),
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
    Endpoint("review plan", "POST", "/api/v1/plans/{plan_code}/reviews", OFFICE_ONLY, state="plan",
             body=_json({"verdict": "opinion", "text": "请补充风险评估"})),
    Endpoint("tokens", "GET", "/api/v1/tokens", OFFICE_ONLY, state="none"),
    Endpoint("issue token", "POST", "/api/v1/tokens", OFFICE_ONLY, 201, "none",
             _json({"role": "liaison", "unit": CO_UNIT, "name": "钱七"})),
    Endpoint("revoke token", "POST", "/api/v1/tokens/{token_id}/revoke", OFFICE_ONLY,
             state="token", body=_json({"reason": "离岗"})),
    Endpoint("web board", "GET", "/?unit=县发展和改革局", frozenset(CALLERS), web=True),
    Endpoint("web task", "GET", "/tasks/{code}", frozenset(CALLERS), web=True),
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
    names = {"code": code, "plan_code": f"plan-{n}", "token_id": "000000000000"}
    if state == "plan":
        ledger.submit_plan(names["plan_code"], "数字政府改革方案", LEAD_UNIT, None, OFFICE)
    if state == "token":
        names["token_id"] = TokenRegistry(ledger).issue("auditor", None, None, OFFICE).token_id
    if state in ("none", "plan", "token"):
        return names
    ledger.assign(cmd.AssignTask.model_validate(row(code)), OFFICE)
    if state in ("claimed", "pending", "submitted"):
        ledger.claim(code, LEAD)
    if state == "pending":
        ledger.request_extension(
            code, cmd.RequestExtension(new_deadline="2024-09-30", reason="用地未批"), LEAD
        )
    if state == "submitted":
        ledger.submit_completion(code, cmd.SubmitCompletion(summary="已完成"), LEAD)
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
    assert routes - covered == set()
