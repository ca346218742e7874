"""Hostile names reach the group chats as text: a report round message and the 月分析, 季调度 and
年督考 posts, delivered over real HTTP to the fake WeCom, DingTalk and Feishu robots.

Units, liaisons, officials, groups, a recognition, the unit chat and the task titles are named
from `tests/reliability/corpus/names/` (Markdown links with `javascript:`, `<at user_id="all">`,
`<@all>`, `**…**`, zero-width and bidi characters, newlines …). The same county with plain
names is the oracle: what each platform received is read by the test's own recogniser
(`tests.fakes.chat_markup`) and must hold no link, mention only the liaisons' listed mobiles,
and have exactly the formatting tokens (headings, bold, lists, tables, lines) of the plain run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from domain.roles import Identity
from domain.task import ReformTask, task_id
from duban.app import commands as cmd
from duban.app.monthly_rounds import open_round
from duban.app.scheduled import JOBS
from duban.app.services import Services, open_ledger
from duban.settings.config import parse_config
from tests.conftest import TZ
from tests.fakes.chat_markup import INVISIBLE, kinds, received
from tests.fakes.platforms import Accepted, FakeClock, FakePlatforms
from tests.integration.test_delivery_flow import OFFICE, SECRET, deliver_until_quiet

CORPUS = Path(__file__).resolve().parents[1] / "reliability" / "corpus" / "names"
NAMES = [p.read_text("utf-8").removesuffix("\n") for p in sorted(CORPUS.glob("*.txt"))]
PLAIN = [f"县{c}局" for c in "甲乙丙丁戊己庚辛壬癸子丑寅卯辰"][: len(NAMES)]
MOBILES = ("13800000001", "13800000002", "13800000003")
PLATFORMS = ("wecom", "dingtalk", "feishu")


@dataclass(frozen=True)
class Cast:
    """Who is called what: every name of the corpus has one role of the directory here, and
    is in one task title."""

    units: list[str]
    liaisons: list[str]
    officials: list[str]
    groups: list[str]
    recognition: str
    chat: str
    titles: list[str]

    @classmethod
    def of(cls, names: list[str], shift: int) -> Cast:
        assert len(names) == 12, "the cast has twelve roles"
        n = names[shift:] + names[:shift]
        titles = [" ".join(n[i : i + 3]) for i in range(0, 12, 3)]
        return cls(n[0:3], n[3:6], n[6:8], n[8:10], n[10], n[11], titles)


def _at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=TZ)


def _robot(fake: FakePlatforms, platform: str, name: str) -> dict[str, Any]:
    if platform == "wecom":
        return {"name": name, "platform": platform, "webhook": fake.add_wecom()}
    add = fake.add_dingtalk if platform == "dingtalk" else fake.add_feishu
    return {"name": name, "platform": platform, "webhook": add(secret=SECRET), "secret": SECRET}


def _config(store_url: str, fake: FakePlatforms, platform: str, cast: Cast) -> dict[str, Any]:
    return {
        "store": store_url,
        "allowed_webhook_hosts": [fake.host],
        "channels": [
            _robot(fake, platform, cast.chat),
            _robot(fake, platform, "office"),
            {"name": "leaders", "platform": "console"},
        ],
        "office": {"channel": "office", "leaders_channel": "leaders"},
        "units": [
            {"name": unit, "channel": cast.chat, "liaisons": [{"name": who, "mobile": mobile}]}
            for unit, who, mobile in zip(cast.units, cast.liaisons, MOBILES, strict=True)
        ],
        "officials": [{"name": name, "channel": "leaders"} for name in cast.officials],
    }


def _tasks(cast: Cast) -> list[cmd.AssignTask]:
    u, o, g, t = cast.units, cast.officials, cast.groups, cast.titles
    plan: list[tuple[str, dict[str, Any]]] = [
        ("2024-01", {"lead_unit": u[0], "co_units": (u[1],), "official": o[0], "group": g[0],
                     "deadline": dt.date(2024, 3, 20)}),  # overdue, supervised twice
        ("2024-02", {"lead_unit": u[1], "official": o[1], "group": g[1],
                     "deadline": dt.date(2024, 5, 31)}),  # due next quarter, lagging
        ("2024-03", {"lead_unit": u[2], "group": g[0],
                     "deadline": dt.date(2024, 12, 31)}),  # completed and recognised
        ("2024-04", {"lead_unit": u[0], "official": o[0], "group": g[1]}),  # ongoing
    ]  # fmt: skip
    return [
        cmd.AssignTask(code=code, title=title, deadline_text="", **fields)
        for (code, fields), title in zip(plan, t, strict=True)
    ]


def _escalate(services: Services, code: str, rung: str, at: dt.datetime) -> None:
    task: ReformTask = services.ledger.repository.get(task_id(code))
    task.record_escalation(rung, "lead_unit", at.date(), f"{code}/{rung}", "system:duban", at)
    services.ledger.save(task)


def _county_year(store_url: str, platform: str, cast: Cast) -> list[Accepted]:
    """The round opened on 03-01, March's facts, then the three posts: what the robots got."""
    clock = FakeClock(_at(2024, 3, 1, 9).timestamp())
    with FakePlatforms(clock=clock) as fake:
        config = parse_config(_config(store_url, fake, platform, cast))
        ledger = open_ledger(store_url, lambda: dt.datetime.fromtimestamp(clock(), TZ))
        services = Services(config=config, ledger=ledger)
        try:

            def at(moment: dt.datetime) -> dt.datetime:
                clock.now = moment.timestamp()
                return moment

            services.ledger.import_tasks(_tasks(cast), OFFICE)
            for task in _tasks(cast):
                unit = task.lead_unit
                who = cast.liaisons[cast.units.index(unit)]
                services.ledger.claim(task.code, Identity("liaison", who, unit=unit))
            assert open_round(services, None, at(_at(2024, 3, 1))) is not None
            deliver_until_quiet(services, clock)
            at(_at(2024, 3, 5))
            services.ledger.report("2024-01", cmd.ReportProgress(text="推进中", percent=40), OFFICE)
            at(_at(2024, 3, 15))
            services.ledger.submit_completion("2024-03", cmd.SubmitCompletion(summary="已完成"),
                                              OFFICE)  # fmt: skip
            services.ledger.accept_completion("2024-03", cmd.Decision(reason="同意"), OFFICE)
            at(_at(2024, 3, 18))
            recognition = {"kind": "exemplar", "level": "county", "title": cast.recognition}
            services.ledger.recognise("2024-03", cmd.Recognise.model_validate(recognition), OFFICE)
            _escalate(services, "2024-01", "urge", at(_at(2024, 3, 21)))
            _escalate(services, "2024-01", "supervise", at(_at(2024, 3, 26)))
            for job, moment in (
                ("monthly_report", _at(2024, 4, 1)),
                ("quarterly_report", _at(2024, 4, 1, 11)),
                ("annual_assessment", _at(2025, 1, 2)),
            ):
                JOBS[job](services, at(moment))
                deliver_until_quiet(services, clock)
        finally:
            services.ledger.close()
        assert [a.code for a in fake.answered] == [0] * len(fake.answered)
        return fake.accepted


@pytest.fixture(scope="module")
def plain_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Accepted]]:
    root = tmp_path_factory.mktemp("plain-county")
    return {
        platform: _county_year(f"sqlite:///{root / platform}.db", platform, Cast.of(PLAIN, 0))
        for platform in PLATFORMS
    }


@pytest.mark.parametrize(("platform", "shift"), [("wecom", 0), ("dingtalk", 4), ("feishu", 8)])
def test_hostile_names_reach_the_chats_as_plain_text(
    platform: str, shift: int, tmp_path: Path, plain_runs: dict[str, list[Accepted]]
) -> None:
    """Each platform gets the names in other roles (`shift`), so every name is a unit, a
    person, a group or a chat somewhere."""
    hostile = _county_year(f"sqlite:///{tmp_path / 'duban.db'}", platform, Cast.of(NAMES, shift))
    plain = plain_runs[platform]
    assert [m.msgtype for m in hostile] == [m.msgtype for m in plain]
    assert len(hostile) >= 4  # the round's message, 月分析, 季调度, 年督考
    for got, expected in zip(hostile, plain, strict=True):
        shown, baseline = received(got), received(expected)
        assert shown.links == [], shown.links
        assert sorted(shown.mentions) == sorted(baseline.mentions)  # the liaisons, nobody else
        assert set(shown.mentions) <= {f"mobile:{m}" for m in MOBILES}, shown.mentions
        assert kinds(shown.text) == kinds(baseline.text), shown.text
        assert not INVISIBLE & set(shown.text)
    everything = "\n".join(received(m).text for m in hostile)
    for readable in ("点我", "所有人", "加粗", "县财政局", "通报", "伪造的任务", "删除"):
        assert readable in everything, readable  # the names are shown, only made inert
    titles = [m.title or received(m).text.split("\n", 1)[0] for m in hostile]
    assert any("全面深化改革工作分析" in t for t in titles)  # 月分析
    assert any("改革工作调度" in t for t in titles)  # 季调度
    assert any("全面深化改革督查考核结果" in t for t in titles)  # 年督考
