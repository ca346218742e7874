"""Import refuses a lead or co-unit the config does not know (issue 12): the command names each
row and column, in `--dry-run` too, and stores nothing; `[import] allow_new_units = true` lets
new units in. The HTTP import answers the same with a 422 naming each row's field."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from duban.api import create_app
from duban.app.access import TokenRegistry
from duban.app.services import Services
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from tests.support.api import OFFICE, bearer, row, write_config
from tests.support.cli import EXAMPLES, event_count, run_duban, sample_workdir
from tests.support.clock import FIXED_NOW, NOW_ENV

UNKNOWN = """编号,改革任务,牵头单位,配合单位,完成时限
2026-01,深化教育评价改革,县教体局,县财政局,2026年12月底前
2026-02,推进集团化办学,县教育局,县教体局、县卫健委,2026年12月底前
2026-03,深化财政预算管理改革,县财政局,,2026年12月底前
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The sample config (examples/duban.toml) on a fresh store, the sample list imported."""
    sample_workdir(tmp_path)
    (tmp_path / "unknown.csv").write_text(UNKNOWN, encoding="utf-8")
    assert duban(tmp_path, "init").returncode == 0
    sample = duban(tmp_path, "import", str(EXAMPLES / "tasks-2024.csv"))
    assert sample.returncode == 0, sample.stderr  # every unit of the sample data is configured
    return tmp_path


def duban(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_duban(workdir, *args, env={NOW_ENV: FIXED_NOW.isoformat()})


def _named(stderr: str) -> list[tuple[str, str, str]]:
    """(row, column, unit) of each line naming an unknown unit."""
    found = []
    for line in stderr.splitlines():
        if "不在配置的单位名录中" in line:
            where, _, rest = line.partition("：")
            found.append((where.split("第")[1].split("行")[0], where.split("「")[1].rstrip("」"),
                          rest.split("「")[1].split("」")[0]))  # fmt: skip
    return found


@pytest.mark.parametrize("extra", [["--dry-run"], []], ids=["dry-run", "import"])
def test_unknown_units_are_refused_row_and_column_named_and_nothing_is_stored(
    workdir: Path, extra: list[str]
) -> None:
    before = event_count(workdir)
    done = duban(workdir, "import", "unknown.csv", *extra)
    assert done.returncode == 1
    assert _named(done.stderr) == [
        ("2", "牵头单位", "县教体局"),
        ("3", "配合单位", "县教体局"),
        ("3", "配合单位", "县卫健委"),
    ]
    assert "3 处错误，未导入任何任务" in done.stderr
    assert "unknown" not in done.stderr.replace("unknown.csv", "")  # no English identifiers
    assert event_count(workdir) == before


def test_the_config_may_allow_new_units(workdir: Path) -> None:
    config = workdir / "duban.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + "\n[import]\nallow_new_units = true\n",
        encoding="utf-8",
    )
    before = event_count(workdir)
    done = duban(workdir, "import", "unknown.csv")
    assert done.returncode == 0, done.stderr
    assert event_count(workdir) > before
    shown = duban(workdir, "task", "show", "2026-01", "--format", "json")
    assert '"lead_unit": "县教体局"' in shown.stdout


def test_a_bad_allow_switch_is_a_config_error(workdir: Path) -> None:
    config = workdir / "duban.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[import]\nallow_new_units = "也许"\n',
        encoding="utf-8",
    )
    done = duban(workdir, "import", "unknown.csv", "--dry-run")
    assert done.returncode == 2
    assert "[import] allow_new_units" in done.stderr


# ---- the HTTP import ---------------------------------------------------------------------


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, str, Services]]:
    services = bootstrap(load_config(write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}")))
    token = TokenRegistry(services.ledger).issue("office", None, None, OFFICE).token
    with TestClient(create_app(services), raise_server_exceptions=False) as api:
        yield api, token, services
    services.ledger.close()


def _stored(services: Services) -> int:
    return len(services.ledger.recorder.select_notifications(0, 100_000))


@pytest.mark.parametrize("dry_run", [True, False])
def test_the_api_refuses_unknown_units_naming_each_field(
    client: tuple[TestClient, str, Services], dry_run: bool
) -> None:
    api, token, services = client
    before = _stored(services)
    rows = [
        row("2026-01"),
        row("2026-02", lead_unit="县教体局"),
        row("2026-03", co_units=["县财政局", "县卫健委"]),
    ]
    answer = api.post(
        "/api/v1/tasks/import", headers=bearer(token), json={"rows": rows, "dry_run": dry_run}
    )
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert [f["field"] for f in body["fields"]] == [
        "body.rows.1.lead_unit",
        "body.rows.2.co_units",
    ]
    assert "第2行牵头单位：单位「县教体局」不在配置的单位名录中" in body["fields"][0]["message"]
    assert "县卫健委" in body["fields"][1]["message"]
    assert _stored(services) == before
    assert api.get("/api/v1/board", headers=bearer(token)).json()["rows"] == []
    ok = api.post("/api/v1/tasks/import", headers=bearer(token), json={"rows": rows[:1]})
    assert ok.status_code == 200, ok.text
