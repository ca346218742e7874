"""`POST /api/v1/tasks` (one task assigned) checks its units as the import does (issue 12): a
lead or co-unit the config's `[[units]]` does not list is a 422 naming the field and the unit,
in Chinese, and nothing is stored; `[import] allow_new_units = true` lets it in; a config that
lists no units at all checks nothing (and says so: `unchecked_units_warning`). A co-unit's
report answers that it was the co-unit's, the task's percent untouched."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from duban.api import create_app
from duban.app.access import TokenRegistry
from duban.app.importer.units import unchecked_units_warning
from duban.app.services import Services
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from tests.support.api import CO_UNIT, LEAD_UNIT, OFFICE, bearer, row, write_config
from tests.support.server import DUBAN

NO_UNITS = """\
timezone = "Asia/Shanghai"
store = "{store}"

[[channels]]
name = "office"
platform = "console"

[[channels]]
name = "leaders"
platform = "console"
"""


def _serve(config: Path) -> Iterator[tuple[TestClient, str, Services]]:
    services = bootstrap(load_config(config))
    token = TokenRegistry(services.ledger).issue("office", None, None, OFFICE).token
    with TestClient(create_app(services), raise_server_exceptions=False) as api:
        yield api, token, services
    services.ledger.close()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, str, Services]]:
    yield from _serve(write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}"))


def _stored(services: Services) -> int:
    return len(services.ledger.recorder.select_notifications(0, 100_000))


def test_one_task_naming_unknown_units_is_refused_and_nothing_is_stored(
    client: tuple[TestClient, str, Services],
) -> None:
    api, token, services = client
    before = _stored(services)
    task = row("2026-01", lead_unit="县教体局", co_units=[CO_UNIT, "县卫健委"])
    answer = api.post("/api/v1/tasks", headers=bearer(token), json=task)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert [f["field"] for f in body["fields"]] == ["body.lead_unit", "body.co_units"]
    assert "单位「县教体局」不在配置的单位名录中" in body["fields"][0]["message"]
    assert "单位「县卫健委」不在配置的单位名录中" in body["fields"][1]["message"]
    assert "县教体局" in body["message"]
    assert "县卫健委" in body["message"]
    assert _stored(services) == before
    assert api.get("/api/v1/tasks/2026-01", headers=bearer(token)).status_code == 404
    known = api.post("/api/v1/tasks", headers=bearer(token), json=row("2026-01"))
    assert known.status_code == 201, known.text


def test_a_caller_who_may_not_assign_is_refused_before_the_units_are_looked_at(
    client: tuple[TestClient, str, Services],
) -> None:
    api, _, services = client
    liaison = TokenRegistry(services.ledger).issue("liaison", "张伟", LEAD_UNIT, OFFICE).token
    answer = api.post(
        "/api/v1/tasks", headers=bearer(liaison), json=row("2026-01", lead_unit="某局")
    )
    assert answer.status_code == 403, answer.text


def test_the_config_may_allow_new_units(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}")
    config.write_text(
        config.read_text(encoding="utf-8") + "\n[import]\nallow_new_units = true\n", "utf-8"
    )
    for api, token, _ in _serve(config):
        answer = api.post(
            "/api/v1/tasks", headers=bearer(token), json=row("2026-01", lead_unit="县教体局")
        )
        assert answer.status_code == 201, answer.text
        assert unchecked_units_warning(load_config(config)) is None  # allowed on purpose


def test_a_config_without_units_checks_none_and_says_so(tmp_path: Path) -> None:
    config = tmp_path / "duban.toml"
    config.write_text(NO_UNITS.format(store=f"sqlite:///{tmp_path / 'a.db'}"), "utf-8")
    warning = unchecked_units_warning(load_config(config))
    assert warning is not None
    assert "[[units]]" in warning
    assert "未核对" in warning
    listed = tmp_path / "listed"
    listed.mkdir()
    configured = write_config(listed, f"sqlite:///{listed / 'b.db'}")
    assert unchecked_units_warning(load_config(configured)) is None
    for api, token, _ in _serve(config):
        task = row("2026-01", lead_unit="县教体局", co_units=[], official=None)
        answer = api.post("/api/v1/tasks", headers=bearer(token), json=task)
        assert answer.status_code == 201, answer.text


def test_a_co_units_report_answers_that_it_was_the_co_units(
    client: tuple[TestClient, str, Services],
) -> None:
    api, token, services = client
    assert api.post("/api/v1/tasks", headers=bearer(token), json=row("2026-01")).is_success
    co = TokenRegistry(services.ledger).issue("liaison", "李娜", CO_UNIT, OFFICE).token
    body = {"text": "配合测算资金", "percent": 60}
    answer = api.post("/api/v1/tasks/2026-01/reports", headers=bearer(co), json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["message"] == f"2026-01 配合单位进展已报送（{CO_UNIT}，本单位进度60%）"
    assert api.get("/api/v1/tasks/2026-01", headers=bearer(token)).json()["percent"] == 0


def test_an_import_under_a_config_without_units_warns_through_the_api_and_the_cli(
    tmp_path: Path,
) -> None:
    config = tmp_path / "duban.toml"
    config.write_text(NO_UNITS.format(store=f"sqlite:///{tmp_path / 'a.db'}"), "utf-8")
    for api, token, _ in _serve(config):
        rows = [row("2026-01", lead_unit="县教体局", co_units=[], official=None)]
        answer = api.post("/api/v1/tasks/import", headers=bearer(token), json={"rows": rows})
        assert answer.status_code == 200, answer.text
        assert [w[:12] for w in answer.json()["warnings"]] == ["注意：配置文件未列出单位"]
    (tmp_path / "tasks.csv").write_text(
        "编号,改革任务,牵头单位,完成时限\n2026-02,试点任务,县教体局,2026-12-31\n", "utf-8"
    )
    done = subprocess.run(
        [str(DUBAN), "--config", str(config), "import", "tasks.csv", "--dry-run"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "未核对牵头单位和配合单位" in done.stderr
