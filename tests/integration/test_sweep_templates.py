"""The admin's digest templates replace the defaults; a broken one is refused at start."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.reminder import ChatMessage
from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.sweep import sweep
from duban.bootstrap import bootstrap
from duban.settings.config import ConfigError, parse_config

TZ = ZoneInfo("Asia/Shanghai")
QUEUED = f"{ChatMessage.__module__}:{ChatMessage.__qualname__}.Queued"


def raw_config(store: str, templates: Path) -> dict[str, object]:
    channels = [{"name": n, "platform": "console"} for n in ("office", "leaders", "fgj")]
    return {
        "store": store,
        "templates": str(templates),
        "channels": channels,
        "units": [{"name": "县发展和改革局", "channel": "fgj"}],
    }


def test_the_admins_template_renders_the_digest(tmp_path: Path, sqlite_url: str) -> None:
    (tmp_path / "digest.md.j2").write_text(
        "自定义督办模板\n{% for group in groups %}{% for item in group.items %}"
        "- {{ item.task_code }} {{ item.title }}\n{% endfor %}{% endfor %}",
        encoding="utf-8",
    )
    services = bootstrap(parse_config(raw_config(sqlite_url, tmp_path)))
    office = Identity("office", "改革办")
    row = cmd.AssignTask(
        code="2024-01", title="项目攻坚", lead_unit="县发展和改革局", deadline=dt.date(2024, 6, 28)
    )
    services.ledger.assign(row, office)
    sweep(services, dt.datetime(2024, 6, 27, 10, 0, tzinfo=TZ))  # 1 working day before
    notes = services.ledger.recorder.select_notifications(0, 100, topics=[QUEUED])
    events = [services.ledger.mapper.to_domain_event(n) for n in notes]
    parts = [p for e in events if e.kind == "digest" for p in e.parts]  # not the 交办通知
    assert parts
    assert parts[0].startswith("自定义督办模板")
    assert "2024-01 项目攻坚" in parts[0]


def test_a_broken_template_is_refused_at_start(tmp_path: Path, sqlite_url: str) -> None:
    (tmp_path / "digest.md.j2").write_text("{% for x in %}", encoding="utf-8")
    with pytest.raises(ConfigError, match="templates："):
        parse_config(raw_config(sqlite_url, tmp_path))
    with pytest.raises(ConfigError, match="templates："):
        parse_config(raw_config(sqlite_url, tmp_path / "missing"))
