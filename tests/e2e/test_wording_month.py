"""Issue 14, acceptance 1 and 2: one scripted month, every surface a person reads, in Chinese.

June 2026 in a county of four units (WeCom, DingTalk and Feishu chats on the local platform
fakes), the office's and the leaders' chats and three officials: the task list is imported,
claimed and reported on (a co-unit too), an extension is asked, granted and denied, a completion
submitted, returned and accepted, a plan submitted and returned, a 批示 issued and answered, a
问责 measure recorded, a task recognised, and the sweep runs every working day so that 催办, 督办
and 通报 go out. At the end of the month: the monthly report, the quarterly dispatch and the
annual assessment in every document format, the board (CLI and `duban serve`'s web pages), task
show and history, the audit trail, the 督办单 PDF, a dozen bad inputs at the CLI and the API
(validation errors, a liaison refused another unit's task, an auditor refused a write), and the
scheduled report posts reaching the chats.

Every command goes through the real `duban` entry point with `$DUBAN_NOW` pinned to its step
(forked from one process that imported the CLI once, `tests.support.cli_zygote`, so the month
takes seconds, not minutes); the API and the web board are a real `duban serve`. Every text a
person reads is collected (`tests.support.wording`) and must hold no English word, no Python
repr and, in chat messages, no channel code; the failure message lists each leak with where it
was seen. Identifiers stay in `--format json` and CSV/JSONL data files, which are not scanned.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

import chinese_calendar
import httpx
import pytest

from duban.app.scheduled import JOBS
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from tests.conftest import TZ
from tests.fakes.platforms import FakePlatforms
from tests.support.cli_zygote import Zygote
from tests.support.clock import NOW_ENV
from tests.support.server import start_serve
from tests.support.wording import Collector, chat_source, coverage, dump, leak_report, scan

DATA = Path(__file__).resolve().parents[1] / "data" / "wording"
CHANNELS = {  # channel code → (platform, whose chat)
    "office": ("dingtalk", "县委改革办"),
    "leaders": ("feishu", "县领导"),
    "bb": ("wecom", "县委编办"),
    "fgj": ("dingtalk", "县发展和改革局"),
    "czj": ("feishu", "县财政局"),
    "jyj": ("wecom", "县教育局"),
}
BB = "liaison:县委编办/谢雯"
FGJ = "liaison:县发展和改革局/张伟"
CZJ = "liaison:县财政局/李静"
JYJ = "liaison:县教育局/高燕"
AUDITOR = "auditor:县纪委监委督查室"
WANG = "official:王建国"
PLAN = "FA-2026-04"  # the 方案编号 the liaison gives the plan
END = "2026-06-30T17:00"
DATA_FORMATS = {"json", "jsonl", "csv"}


@dataclass
class Month:
    """The month's store, its commands and everything they printed."""

    folder: Path
    config: Path
    zygote: Zygote
    texts: Collector = field(default_factory=Collector)
    failures: list[str] = field(default_factory=list)
    _count: int = 0

    def duban(
        self, *args: str, at: str, expect: int | None = 0, surface: str = "CLI"
    ) -> tuple[int, str, str]:
        """Run `duban ARGS` at `at`; collect its stdout (unless a data format) and stderr.
        `expect`: its exit status (None: any error status)."""
        self._count += 1
        out, err = self.folder / f"{self._count}.out", self.folder / f"{self._count}.err"
        env = {**os.environ, "DUBAN_CONFIG": str(self.config), NOW_ENV: at, "COLUMNS": "100"}
        env["DUBAN_LOG_JSON"] = "0"  # a person at a terminal: log lines as they read them
        code = self.zygote.run(list(args), env=env, cwd=self.folder, out=out, err=err)
        stdout = out.read_text(encoding="utf-8", errors="replace")
        stderr = err.read_text(encoding="utf-8", errors="replace")
        command = "duban " + " ".join(args)
        if code != expect and not (expect is None and code not in (0, 70)):
            wanted = "an error status" if expect is None else expect
            self.failures.append(
                f"{command} (at {at}) exited {code}, not {wanted}: {stderr[-300:]}"
            )
        data = any(f"--format={f}" in args or ("--format", f) in _pairs(args) for f in DATA_FORMATS)
        if not data:
            self.texts.add(surface, command, stdout)
        self.texts.add(surface, f"{command} [stderr]", stderr)
        return code, stdout, stderr

    def data(self, *args: str, at: str) -> Any:
        """`duban ARGS --format json`, parsed (identifiers: not scanned)."""
        code, stdout, _ = self.duban(*args, "--format", "json", at=at)
        return json.loads(stdout) if code == 0 and stdout.strip() else None


def _pairs(args: tuple[str, ...]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(args))


def _working_days(first: dt.date, last: dt.date) -> list[dt.date]:
    return list(chinese_calendar.get_workdays(first, last))


@pytest.fixture
def fake() -> Iterator[FakePlatforms]:
    with FakePlatforms(
        wecom_per_window=10_000,
        dingtalk_per_window=10_000,
        feishu_per_window=10_000,
        feishu_per_second=10_000,
    ) as fake:  # a month of messages in a minute of real time: no rate limit in the way
        yield fake


@pytest.fixture
def month(tmp_path: Path, fake: FakePlatforms) -> Iterator[Month]:
    add: dict[str, Callable[[str], str]] = {
        "wecom": fake.add_wecom,
        "dingtalk": fake.add_dingtalk,
        "feishu": fake.add_feishu,
    }
    urls = {
        f"{code}_url": add[platform](f"robot{code}") for code, (platform, _) in CHANNELS.items()
    }
    text = Template((DATA / "duban.toml").read_text(encoding="utf-8")).substitute(
        store=f"sqlite:///{tmp_path / 'duban.db'}", host=fake.host, **urls
    )
    config = tmp_path / "duban.toml"
    config.write_text(text, encoding="utf-8")
    with Zygote() as zygote:
        yield Month(tmp_path, config, zygote)


def test_a_scripted_month_reads_as_chinese_on_every_surface(
    month: Month, fake: FakePlatforms
) -> None:
    _the_month(month)
    _end_of_month_reading(month)
    _bad_inputs_at_the_cli(month)
    _the_api_and_the_web_board(month)
    _scheduled_posts(month)
    units = {code: whose for code, (_, whose) in CHANNELS.items()}
    for number, message in enumerate(fake.accepted, 1):
        robot = message.robot.removeprefix("robot")
        source = chat_source(message.platform, robot, units, number)
        month.texts.add("chat", source, "\n".join(filter(None, [message.title, message.text])))
    leaks = scan(month.texts.texts, channel_codes=CHANNELS)
    report = f"Read: {coverage(month.texts.texts)}\n\n{leak_report(leaks)}"
    (month.folder / "leaks.md").write_text(report, encoding="utf-8")
    (month.folder / "texts.txt").write_text(dump(month.texts.texts), encoding="utf-8")
    if target := os.environ.get("DUBAN_WORDING_REPORT"):  # a file to keep the to-do list in
        Path(target).write_text(report, encoding="utf-8")
        Path(f"{target}.texts.txt").write_text(dump(month.texts.texts), encoding="utf-8")
    assert fake.accepted, "the month sent no chat message"
    assert not month.failures, "steps that did not go as scripted:\n" + "\n".join(month.failures)
    assert not leaks, f"{len(leaks)} leaks in what people read:\n{report}"


def _the_month(m: Month) -> None:
    day1 = "2026-06-01T09:30"
    m.duban("init", at=day1)
    m.duban("import", str(DATA / "tasks.csv"), at=day1)
    _jobs(m, "2026-06-01T09:35", "report_round")  # this month's round of progress reports
    steps: dict[str, list[tuple[str, ...]]] = {
        "2026-06-02": [
            ("task", "claim", "2026-01", "--as", BB),
            ("task", "claim", "2026-02", "--as", FGJ),
            ("task", "claim", "2026-03", "--as", CZJ),
            ("task", "claim", "2026-04", "--as", JYJ),
            ("task", "report", "2026-02", "--text", "已梳理县财政配套资金需求", "--percent",
             "10", "--as", CZJ),
        ],
        "2026-06-03": [
            ("task", "report", "2026-02", "--text", "重点项目谋划清单初稿已形成", "--percent",
             "30", "--as", FGJ),
            ("task", "report", "2026-03", "--text", "绩效目标已随预算批复", "--percent", "60",
             "--as", CZJ),
            ("task", "request-extension", "2026-02", "--to", "2026-07-31", "--reason",
             "省级项目库调整，申报窗口推迟", "--as", FGJ),
        ],
        "2026-06-04": [
            ("task", "grant-extension", "2026-02", "--reason", "情况属实，同意延期"),
            ("task", "request-extension", "2026-03", "--to", "2026-07-15", "--reason",
             "人员调整", "--as", CZJ),
        ],
        "2026-06-05": [
            ("task", "deny-extension", "2026-03", "--reason", "理由不充分，请按期完成"),
            ("instruction", "issue", "2026-02", "--text", "请加快项目谋划，6月10日前报送清单",
             "--answer-by", "2026-06-10", "--as", WANG),
        ],
        "2026-06-08": [
            ("plan", "submit", PLAN, "--title", "集团化办学改革实施方案", "--task", "2026-04",
             "--text", "初稿，请改革办初审", "--as", JYJ),
        ],
        "2026-06-09": [
            ("task", "submit", "2026-03", "--summary", "预算绩效一体化系统已上线运行", "--as",
             CZJ),
        ],
        "2026-06-10": [
            ("task", "return", "2026-03", "--reason", "请补充绩效评价结果应用情况"),
            ("instruction", "answer", "2026-02/1", "--text", "清单已于6月9日报送", "--as",
             FGJ),
        ],
        "2026-06-11": [
            ("task", "submit", "2026-03", "--summary", "已补充绩效评价结果应用情况", "--as",
             CZJ),
            ("accountability", "record", "2026-01", "--unit", "县委编办", "--kind", "约谈",
             "--reason", "逾期未完成且推进不力", "--document", "县改办〔2026〕3号"),
        ],
        "2026-06-12": [
            ("task", "accept", "2026-03"),
            ("task", "recognise", "2026-04", "--kind", "pilot", "--level", "municipal",
             "--title", "市级集团化办学改革试点"),
        ],
    }  # fmt: skip
    for day in _working_days(dt.date(2026, 6, 1), dt.date(2026, 6, 30)):
        at = f"{day}T10:00"
        for args in steps.get(day.isoformat(), []):
            m.duban(*args, at=at)
        if day.isoformat() == "2026-06-08":
            m.duban("plan", "review", PLAN, "--verdict", "return", "--reason",
                    "请细化任务分工和时间节点", at=f"{day}T16:00")  # fmt: skip
        m.duban("sweep", at=f"{day}T10:30")


def _end_of_month_reading(m: Month) -> None:
    out = m.folder / "out"
    out.mkdir()
    for kind, period in (("monthly", "2026-06"), ("quarterly", "2026Q2"), ("assessment", "2026")):
        m.duban("report", kind, period, at=END, surface="report md")
        for fmt in ("html", "xlsx"):
            path = out / f"{kind}.{fmt}"
            m.duban("report", kind, period, "--format", fmt, "--output", str(path), at=END)
            source = f"duban report {kind} {period} --format {fmt}"
            if not path.exists():
                m.failures.append(f"{source} wrote no file")
            elif fmt == "html":
                m.texts.add_html("report html", source, path.read_text(encoding="utf-8"))
            else:
                m.texts.add_xlsx("report xlsx", source, path)
    board = out / "board.xlsx"
    m.duban("board", "--format", "xlsx", "--output", str(board), at=END)
    if board.exists():
        m.texts.add_xlsx("report xlsx", "duban board --format xlsx", board)
    for args in (
        ("board",),
        ("board", "--unit", "县财政局"),
        ("board", "--official", "王建国"),
        ("task", "show", "2026-01"),
        ("task", "show", "2026-02"),
        ("task", "show", "2026-03"),
        ("task", "history", "2026-02"),
        ("task", "history", "2026-03"),
        ("instruction", "list"),
        ("accountability", "list", "--year", "2026"),
        ("plan", "list"),
        ("document", "list"),
        ("token", "list"),
        ("scheduler", "jobs"),
        ("calendar", "show", "2026"),
    ):
        m.duban(*args, at=END)
    m.duban("plan", "show", PLAN, at=END)
    m.duban("plan", "history", PLAN, at=END)
    for args in (("audit", "log"), ("audit", "log", "--task", "2026-01"), ("audit", "verify"),
                 ("audit", "head")):  # fmt: skip
        m.duban(*args, at=END, surface="audit")
    documents = m.data("document", "list", at=END) or []
    if not documents:
        m.failures.append("no 督办单 or 通报 was numbered in the month")
    for document in documents[:2]:
        number = str(document["number"])
        m.duban("document", "show", number, at=END)
        pdf = out / f"document-{len(list(out.glob('*.pdf')))}.pdf"
        m.duban("document", "pdf", number, "--output", str(pdf), at=END)
        if pdf.exists():
            m.texts.add_pdf("report pdf", f"duban document pdf {number}", pdf)
    for args in (("--help",), ("task", "--help"), ("task", "report", "--help"),
                 ("report", "--help"), ("board", "--help")):  # fmt: skip
        m.duban(*args, at=END, surface="CLI help")


def _bad_inputs_at_the_cli(m: Month) -> None:
    bad: list[tuple[str, ...]] = [
        ("task", "report", "2026-02", "--text", "进展", "--percent", "150", "--as", FGJ),
        ("task", "report", "2026-02", "--text", "", "--percent", "20", "--as", FGJ),
        ("task", "request-extension", "2026-02", "--to", "2026-13-01", "--reason", "因故",
             "--as", FGJ),
        ("task", "show", "2099-99"),
        ("task", "claim", "2026-05", "--as", CZJ),  # another unit's task
        ("task", "report", "2026-02", "--text", "代报", "--percent", "50", "--as", AUDITOR),
        ("instruction", "issue", "2026-02", "--text", "请加快", "--as", FGJ),
        ("task", "accept", "2026-02"),  # nothing submitted
        ("import", str(DATA / "bad-tasks.csv")),
        ("board", "--as-of", "上个月"),
        ("sweep", "--now", "明天上午"),
        ("task", "show", "2026-01", "--as", "nobody"),
        ("task", "recognise", "2026-04", "--kind", "model", "--level", "city", "--title",
             "试点"),
        ("accountability", "record", "2026-01", "--unit", "县委编办", "--kind", "警告",
             "--reason", "推进不力", "--document", "县改办〔2026〕4号"),
    ]  # fmt: skip
    for args in bad:
        m.duban(*args, at=END, expect=None)  # the wording is checked, not the status


def _the_api_and_the_web_board(m: Month) -> None:
    tokens = {
        who: (m.data("token", "issue", *args, at=END) or {}).get("token", "")
        for who, args in {
            "office": ("--role", "office"),
            "czj": ("--role", "liaison", "--unit", "县财政局", "--name", "李静"),
            "fgj": ("--role", "liaison", "--unit", "县发展和改革局", "--name", "张伟"),
            "auditor": ("--role", "auditor", "--name", "县纪委监委督查室"),
            "official": ("--role", "official", "--name", "王建国"),
        }.items()
    }
    server = start_serve(m.config, m.folder / "serve", "--no-scheduler", env={NOW_ENV: END})
    try:
        _api_calls(m, server.url, tokens)
        web = httpx.Client(base_url=server.url, timeout=30)
        for path in ("/", "/?unit=县财政局", "/?light=red", "/tasks/2026-01", "/tasks/2026-02",
                     "/tasks/2026-03", "/tasks/2099-99"):  # fmt: skip
            page = web.get(path)
            m.texts.add_html("web", f"GET {path} → {page.status_code}", page.text)
        web.close()
    finally:
        server.stop()
    for line in server.output().splitlines():
        if line.strip() and not line.lstrip().startswith("{"):  # structured log lines: data
            m.texts.add("CLI", "duban serve", line)
    m.duban("deliver", at="2026-06-30T17:10")  # what the API's commands queued


def _api_calls(m: Month, url: str, tokens: dict[str, str]) -> None:
    calls: list[tuple[str, str, str, Any]] = [
        ("czj", "POST", "/tasks/2026-06/claim", None),
        ("czj", "POST", "/tasks/2026-06/reports", {"text": "章程修订稿已起草", "percent": 40}),
        ("czj", "POST", "/tasks/2026-02/reports", {"text": "配合完成资金测算", "percent": 150}),
        ("czj", "POST", "/tasks/2026-02/reports", {"percent": "三成"}),
        ("fgj", "POST", "/tasks/2026-02/extension/request",
         {"new_deadline": "2026-13-01", "reason": ""}),
        ("czj", "POST", "/tasks/2026-05/claim", None),  # another unit's task
        ("auditor", "POST", "/tasks/2026-02/reports", {"text": "代报", "percent": 50}),
        ("fgj", "POST", "/tasks/2026-02/instructions", {"text": "请加快"}),
        ("official", "POST", "/tasks/2026-01/recognitions",
         {"kind": "pilot", "level": "municipal", "title": "试点"}),
        ("office", "GET", "/tasks/2099-99", None),
        ("office", "GET", "/board?light=purple", None),
        ("office", "POST", "/tasks/2026-03/completion/accept", {"reason": "同意"}),
        ("office", "POST", "/plans", {"title": ""}),
        ("office", "GET", "/no-such-address", None),
        ("", "GET", "/board", None),  # no token
        ("office", "POST", "/tasks/import", "不是JSON"),
    ]  # fmt: skip
    for who, method, path, body in calls:
        headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
        request: dict[str, Any] = {"headers": headers}
        if isinstance(body, str):
            request["content"] = body.encode()
            headers["Content-Type"] = "application/json"
        elif body is not None:
            request["json"] = body
        answer = httpx.request(method, f"{url}/api/v1{path}", timeout=30, **request)
        source = f"{method} /api/v1{path} as {who or '(no token)'} → {answer.status_code}"
        if answer.is_success:
            continue
        try:
            error = answer.json()
        except ValueError:
            m.texts.add("API", source, answer.text)
            continue
        m.texts.add("API", f"{source} message", str(error.get("message", "")))
        for problem in error.get("fields") or []:
            m.texts.add("API", f"{source} fields", str(problem.get("message", "")))


def _jobs(m: Month, at: str, *names: str) -> None:
    """Run scheduled jobs at `at` as the scheduler would, then one delivery pass."""
    moment = dt.datetime.fromisoformat(at).replace(tzinfo=TZ)
    services = bootstrap(load_config(m.config), lambda: moment)
    try:
        for name in names:
            JOBS[name](services, moment)
        JOBS["deliver"](services, moment)
    finally:
        services.ledger.close()


def _scheduled_posts(m: Month) -> None:
    """The monthly report (3rd working day), the quarterly dispatch (5th working day of the
    quarter) and the annual assessment, as the scheduler posts them to the office chat."""
    july = _working_days(dt.date(2026, 7, 1), dt.date(2026, 7, 31))
    _jobs(m, f"{july[2]}T10:00", "monthly_report")
    _jobs(m, f"{july[4]}T10:00", "quarterly_report")
    _jobs(m, "2027-01-15T10:00", "annual_assessment")
