"""Hostile names through the command line: a config file whose units, liaisons and officials
are named from `tests/reliability/corpus/names/`, the report posts delivered by `duban deliver`
to a fake Feishu robot, and `duban report … --format md` as the office copies it into a chat.

Read by the test's own recogniser (`tests.fakes.chat_markup`): no link, no mention, no HTML and
no formatting but the reports' own headings, bold and lists; every name still readable.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from duban.app import commands as cmd
from duban.app.scheduled import JOBS
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from tests.conftest import TZ, FakeClock
from tests.fakes.chat_markup import markup, received
from tests.fakes.platforms import FakePlatforms
from tests.integration.test_chat_injection import MOBILES, NAMES, OFFICE, Cast, _escalate, _tasks
from tests.support.server import duban

SECRET = "SECe2e0injection0cli"
CAST = Cast.of(NAMES, 2)
_OURS = re.compile(
    r"^(## \d{4}年(\d{1,2}月全面深化改革工作分析|第.季度改革工作调度|度全面深化改革督查考核结果)"
    r"|### (各牵头单位|各专责小组|逾期任务|本月督办|本月销号|较\d{4}年\d{1,2}月变化|前置初审"
    r"|各领衔领导"
    r"|下季度（\d{4}年\d+月\d+日至\d{4}年\d+月\d+日）到期且进度滞后|多次被督办的单位|改革试点与典型"
    r"|追责问责|配合单位报送|考核排名))$"
)


def _s(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string


def _config(tmp_path: Path, webhook: str, host: str) -> Path:
    units = "".join(
        f'\n[[units]]\nname = {_s(unit)}\nchannel = "units"\n'
        f'liaisons = [{{ name = {_s(who)}, mobile = "{mobile}" }}]\n'
        for unit, who, mobile in zip(CAST.units, CAST.liaisons, MOBILES, strict=True)
    )
    officials = "".join(
        f'\n[[officials]]\nname = {_s(name)}\nchannel = "leaders"\n' for name in CAST.officials
    )
    path = tmp_path / "duban.toml"
    path.write_text(
        f'timezone = "Asia/Shanghai"\nstore = "sqlite:///{tmp_path / "duban.db"}"\n'
        f'allowed_webhook_hosts = ["{host}"]\n\n'
        '[office]\nname = "县委改革办"\nchannel = "office"\nleaders_channel = "leaders"\n\n'
        f'[[channels]]\nname = "office"\nplatform = "feishu"\nwebhook = "{webhook}"\n'
        f'secret = "{SECRET}"\n\n'
        '[[channels]]\nname = "leaders"\nplatform = "console"\n\n'
        '[[channels]]\nname = "units"\nplatform = "console"\n' + units + officials,
        encoding="utf-8",
    )
    return path


def _march_and_the_posts(config: Path) -> None:
    """March's facts, then the three posts queued by their jobs (delivered by the CLI)."""
    clock = FakeClock(dt.datetime(2024, 3, 1, 9, tzinfo=TZ))
    services = bootstrap(load_config(config), clock=clock)
    try:
        ledger = services.ledger
        ledger.import_tasks(_tasks(CAST), OFFICE)
        clock.now = dt.datetime(2024, 3, 15, 10, tzinfo=TZ)
        recognition = {"kind": "pilot", "level": "provincial", "title": CAST.recognition}
        ledger.recognise("2024-03", cmd.Recognise.model_validate(recognition), OFFICE)
        ledger.cancel("2024-04", cmd.Decision(reason="合并"), OFFICE)
        for rung, day in (("urge", 21), ("supervise", 26)):
            clock.now = dt.datetime(2024, 3, day, 10, tzinfo=TZ)
            _escalate(services, "2024-01", rung, clock.now)
        for job, moment in (
            ("monthly_report", dt.datetime(2024, 4, 1, 10, tzinfo=TZ)),
            ("quarterly_report", dt.datetime(2024, 4, 1, 11, tzinfo=TZ)),
            ("annual_assessment", dt.datetime(2025, 1, 2, 10, tzinfo=TZ)),
        ):
            clock.now = moment
            JOBS[job](services, moment)
    finally:
        services.ledger.close()


def _inert(text: str) -> None:
    """Only the reports' own markup: its headings, the issuing office and `**总体**` in bold,
    bullets."""
    for kind, token in markup(text):
        assert kind not in {"link", "mention", "html", "entity", "invisible", "quote", "code",
                            "strike", "italic", "escape", "rule"}, (kind, token)  # fmt: skip
        if kind == "bold":
            assert token in {"**总体**", "**县委改革办**"}, token  # the office: the config's
    for line in text.splitlines():
        if line.startswith("#"):
            assert _OURS.match(line), line  # no heading of a name's making


def test_reports_on_the_command_line_and_in_the_office_chat_keep_names_inert(
    tmp_path: Path,
) -> None:
    with FakePlatforms() as fake:
        config = _config(tmp_path, fake.add_feishu(secret=SECRET), fake.host)
        duban(config, "init")
        _march_and_the_posts(config)
        duban(config, "deliver", "--now", "2025-01-02T10:30")
        posts = [received(m) for m in fake.messages("feishu")]
    assert len(posts) == 3  # 月分析, 季调度, 年督考
    for post in posts:
        assert post.links == []
        assert post.mentions == []
        _inert(post.text)
    printed = [
        duban(config, "report", "monthly", "2024-03"),
        duban(config, "report", "quarterly", "2024Q1"),
        duban(config, "report", "assessment", "2024"),
    ]
    for text in printed:
        _inert(text)
    shown = _han("\n".join(printed + [post.text for post in posts]))
    for name in [*CAST.units, *CAST.officials, *CAST.groups, CAST.recognition]:
        assert _han(name) in shown, name  # every name readable, only made inert


def _han(text: str) -> str:
    return "".join(re.findall(r"[\u4e00-\u9fff]", text))
