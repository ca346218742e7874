"""A month of chat messages as a county office writes them (issue 14, acceptance 2 and 5).

One small county over real HTTP to the fake robots: 县委编办 on WeCom (its chat's code name is
``bb``), 县财政局 on DingTalk (``czj``), 县教育局 on Feishu (``jyj``), 县审计局 on a WeCom robot
the platform does not know (``sjj``: its messages fail and the office is told), the office on
WeCom and the leaders on DingTalk. Sweeps run every working day from 30 November to 31 December
2026 with the decisions of that month between them (an extension granted, a completion
accepted), then the 月分析 and the 年督考 are posted. Every body the fakes accepted is read as
the chat shows it and must:

* hold no ASCII word of three or more letters outside `ALLOWED` (after task codes, addresses
  and robot numbers are taken out) and no chat code name;
* name each unit's chat by the unit's name in its digests' titles;
* on WeCom and DingTalk, hold no Markdown table row (a line starting with ``|``): the 年督考
  arrives as a ranked list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.office_messages import queue_once
from duban.app.report_docs import markdown_parts
from duban.app.report_kinds import ANNUAL, report_context, title_of
from duban.app.scheduled import JOBS
from duban.app.services import Services, open_ledger
from duban.app.sweep import sweep
from duban.settings.config import parse_config
from notifiers.limits import BODY_LIMITS, split_for_platform
from notifiers.wecom import MENTION_TEXT
from tests.conftest import TZ
from tests.fakes.chat_markup import received
from tests.fakes.platforms import Accepted, FakeClock, FakePlatforms
from tests.integration.test_delivery_flow import OFFICE, deliver_until_quiet

SECRET = "SECa1b2c3d4e5f60718293a4b5c6d7e8f9"
KEYWORD = "督办"
CODES = ("bb", "czj", "jyj", "sjj", "office", "leaders")
UNITS = {"bb": "县委编办", "czj": "县财政局", "jyj": "县教育局", "sjj": "县审计局"}
ALLOWED = frozenset({"API", "PDF", "Excel"})
"""ASCII words a message may hold: the names of formats and interfaces the office uses."""
_TAKEN_OUT = re.compile(
    r"https?://\S+"  # an address
    r"|(?<![0-9A-Za-z])[0-9a-f]{16}(?![0-9A-Za-z])"  # a robot's number (notifiers.guard)
    r"|(?<![0-9A-Za-z])\d{4}-\d{2}(?![0-9A-Za-z])"  # a task code
)
_WORD = re.compile(r"[A-Za-z]{3,}")
DIGEST_HEAD = re.compile(r"(### )?(【督办】)?改革任务")


@dataclass(frozen=True)
class Month:
    accepted: list[Accepted]
    robots: dict[str, str]  # chat code → the fake's robot id
    failed_codes: list[int]  # the platform codes of refused requests


def _at(month: int, day: int, hour: int = 10, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=TZ)


def _working_days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start
    while day <= end:
        if day.weekday() < 5:
            yield day
        day += dt.timedelta(days=1)


def _county(fake: FakePlatforms, store_url: str) -> tuple[dict[str, Any], dict[str, str]]:
    robots = {
        "bb": fake.add_wecom("bb-robot"),
        "czj": fake.add_dingtalk("czj-robot", secret=SECRET, keyword=KEYWORD),
        "jyj": fake.add_feishu("jyj-robot", secret=SECRET, keyword=KEYWORD),
        "office": fake.add_wecom("office-robot"),
        "leaders": fake.add_dingtalk("leaders-robot", secret=SECRET, keyword=KEYWORD),
    }
    unknown = robots["bb"].replace("key=bb-robot", "key=no-such-robot")
    platform = {"bb": "wecom", "czj": "dingtalk", "jyj": "feishu", "office": "wecom"}
    platform |= {"leaders": "dingtalk"}
    channels: list[dict[str, Any]] = []
    for name, hook in robots.items():
        found: dict[str, Any] = {"name": name, "platform": platform[name], "webhook": hook}
        if platform[name] != "wecom":
            found |= {"secret": SECRET, "keyword": KEYWORD}
        channels.append(found)
    channels.append({"name": "sjj", "platform": "wecom", "webhook": unknown})
    liaisons = {"bb": ("周敏", "13800000001"), "czj": ("李娜", "13800000002")}
    liaisons |= {"jyj": ("王芳", "13800000003"), "sjj": ("赵磊", "13800000004")}
    raw = {
        "store": store_url,
        "allowed_webhook_hosts": [fake.host],
        "channels": channels,
        "office": {"channel": "office", "leaders_channel": "leaders"},
        "units": [
            {"name": unit, "channel": code,
             "liaisons": [{"name": liaisons[code][0], "mobile": liaisons[code][1]}]}
            for code, unit in UNITS.items()
        ],
        "officials": [
            {"name": "陈志远", "title": "县长", "mobile": "13900000001", "channel": "leaders"}
        ],
    }  # fmt: skip
    ids = {name: hook.rsplit("=", 1)[-1].rsplit("/", 1)[-1] for name, hook in robots.items()}
    return raw, ids


def _tasks() -> list[cmd.AssignTask]:
    rows: list[tuple[str, str, dict[str, Any]]] = [
        ("2026-01", "推进机构编制资源统筹使用", {"lead_unit": "县委编办",
            "co_units": ("县财政局",), "official": "陈志远", "deadline": dt.date(2026, 12, 4)}),
        ("2026-02", "深化预算绩效管理改革", {"lead_unit": "县财政局",
            "deadline": dt.date(2026, 12, 15)}),
        ("2026-03", "推进义务教育优质均衡发展", {"lead_unit": "县教育局",
            "deadline": dt.date(2026, 12, 10)}),
        ("2026-04", "深化集团化办学改革", {"lead_unit": "县教育局",
            "deadline": dt.date(2026, 12, 31)}),  # never claimed: the 签收 rungs
        ("2026-05", "完善审计整改长效机制", {"lead_unit": "县审计局",
            "deadline": dt.date(2026, 12, 8)}),  # its chat's robot is unknown: notices fail
    ]  # fmt: skip
    return [
        cmd.AssignTask(code=code, title=title, deadline_text="", **fields)
        for code, title, fields in rows
    ]


def _liaison(unit: str) -> Identity:
    names = {"县委编办": "周敏", "县财政局": "李娜", "县教育局": "王芳", "县审计局": "赵磊"}
    return Identity("liaison", names[unit], unit=unit)


def _scripted_month(store_url: str) -> Month:
    clock = FakeClock(_at(11, 30, 9).timestamp())
    with FakePlatforms(clock=clock) as fake:
        raw, ids = _county(fake, store_url)
        config = parse_config(raw)
        ledger = open_ledger(store_url, lambda: dt.datetime.fromtimestamp(clock(), TZ))
        services = Services(config=config, ledger=ledger)

        def at(moment: dt.datetime) -> dt.datetime:
            clock.now = max(clock.now, moment.timestamp())
            return dt.datetime.fromtimestamp(clock.now, TZ)

        try:
            services.ledger.import_tasks(_tasks(), OFFICE)
            for task in _tasks():
                if task.code != "2026-04":
                    services.ledger.claim(task.code, _liaison(task.lead_unit))
            decisions = {
                dt.date(2026, 12, 2): _extension,
                dt.date(2026, 12, 9): _completion,
            }
            for day in _working_days(dt.date(2026, 11, 30), dt.date(2026, 12, 31)):
                now = at(dt.datetime.combine(day, dt.time(10), TZ))
                if day in decisions:
                    decisions[day](services)
                sweep(services, now)
                deliver_until_quiet(services, clock)
            JOBS["monthly_report"](services, at(_at(1, 4, 10, year=2027)))
            JOBS["annual_assessment"](services, at(_at(1, 4, 11, year=2027)))
            _annual_to_leaders(services, at(_at(1, 4, 12, year=2027)))
            _tables(services, at(_at(1, 4, 14, year=2027)))
            deliver_until_quiet(services, clock)
        finally:
            services.ledger.close()
        failed = [a.code for a in fake.answered if a.code not in (0, None)]
        return Month(fake.accepted, ids, [c for c in failed if c is not None])


def _extension(services: Services) -> None:
    who = _liaison("县财政局")
    asked = cmd.RequestExtension(new_deadline=dt.date(2026, 12, 22), reason="需配合省级系统上线")
    services.ledger.request_extension("2026-02", asked, who)
    services.ledger.grant_extension("2026-02", cmd.DecideExtension(reason="同意延期"), OFFICE)


def _completion(services: Services) -> None:
    summary = cmd.SubmitCompletion(summary="已完成年度任务")
    services.ledger.submit_completion("2026-03", summary, _liaison("县教育局"))
    services.ledger.accept_completion("2026-03", cmd.Decision(reason="同意销号"), OFFICE)


def _annual_to_leaders(services: Services, now: dt.datetime) -> None:
    """The 年督考 for the leaders' chat (DingTalk), as the office's post is made."""
    report = ANNUAL.build(report_context(services), 2026, None)
    queue_once(
        services, now, key="report|annual|leaders", channel="leaders", title=title_of(report),
        parts=markdown_parts(report, "dingtalk"), kind="report",
    )  # fmt: skip


TABLE = "\n".join(
    [
        "### 各单位得分",
        "| 名次 | 单位 | 得分 | 加分 | 扣分 |",
        "|---|---|---|---|---|",
        *(f"| {rank} | {unit} | {100 - rank} | +0 | -{rank} |" for rank, unit in
          enumerate(UNITS.values(), start=1)),
        "| 无任务 | 县统计局 | — | — | — |",
    ]
)  # fmt: skip


def _tables(services: Services, now: dt.datetime) -> None:
    """A Markdown table for 县财政局 (DingTalk) planned for its platform, and one for 县委编办
    (WeCom) queued as it is: whoever builds a message, no chat receives a table."""
    title = "各单位得分情况"
    queue_once(
        services, now, key="table|czj", channel="czj", title=title,
        parts=split_for_platform("dingtalk", TABLE, title), kind="report",
    )  # fmt: skip
    queue_once(
        services, now, key="table|bb", channel="bb", title=title, parts=[TABLE], kind="report"
    )


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Month:
    root = tmp_path_factory.mktemp("wording-month")
    return _scripted_month(f"sqlite:///{root / 'duban.db'}")


def _shown(message: Accepted) -> str:
    return received(message).text


def _of(month: Month, chat: str) -> list[Accepted]:
    return [m for m in month.accepted if m.robot == month.robots[chat]]


def test_the_month_reached_every_chat(month: Month) -> None:
    for chat in ("bb", "czj", "jyj", "office", "leaders"):
        assert _of(month, chat), chat
    assert month.failed_codes
    assert set(month.failed_codes) == {93000}  # only 县审计局's robot refused


def test_no_english_word_and_no_chat_code_in_any_message(month: Month) -> None:
    for message in month.accepted:
        text = _TAKEN_OUT.sub(" ", _shown(message))
        words = set(_WORD.findall(text)) - ALLOWED
        assert not words, (words, text)
        for code in CODES:
            assert not re.search(rf"(?<![0-9A-Za-z]){code}(?![0-9A-Za-z])", text), (code, text)


def test_each_units_digests_name_the_unit(month: Month) -> None:
    for chat in ("bb", "czj", "jyj"):
        digests = [m for m in _of(month, chat) if DIGEST_HEAD.match(_shown(m))]
        assert digests, chat
        for message in digests:
            head = _shown(message).split("\n", 2)[0]
            assert f"｜{UNITS[chat]}｜" in head, head
            assert re.search(r"｜\d{4}年\d{1,2}月\d{1,2}日", head), head
            assert re.search(r"^截至2026年1[12]月\d{1,2}日 10:00，", _shown(message), re.M), head


def test_the_office_and_the_leaders_chats_are_named_as_such(month: Month) -> None:
    def digests(chat: str) -> list[str]:
        return [_shown(m) for m in _of(month, chat) if DIGEST_HEAD.match(_shown(m))]

    office, leaders = digests("office"), digests("leaders")
    assert office
    assert leaders
    assert all("｜县委改革办｜" in text for text in office)
    assert all("｜县领导｜" in text for text in leaders)
    assert any("截至2026年12月18日 10:00，县领导共有" in text for text in leaders)


def test_the_failure_notice_names_the_unit(month: Month) -> None:
    (notice, *_) = [_shown(m) for m in _of(month, "office") if "消息投递失败" in _shown(m)]
    assert "消息投递失败｜县审计局" in notice
    assert "发往县审计局群的消息" in notice
    assert "错误码 93000：机器人地址无效" in notice


def test_closing_lines_as_an_office_writes_them(month: Month) -> None:
    everything = "\n".join(_shown(m) for m in month.accepted)
    assert "请以上督办提醒涉及的联络员及时查看办理" not in everything
    mentions = [_shown(m) for m in _of(month, "bb") if m.msgtype == "text"]
    assert mentions
    assert all(text.endswith(MENTION_TEXT) for text in mentions)
    assert MENTION_TEXT == "请上述事项涉及单位联络员及时办理并报送进展。"
    assert "请被通报单位认真查找原因、限期整改，并及时报送整改情况。" in everything


def test_no_table_rows_on_wecom_or_dingtalk_the_assessment_is_a_ranked_list(month: Month) -> None:
    for message in month.accepted:
        if message.platform in ("wecom", "dingtalk"):
            rows = [line for line in _shown(message).split("\n") if line.lstrip().startswith("|")]
            assert rows == [], rows
    for chat in ("bb", "czj"):
        shown = [_shown(m) for m in _of(month, chat) if "各单位得分" in _shown(m)]
        assert len(shown) == 1, chat
        assert "- 第1名 县委编办：得分99，加分+0，扣分-1" in shown[0], shown[0]
        assert "- 县统计局（无任务）" in shown[0], shown[0]
    for chat in ("office", "leaders"):
        ranked = [line for m in _of(month, chat) for line in _shown(m).split("\n")]
        ranked = [line for line in ranked if line.startswith("- 第1名 ")]
        assert ranked, chat
        assert any(unit in ranked[0] for unit in UNITS.values()), ranked
        assert re.search(r"\d分", ranked[0]), ranked


def test_every_body_is_within_its_platforms_limit(month: Month) -> None:
    for message in month.accepted:
        if message.platform == "wecom" and message.msgtype == "markdown":
            content = message.body["markdown"]["content"]
            assert len(content.encode()) <= BODY_LIMITS["wecom"]
