"""`duban calendar import|show` as real processes on a real SQLite file (issue 13, item 5).

After the 2027 notice (tests/data/notices/2027.txt: 10月1日至7日 off, Sunday 9月26日 and
Saturday 10月9日 worked) is imported, a task due Friday 2027-10-08 is reminded by its ladder
(notice = 5 working days before, reminder = 1 before, urge = 1 after) on the notice's days:

- notice: 09-30 29 28 27 **26 (Sunday, worked)** → Sunday 09-26, not 10-01 as Monday-Friday says;
- reminder: 09-30 (Thursday), not 10-07 (a holiday Thursday under the notice);
- urge: 10-09 (Saturday, worked), not Monday 10-11.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.calendar_notices import NoticeUnreadable, import_notice
from duban.app.services import open_ledger, recorded_notices
from tests.conftest import FakeClock
from tests.support.cli_zygote import run_cli
from tests.support.sweep import county, stored

NOTICES = Path(__file__).parents[1] / "data" / "notices"
NOTICE_2027 = NOTICES / "2027.txt"
FGJ = "县发展和改革局"

CONFIG = """timezone = "Asia/Shanghai"
store = "{store}"

[office]
channel = "office"
leaders_channel = "leaders"

[schedules]
sweep = "0 9 * * *"

[[units]]
name = "县发展和改革局"
channel = "fgj"
[[units.liaisons]]
name = "张伟"
mobile = "13800000001"

[[channels]]
name = "office"
platform = "console"

[[channels]]
name = "leaders"
platform = "console"

[[channels]]
name = "fgj"
platform = "console"
"""


@pytest.fixture
def config(sqlite_url: str, tmp_path: Path) -> Path:
    path = tmp_path / "duban.toml"
    path.write_text(CONFIG.format(store=sqlite_url), encoding="utf-8")
    assert run(path, "init").returncode == 0
    return path


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(["--config", str(config), *args])


def ok(config: Path, *args: str) -> str:
    result = run(config, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def assign_due_friday(sqlite_url: str) -> None:
    ledger = open_ledger(sqlite_url)
    row = cmd.AssignTask(
        code="2027-01",
        title="改革任务2027-01",
        lead_unit=FGJ,
        deadline=dt.date(2027, 10, 8),
        deadline_text="2027年10月8日",
    )
    ledger.assign(row, Identity("office", "改革办"))
    ledger.claim("2027-01", Identity("liaison", "张伟", unit=FGJ))  # no 签收 rungs here
    ledger.close()


def sweep_at(config: Path, moment: str) -> dict[str, Any]:
    out = ok(config, "sweep", "--now", moment, "--no-deliver", "--format", "json")
    return dict(json.loads(out)["rungs"])


def audit(config: Path) -> list[dict[str, Any]]:
    out = ok(config, "audit", "log", "--format", "jsonl")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def sweep_days(config: Path) -> list[str]:
    out = ok(config, "scheduler", "preview", "--from", "2027-09-20", "--to", "2027-10-12",
             "--format", "json")  # fmt: skip
    digests = [m for m in json.loads(out) if m["job"] == "sweep" and m["kind"] == "digest"]
    return sorted({m["at"][:10] for m in digests})  # the ladder's digests, not report rounds


# ---- import: dry run, refusal, recording -------------------------------------------------------


def test_a_dry_run_prints_the_parsed_days_and_records_nothing(config: Path) -> None:
    before = audit(config)
    out = ok(config, "calendar", "import", str(NOTICE_2027), "--dry-run")
    assert "2027-09-26 周日 上班" in out
    assert "2027-10-07 周四 放假" in out
    assert "2027年节假日安排：放假 29 天，调休上班 6 天" in out
    assert "试运行，未写入" in out
    assert audit(config) == before
    assert "2027年日历来源：周一至周五推算" in ok(config, "calendar", "show", "2027")


def test_a_text_it_cannot_read_is_refused_with_the_line_named(config: Path, tmp_path: Path) -> None:
    lines = NOTICE_2027.read_text(encoding="utf-8").splitlines()
    national_day = next(i for i, line in enumerate(lines) if line.startswith("七、国庆节"))
    lines[national_day] = lines[national_day].replace("共7天", "共8天")
    broken = tmp_path / "2027-broken.txt"
    broken.write_text("\n".join(lines), encoding="utf-8")
    before = audit(config)
    result = run(config, "calendar", "import", str(broken))
    assert result.returncode == 2
    assert f"第{national_day + 1}行" in result.stderr
    assert "共8天" in result.stderr
    assert "未导入" in result.stderr
    assert audit(config) == before
    assert "周一至周五推算" in ok(config, "calendar", "show", "2027")


def test_the_import_is_recorded_once_with_who_and_the_sha256(config: Path) -> None:
    out = ok(config, "--log-level", "ERROR", "calendar", "import", str(NOTICE_2027),
             "--as", "office:李主任")  # fmt: skip
    assert "已导入" in out
    again = ok(config, "calendar", "import", str(NOTICE_2027))
    assert "无变化" in again
    sha = hashlib.sha256(NOTICE_2027.read_bytes()).hexdigest()
    recorded = [e for e in audit(config) if e["type"] == "HolidayNotice.Recorded"]
    assert len(recorded) == 1
    assert recorded[0]["actor"] == "office:李主任"
    assert recorded[0]["data"]["source_sha256"] == sha
    assert recorded[0]["summary"] == (
        f"李主任 导入2027年节假日安排通知（放假 29 天，调休上班 6 天，SHA-256 {sha}）"
    )
    table = ok(config, "audit", "log")
    assert "李主任 导入2027年节假日安排通知" in table


def test_only_the_office_imports(config: Path) -> None:
    result = run(config, "calendar", "import", str(NOTICE_2027), "--as", "auditor:县纪委")
    assert result.returncode == 1
    assert "周一至周五推算" in ok(config, "calendar", "show", "2027")


# ---- show: where each day comes from -------------------------------------------------------------


def test_show_names_the_source_of_each_year(config: Path) -> None:
    ok(config, "calendar", "import", str(NOTICE_2027))
    shown = ok(config, "calendar", "show", "2027")
    assert "2027年日历来源：已导入通知（SHA-256 " in shown
    assert "2027-09-26" in shown
    assert "调休上班" in shown
    assert "已导入通知" in shown.split("2027-10-07")[1].splitlines()[0]
    data = json.loads(ok(config, "calendar", "show", "2027", "--format", "json"))
    assert data["source"] == "notice"
    assert {d["source"] for d in data["days"]} == {"notice"}
    assert "内置节假日数据" in ok(config, "calendar", "show", "2024").splitlines()[0]
    assert "周一至周五推算" in ok(config, "calendar", "show", "2028")


# ---- the ladder follows the notice ---------------------------------------------------------------


def test_scheduler_preview_follows_the_imported_notice(config: Path, sqlite_url: str) -> None:
    assign_due_friday(sqlite_url)
    # The fallback (Monday-Friday less 10-1…3): notice Thu 09-30, reminder Thu 10-07, urge 10-11.
    before = sweep_days(config)
    assert before == ["2027-09-30", "2027-10-07", "2027-10-11"]
    ok(config, "calendar", "import", str(NOTICE_2027))
    assert sweep_days(config) == ["2027-09-26", "2027-09-30", "2027-10-09"]


def test_sweep_now_follows_the_imported_notice_and_records_its_version(
    config: Path, sqlite_url: str
) -> None:
    assign_due_friday(sqlite_url)
    ok(config, "calendar", "import", str(NOTICE_2027))
    assert sweep_at(config, "2027-09-26T09:00") == {"notice": 1}  # a worked Sunday
    assert sweep_at(config, "2027-09-30T09:00") == {"reminder": 1}
    ok(config, "deliver", "--now", "2027-09-30T09:05")  # 催办 waits for the reminder to arrive
    assert sweep_at(config, "2027-10-07T09:00") == {}  # a holiday Thursday
    assert sweep_at(config, "2027-10-09T09:00") == {"urge": 1}  # a worked Saturday
    sha = json.loads(ok(config, "calendar", "show", "2027", "--format", "json"))["notice_sha256"]
    issued = [e for e in audit(config) if e["type"] == "Reminder.Issued"]
    assert [e["data"]["calendar_version"] for e in issued] == [f"2027:通知{sha[:12]}"] * 3
    assert all(e["summary"].endswith(f"，日历依据 2027年通知{sha[:12]}") for e in issued)


# ---- in process: a corrected notice, and the office calendar rebuilt -----------------------------


def test_a_corrected_notice_revises_the_year_and_the_calendar_follows(
    sqlite_url: str, clock: FakeClock
) -> None:
    services = county(sqlite_url, clock)
    office = Identity("office", "改革办")
    text = NOTICE_2027.read_text(encoding="utf-8")
    assert not services.calendar.is_working_day(dt.date(2027, 9, 26))  # Monday-Friday
    dry = import_notice(services, text, office, dry_run=True)
    assert dry.action == "record"
    assert recorded_notices(services.ledger) == {}
    first = import_notice(services, text, office)
    assert services.calendar.is_working_day(dt.date(2027, 9, 26))
    corrected = text.replace("9月26日（周日）、10月9日（周六）上班", "10月9日（周六）上班")
    with pytest.raises(NoticeUnreadable):
        import_notice(services, corrected.replace("共7天", "共9天"), office)
    done = import_notice(services, corrected, office)
    assert (first.action, done.action) == ("record", "revise")
    assert not services.calendar.is_working_day(dt.date(2027, 9, 26))
    assert recorded_notices(services.ledger)[2027].sha256 == done.sha256
    assert import_notice(services, corrected, office).action == "unchanged"
    revised = stored(services, "HolidayNotice.Revised")
    assert [(e.year, e.previous_sha256, e.source_sha256) for e in revised] == [
        (2027, first.sha256, done.sha256)
    ]
