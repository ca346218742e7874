"""Every scheduled job runs against a real store, queues what it should, and is idempotent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.reminder import ChatMessage
from domain.roles import Identity
from duban.app.importer import read_task_list
from duban.app.scheduled import JOBS
from duban.app.services import Services
from duban.bootstrap import bootstrap
from duban.settings.config import load_config

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
QUEUED = f"{ChatMessage.__module__}:{ChatMessage.__qualname__}.Queued"


@pytest.fixture
def county(tmp_path: Path) -> Services:
    text = (ROOT / "examples/duban.toml").read_text(encoding="utf-8")
    config = tmp_path / "duban.toml"
    config.write_text(text.replace("sqlite:///var/duban.db", f"sqlite:///{tmp_path}/d.db"), "utf-8")
    services = bootstrap(load_config(config))
    office = Identity("office", "改革办")
    services.ledger.reconcile_directory(services.config, office)
    services.ledger.import_tasks(read_task_list(ROOT / "examples/tasks-2024.csv").rows, office)
    return services


def queued(services: Services) -> list[dict[str, object]]:
    notes = services.ledger.recorder.select_notifications(0, 10_000, topics=[QUEUED])
    return [services.ledger.mapper.to_domain_event(n).__dict__ for n in notes]


@pytest.mark.parametrize(
    ("job", "kind"),
    [
        ("monthly_report", "report"),
        ("quarterly_report", "report"),
        ("annual_assessment", "report"),
        ("chain_head", "chain_head"),
    ],
)
def test_reporting_jobs_queue_one_message_for_the_office_once(
    county: Services, job: str, kind: str
) -> None:
    now = dt.datetime(2025, 1, 10, 10, 0, tzinfo=TZ)
    JOBS[job](county, now)
    JOBS[job](county, now)  # a repeated run (restart, second node) adds nothing
    messages = [m for m in queued(county) if m["kind"] == kind]
    assert len(messages) == 1
    assert messages[0]["channel"] == county.config.office.channel
    assert all(isinstance(p, str) and p for p in messages[0]["parts"])  # type: ignore[attr-defined]


def test_the_sweep_and_round_jobs_queue_reminders_in_working_hours(county: Services) -> None:
    now = dt.datetime(2024, 6, 3, 10, 0, tzinfo=TZ)  # a Monday; several deadlines are near
    JOBS["report_round"](county, now)
    JOBS["sweep"](county, now)  # the 交办 notices first: the fair ladder waits for them
    JOBS["deliver"](county, now)
    now += dt.timedelta(days=1)  # Tuesday
    JOBS["sweep"](county, now)
    kinds = {m["kind"] for m in queued(county)}
    assert {"assignment_notice", "digest"} <= kinds
    before = len(queued(county))
    JOBS["sweep"](county, now)
    assert len(queued(county)) == before
