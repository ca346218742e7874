"""What the API and web-board tests share: a config file, sample rows, tokens for every role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.roles import Identity
from duban.app.access import TokenRegistry

LEAD_UNIT = "县发展和改革局"
CO_UNIT = "县财政局"
OTHER_UNIT = "县教育局"
OFFICIAL = "王建国"
OFFICE = Identity("office", "改革办")
HOSTILE_TITLE = '<script>alert("x")</script><img src=x onerror=alert(1)>“一件事”改革'

CONFIG = """\
timezone = "Asia/Shanghai"
store = "{store}"

[office]
name = "县委改革办"
channel = "office"
leaders_channel = "leaders"

[[channels]]
name = "office"
platform = "console"

[[channels]]
name = "leaders"
platform = "console"

[[channels]]
name = "fgj"
platform = "console"

[[units]]
name = "县发展和改革局"
channel = "fgj"
liaisons = [{{ name = "张伟", mobile = "13800000001" }}]

[[units]]
name = "县财政局"
channel = "fgj"
liaisons = [{{ name = "李娜", mobile = "13800000002" }}]

[[units]]
name = "县教育局"
channel = "fgj"
liaisons = [{{ name = "赵磊", mobile = "13800000003" }}]

[[officials]]
name = "王建国"
title = "县委常委、常务副县长"
channel = "leaders"

[[officials]]
name = "李四"
title = "县政府副县长"
channel = "leaders"
"""


def write_config(directory: Path, store_url: str) -> Path:
    path = directory / "duban.toml"
    path.write_text(CONFIG.format(store=store_url), encoding="utf-8")
    return path


def row(code: str, **overrides: Any) -> dict[str, Any]:
    """One task as JSON for `POST /api/v1/tasks` or the import endpoint."""
    data: dict[str, Any] = {
        "code": code,
        "title": "深化“项目攻坚突破年”活动，专班推进、清单管理",
        "lead_unit": LEAD_UNIT,
        "co_units": [CO_UNIT],
        "official": OFFICIAL,
        "group": "经济体制和生态文明体制改革专责小组",
        "area": "稳增长",
        "deadline": "2024-06-30",
        "deadline_text": "2024年6月底",
        "milestones": [{"name": "方案制定", "due": "2024-03-31"}],
    }
    data.update(overrides)
    return data


def sample_rows() -> list[dict[str, Any]]:
    return [
        row("2024-01"),
        row(
            "2024-02",
            title="推进义务教育优质均衡发展",
            lead_unit=OTHER_UNIT,
            co_units=[],
            official=None,
            group="社会事业改革专责小组",
            deadline=(dt.date(2024, 3, 5)).isoformat(),
            milestones=[],
        ),
        row("2024-03", title=HOSTILE_TITLE, deadline=None, deadline_text="持续推进", milestones=[]),
    ]


@dataclass(frozen=True)
class Tokens:
    """A token for every kind of caller the authorization matrix tries."""

    office: str
    lead: str
    co: str
    other_liaison: str
    official: str
    other_official: str
    auditor: str
    revoked: str


def issue_tokens(registry: TokenRegistry) -> Tokens:
    def issue(role: str, name: str | None = None, unit: str | None = None) -> str:
        return registry.issue(role, name, unit, OFFICE).token

    revoked = registry.issue("office", "前任管理员", None, OFFICE)
    registry.revoke(revoked.token_id, OFFICE, "人员调整")
    return Tokens(
        office=issue("office"),
        lead=issue("liaison", "张伟", LEAD_UNIT),
        co=issue("liaison", "李娜", CO_UNIT),
        other_liaison=issue("liaison", "赵磊", OTHER_UNIT),
        official=issue("official", OFFICIAL),
        other_official=issue("official", "李四"),
        auditor=issue("auditor", "县纪委监委督查室"),
        revoked=revoked.token,
    )


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}
