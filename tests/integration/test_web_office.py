"""工作台 through a real `duban serve`: the queues, each decision in one form, the import with its
preview and confirm, recognitions, 问责, people and invitations, a channel's test message;
403 for every other role, CSRF refused, sign-in required."""

from __future__ import annotations

import datetime as dt
import hmac
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from duban.app.masking import mask_mobiles
from duban.app.people import PeopleRegistry
from duban.app.services import Services, open_ledger
from duban.settings.config import load_config
from tests.support import webdriver
from tests.support.api import write_config
from tests.support.cli_zygote import run_cli
from tests.support.server import REPO, ServeProcess, start_serve
from tests.support.signin import add_person, browser_sign_in, csrf_of, invite, redeem, signed_in

LEAD = "liaison:县发展和改革局/张伟"
TASKS = """\
year: 2030
tasks:
{rows}
"""


def _task(code: str, title: str, unit: str = "县发展和改革局") -> str:
    return (
        f"- code: {code}\n  title: {title}\n  lead_unit: {unit}\n"
        f"  official: 王建国\n  deadline: '2030-06-30'\n"
    )


def _run(config: Path, *args: str, now: str | None = None) -> str:
    """One `duban` command forked from the suite's pre-imported CLI (the store is set up with
    some twenty commands; this module is about the workspace, not the CLI's start-up)."""
    env = {**os.environ, **({"DUBAN_NOW": now} if now else {})}
    done = run_cli(["--config", str(config), *args], env=env, cwd=config.parent)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store for the module: every test works on its own tasks."""
    root = tmp_path_factory.mktemp("office")
    path = write_config(root, f"sqlite:///{root / 'var' / 'duban.db'}")
    _run(path, "init")
    month_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).isoformat()
    late = root / "late.yaml"
    late.write_text(TASKS.format(rows=_task("L-01", "逾期未签收的任务")), encoding="utf-8")
    _run(path, "import", str(late), now=month_ago)
    rows = "".join(_task(f"T-0{n}", f"工作台测试任务{n}") for n in range(1, 8))
    tasks = root / "tasks.yaml"
    tasks.write_text(TASKS.format(rows=rows), encoding="utf-8")
    _run(path, "import", str(tasks))
    for code in ("T-01", "T-02", "T-03", "T-04", "T-05"):
        _run(path, "task", "claim", code, "--as", LEAD)
    for code in ("T-01", "T-02"):
        reason = "征求意见范围扩大，需延长"
        _run(
            path,
            "task",
            "request-extension",
            code,
            "--to",
            "2030-09-30",
            "--reason",
            reason,
            "--as",
            LEAD,
        )
    for code in ("T-03", "T-04"):
        _run(path, "task", "submit", code, "--summary", "已印发实施方案", "--as", LEAD)
    _run(
        path,
        "plan",
        "submit",
        "FA-01",
        "--title",
        "试点实施方案",
        "--unit",
        "县发展和改革局",
        "--task",
        "T-05",
    )
    _run(path, "instruction", "issue", "T-05", "--text", "请加快推进，月底前报结果")
    add_person(path, "office", "李主任", "lizhuren")
    add_person(path, "auditor", "审计员", "shenji")
    return path


@pytest.fixture(scope="module")
def server(config: Path) -> Iterator[ServeProcess]:
    process = start_serve(config, config.parent / "logs", "--no-scheduler")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def office(config: Path, server: ServeProcess) -> httpx.Cookies:
    return signed_in(server.url, config, "lizhuren")


def _web(server: ServeProcess, cookies: httpx.Cookies | None = None) -> httpx.Client:
    return httpx.Client(base_url=server.url, cookies=cookies, timeout=30)


def _section(html: str, queue: str) -> str:
    found = re.search(rf'<section class="queue" id="q-{queue}">(.*?)</section>', html, re.S)
    assert found, f"no {queue} queue"
    return found[1]


def _status(config: Path, code: str) -> str:
    return _run(config, "task", "show", code)


def test_the_queues_show_each_item_with_its_count(
    server: ServeProcess, office: httpx.Cookies
) -> None:
    with _web(server, office) as web:
        page = web.get("/office")
    assert page.status_code == 200
    html = page.text
    claims = _section(html, "claims")
    assert "L-01" in claims
    assert "逾期未签收的任务" in claims
    assert "应于" in claims
    assert "T-06" not in claims  # assigned today: not late yet
    extensions = _section(html, "extensions")
    assert "T-01" in extensions
    assert "2030-09-30" in extensions
    assert "征求意见范围扩大" in extensions
    completions = _section(html, "completions")
    assert "T-03" in completions
    assert "已印发实施方案" in completions
    assert "FA-01" in _section(html, "plans")
    assert "请加快推进" in _section(html, "instructions")
    assert '<span class="count">0</span>' in _section(html, "failed")
    for name in (
        "待签收（逾期）",
        "待审批延期",
        "待销号审核",
        "待前置初审",
        "待回复批示",
        "发送失败",
    ):
        assert name in html
    assert not re.search(r"\b(pending|submitted|in_review|assigned|claimed)\b", html)


OFFICE_PAGES = (
    "/office",
    "/office/import",
    "/office/recognitions",
    "/office/accountability",
    "/office/people",
    "/office/channels",
)


@pytest.mark.parametrize("person", ["张伟", "王建国", "shenji"])
def test_every_other_role_gets_403(config: Path, server: ServeProcess, person: str) -> None:
    cookies = signed_in(server.url, config, person)
    with _web(server, cookies) as web:
        for path in OFFICE_PAGES:
            page = web.get(path)
            assert page.status_code == 403, path
            assert 'id="forbidden"' in page.text
        token = csrf_of(web.get("/password").text)
        refused = web.post(
            "/office/extensions/T-02", data={"csrf": token, "reason": "批准", "decision": "grant"}
        )
        assert refused.status_code == 403
    assert "待批延期至：2030年9月30日" in _status(config, "T-02")


def test_signed_out_office_pages_redirect_to_signin(server: ServeProcess) -> None:
    with _web(server) as web:
        for path in ("/office", "/office/people", "/office/import"):
            answer = web.get(path)
            assert answer.status_code == 303
            assert answer.headers["location"] == "/signin?next=" + path


def test_a_decision_without_csrf_changes_nothing(
    config: Path, server: ServeProcess, office: httpx.Cookies
) -> None:
    with _web(server, office) as web:
        for sent in ({}, {"csrf": "0" * 64}):
            answer = web.post(
                "/office/completions/T-04", data={"decision": "accept", "reason": "同意", **sent}
            )
            assert answer.status_code == 403
        assert "T-04" in _section(web.get("/office").text, "completions")


def test_granting_with_another_date_redirects_back_with_a_confirmation(
    config: Path, server: ServeProcess, office: httpx.Cookies
) -> None:
    with _web(server, office) as web:
        token = csrf_of(web.get("/office").text)
        form = {
            "csrf": token,
            "decision": "grant",
            "new_deadline": "2030-08-31",
            "reason": "同意延至8月底",
        }
        answer = web.post("/office/extensions/T-01", data=form)
        assert answer.status_code == 303
        page = web.get(answer.headers["location"])
    assert "已批准延期：T-01" in page.text
    assert "T-01" not in _section(page.text, "extensions")
    shown = _status(config, "T-01")
    assert "完成时限：2030年8月31日" in shown


def test_a_refused_decision_shows_the_reason_and_keeps_the_input(
    config: Path, server: ServeProcess, office: httpx.Cookies
) -> None:
    with _web(server, office) as web:
        token = csrf_of(web.get("/office").text)
        form = {
            "csrf": token,
            "decision": "grant",
            "new_deadline": "2030-01-31",
            "reason": "我写的理由要保留",
        }
        answer = web.post("/office/extensions/T-02", data=form)
    assert answer.status_code == 400
    problem = re.search(r'id="problem-T-02">(.*?)</p>', answer.text)
    assert problem
    assert re.search(r"[\u4e00-\u9fff]", problem[1])
    assert "我写的理由要保留" in answer.text
    assert 'value="2030-01-31"' in answer.text
    assert "待批延期至：2030年9月30日" in _status(config, "T-02")


def test_denying_returning_and_accepting(
    config: Path, server: ServeProcess, office: httpx.Cookies
) -> None:
    with _web(server, office) as web:
        token = csrf_of(web.get("/office").text)
        denied = web.post(
            "/office/extensions/T-02",
            data={"csrf": token, "decision": "deny", "reason": "理由不充分"},
        )
        assert "已驳回延期申请：T-02" in web.get(denied.headers["location"]).text
        returned = web.post(
            "/office/completions/T-03",
            data={"csrf": token, "decision": "return", "reason": "缺少印发文件"},
        )
        assert "已退回销号申请：T-03" in web.get(returned.headers["location"]).text
        accepted = web.post(
            "/office/completions/T-04",
            data={"csrf": token, "decision": "accept", "reason": "材料齐全"},
        )
        assert "已销号：T-04" in web.get(accepted.headers["location"]).text
    assert "状态：已销号" in _status(config, "T-04")
    assert "状态：推进中" in _status(config, "T-03")  # returned: back to work


def test_a_plan_is_reviewed_from_the_queue(server: ServeProcess, office: httpx.Cookies) -> None:
    with _web(server, office) as web:
        token = csrf_of(web.get("/office").text)
        empty = web.post("/office/plans/FA-01", data={"csrf": token, "verdict": "approve"})
        assert empty.status_code == 400
        assert "请填写审核意见" in empty.text
        done = web.post(
            "/office/plans/FA-01", data={"csrf": token, "verdict": "approve", "text": "同意"}
        )
        assert done.status_code == 303
        page = web.get(done.headers["location"])
    assert "前置初审已通过：FA-01" in page.text
    assert "FA-01" not in _section(page.text, "plans")


CSV_HEAD = "编号,改革任务,牵头单位,完成时限\n"


def test_import_previews_then_imports_exactly_what_was_previewed(
    config: Path, server: ServeProcess, office: httpx.Cookies
) -> None:
    with _web(server, office) as web:
        token = csrf_of(web.get("/office/import").text)
        bad = CSV_HEAD + "I-01,新任务甲,县发展和改革局,明年\nI-02,新任务乙,县不存在局,2030-06-30\n"
        refused = web.post(
            "/office/import",
            data={"csrf": token},
            files={"file": ("清单.csv", bad.encode("utf-8"), "text/csv")},
        )
        assert refused.status_code == 400
        assert "第2行「完成时限」" in refused.text
        assert "第3行「牵头单位」" in refused.text
        assert "未导入任何任务" in refused.text
        good = (
            CSV_HEAD
            + "I-01,新任务甲,县发展和改革局,2030-06-30\n"
            + "T-07,改了名字的任务,县发展和改革局,2030-06-30\n"
        )
        preview = web.post(
            "/office/import",
            data={"csrf": token},
            files={"file": ("清单.csv", good.encode("utf-8"), "text/csv")},
        )
        assert preview.status_code == 200
        assert "将新增 1 项，修改 1 项" in preview.text
        digest = re.search(r'name="digest" value="([0-9a-f]{64})"', preview.text)
        assert digest
        assert "I-01" not in _run(config, "board")  # a preview writes nothing
        done = web.post("/office/import/confirm", data={"csrf": token, "digest": digest[1]})
        assert done.status_code == 303
        assert "任务清单已导入：新增 1 项，修改 1 项" in web.get(done.headers["location"]).text
        again = web.post("/office/import/confirm", data={"csrf": token, "digest": digest[1]})
        assert again.status_code == 400
        assert "预览已失效" in again.text
    assert "新任务甲" in _status(config, "I-01")
    assert "改了名字的任务" in _status(config, "T-07")


def test_recognitions_and_accountability(
    config: Path, server: ServeProcess, office: httpx.Cookies
) -> None:
    with _web(server, office) as web:
        token = csrf_of(web.get("/office/recognitions").text)
        form = {
            "csrf": token,
            "code": "T-05",
            "kind": "pilot",
            "level": "provincial",
            "title": "全省营商环境改革试点",
        }
        done = web.post("/office/recognitions", data=form)
        assert done.status_code == 303
        page = web.get(done.headers["location"]).text
        assert "已登记：T-05" in page
        assert "省级改革试点" in page
        assert "全省营商环境改革试点" in page
        measure = {
            "csrf": token,
            "code": "T-05",
            "unit": "县教育局",
            "kind": "interview",
            "document_no": "县改办〔2030〕1号",
            "reason": "进度滞后",
        }
        refused = web.post("/office/accountability", data=measure)
        assert refused.status_code == 400
        assert "不是任务 T-05 的牵头或配合单位" in refused.text
        assert "县改办〔2030〕1号" in refused.text  # what was typed is kept
        recorded = web.post("/office/accountability", data={**measure, "unit": "县发展和改革局"})
        assert recorded.status_code == 303, recorded.text
        listing = web.get(recorded.headers["location"]).text
    assert "已登记追责问责措施：T-05" in listing
    assert "进度滞后" in listing


def test_an_invitation_is_shown_once_and_signs_the_person_in(
    config: Path, server: ServeProcess, office: httpx.Cookies
) -> None:
    with _web(server, office) as web:
        token = csrf_of(web.get("/office/people").text)
        unknown = web.post("/office/people/invite", data={"csrf": token, "person": "无此人"})
        assert unknown.status_code == 400
        assert "名录中没有" in unknown.text
        issued = web.post("/office/people/invite", data={"csrf": token, "person": "李娜"})
        assert issued.status_code == 200
        link = re.search(r'id="invite-link">([^<]+)</textarea>', issued.text)
        assert link
        assert "/invite?t=dbi_" in link[1]
        assert "仅显示这一次" in issued.text
        assert link[1] not in web.get("/office/people").text
    with _web(server) as liaison:
        assert redeem(liaison, link[1]).status_code == 200
        assert liaison.get("/").status_code == 200
        with _web(server, office) as web:
            people = web.get("/office/people").text
            assert "李娜" in people
            assert "在线会话 1 个" in people
            person = re.search(r'name="person" value="(liaison:县财政局/李娜)"', people)
            assert person
            revoked = web.post("/office/people/revoke", data={"csrf": token, "person": person[1]})
            assert "已注销登录会话" in web.get(revoked.headers["location"]).text
        assert liaison.get("/").status_code == 303  # signed out


def test_adding_staff(server: ServeProcess, office: httpx.Cookies) -> None:
    with _web(server, office) as web:
        token = csrf_of(web.get("/office/people").text)
        form = {"csrf": token, "role": "auditor", "name": "王审计", "login": "wangsj"}
        done = web.post("/office/people/add", data=form)
        assert done.status_code == 303
        assert "已添加人员：王审计" in web.get(done.headers["location"]).text
        again = web.post("/office/people/add", data=form)
    assert again.status_code == 400
    assert "已被使用" in again.text


def test_a_channel_test_message(server: ServeProcess, office: httpx.Cookies) -> None:
    with _web(server, office) as web:
        page = web.get("/office/channels")
        assert "控制台" in page.text
        assert "县发展和改革局" in page.text
        assert "webhook" not in page.text.lower()
        token = csrf_of(page.text)
        done = web.post("/office/channels/fgj/test", data={"csrf": token})
        assert done.status_code == 303
        assert "测试消息已送达" in web.get(done.headers["location"]).text
        assert web.post("/office/channels/nope/test", data={"csrf": token}).status_code == 404


@pytest.mark.skipif(not webdriver.available(), reason="Chromium is not installed")
def test_the_office_grants_an_extension_from_the_queue_in_chromium(
    config: Path, server: ServeProcess
) -> None:
    """A phone-sized Chromium: the queue, one form, the confirmation; no horizontal scroll."""
    _run(config, "task", "request-extension", "T-05", "--to", "2030-10-31", "--reason",
         "需等待省级批复", "--as", LEAD)  # fmt: skip
    link = invite(config, "lizhuren", server.url)["link"]
    with webdriver.chromium(390, 844) as browser:
        browser_sign_in(browser, link)
        browser.open(server.url + "/office")
        form = browser.find("#ext-T-05 form")
        browser.fill("#ext-T-05 textarea[name=reason]", "同意，按申请日期延期")
        assert browser.script("return document.documentElement.scrollWidth <= window.innerWidth")
        browser.screenshot(REPO / "test-artifacts" / "office-queues-390x844.png")
        browser.submit(form)
        assert "已批准延期：T-05" in browser.text(browser.find("#done"))
        assert browser.find_all("#ext-T-05") == []
    assert "完成时限：2030年10月31日" in _status(config, "T-05")


# ---- what a person typed comes back as typed; tokens and links whole ------------------------

TYPED_MOBILE = "13912345678"  # a number the person typed: masked it would be input lost


def _textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea name="{name}"[^>]*>([^<]*)</textarea>', html)
    assert found, f"no {name} textarea"
    return found[1]


def test_a_refused_decision_gives_back_a_typed_mobile_number_as_typed(
    config: Path, server: ServeProcess, office: httpx.Cookies
) -> None:
    _run(config, "task", "claim", "T-07", "--as", LEAD)
    _run(config, "task", "request-extension", "T-07", "--to", "2030-09-30",
         "--reason", "等待省级批复", "--as", LEAD)  # fmt: skip
    reason = f"请联系经办人 {TYPED_MOBILE} 核实"
    with _web(server, office) as web:
        token = csrf_of(web.get("/office").text)
        form = {"csrf": token, "decision": "grant", "new_deadline": "2030-01-31", "reason": reason}
        answer = web.post("/office/extensions/T-07", data=form)  # before the deadline: refused
    assert answer.status_code == 400
    assert reason in answer.text
    assert "139****5678" not in answer.text


def test_refused_office_forms_keep_typed_values_as_typed(
    server: ServeProcess, office: httpx.Cookies
) -> None:
    with _web(server, office) as web:
        token = csrf_of(web.get("/office/accountability").text)
        measure = {
            "csrf": token,
            "code": "T-05",
            "unit": "县教育局",
            "kind": "talk",
            "reason": f"联系人 {TYPED_MOBILE}",
            "document_no": "改办〔2030〕1号",
        }
        refused = web.post("/office/accountability", data=measure)
        assert refused.status_code == 400
        assert _textarea(refused.text, "reason") == f"联系人 {TYPED_MOBILE}"
        people = web.post("/office/people/invite", data={"csrf": token, "person": TYPED_MOBILE})
        assert people.status_code == 400
        assert f'name="person" value="{TYPED_MOBILE}"' in people.text


def test_a_refused_report_and_instruction_keep_what_was_typed(
    config: Path, server: ServeProcess
) -> None:
    text = f"已与对接人 {TYPED_MOBILE} 沟通"
    liaison = signed_in(server.url, config, "张伟")
    with _web(server, liaison) as web:
        token = csrf_of(web.get("/tasks/T-05").text)
        refused = web.post(
            "/tasks/T-05/report", data={"csrf": token, "text": text, "percent": "150"}
        )
    assert refused.status_code == 400
    assert _textarea(refused.text, "text") == text
    official = signed_in(server.url, config, "王建国")
    with _web(server, official) as web:
        token = csrf_of(web.get("/official").text)
        form = {"csrf": token, "text": f"请 {TYPED_MOBILE} 牵头", "answer_by": "月底"}
        answer = web.post("/tasks/T-06/instructions", data=form)
    assert answer.status_code == 400
    assert "答复时限须是日期" in answer.text
    assert f"请 {TYPED_MOBILE} 牵头" in answer.text


def test_a_csrf_token_holding_an_eleven_digit_run_reaches_the_form_whole(
    config: Path, server: ServeProcess
) -> None:
    """The token is HMAC(secret, pre-session): find a pre-session whose token has a run like a
    mobile number (masked, it would be refused as a stranger's form)."""
    services = Services(config=load_config(config), ledger=open_ledger(load_config(config).store))
    try:
        secret = PeopleRegistry.of(services).csrf_secret()
    finally:
        services.ledger.close()
    pre, token = next(
        (pre, token)
        for pre in (f"pre-{n}" for n in range(100_000))
        if mask_mobiles(token := hmac.new(secret, f"p:{pre}".encode(), "sha256").hexdigest())
        != token
    )
    with _web(server) as web:
        web.cookies.set("duban_pre", pre)
        page = web.get("/signin")
        assert csrf_of(page.text) == token
        form = {"csrf": token, "login": TYPED_MOBILE, "password": "not-the-password"}
        answer = web.post("/signin", data=form)
    assert answer.status_code == 400, answer.text  # refused for the password, not the form
    assert f'value="{TYPED_MOBILE}"' in answer.text  # the login as typed, to correct the rest


# ---- an invitation from the workspace: expired or used, it is refused -----------------------


def _issued_link(server: ServeProcess, office: httpx.Cookies, person: str) -> str:
    with _web(server, office) as web:
        token = csrf_of(web.get("/office/people").text)
        issued = web.post("/office/people/invite", data={"csrf": token, "person": person})
    assert issued.status_code == 200, issued.text
    link = re.search(r'id="invite-link">([^<]+)</textarea>', issued.text)
    assert link
    return link[1]


def test_a_workspace_invitation_expires_and_is_used_once(
    config: Path, server: ServeProcess, office: httpx.Cookies
) -> None:
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=73)).isoformat()
    expired = _issued_link(server, office, "赵磊")
    future = start_serve(config, config.parent / "logs-later", "--no-scheduler",
                         env={"DUBAN_NOW": later})  # fmt: skip
    try:
        with _web(future) as web:
            answer = redeem(web, expired)
            assert answer.status_code == 400
            assert "已过期" in answer.text
            assert web.get("/").status_code == 303
    finally:
        future.stop()
    fresh = _issued_link(server, office, "赵磊")
    with _web(server) as web:
        assert redeem(web, fresh).status_code == 200
    with _web(server) as again:
        refused = redeem(again, fresh)
        assert refused.status_code == 400
        assert "已使用过" in refused.text
        assert again.get("/").status_code == 303


# ---- a form too large: a Chinese page, not the API's JSON -----------------------------------


def _declared_post(server: ServeProcess, path: str, size: int) -> tuple[int, str, str]:
    """POST `path` declaring a body of `size` bytes and send none: the limit answers first."""
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), 30) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {size}\r\n\r\n"
        )
        sock.sendall(head.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head_bytes, _, body = answer.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    kind = next((line.split(":", 1)[1].strip() for line in lines if
                 line.lower().startswith("content-type:")), "")  # fmt: skip
    return int(lines[0].split()[1]), kind, body.decode("utf-8")


def test_a_web_form_over_the_limit_gets_a_chinese_page(server: ServeProcess) -> None:
    status, kind, body = _declared_post(server, "/tasks/T-05/report", 300 * 1024 * 1024)
    assert status == 413
    assert kind.startswith("text/html")
    assert "上传的文件过大：每个文件不超过 20 MB，每次最多 10 个" in body
    assert "本次提交未作任何处理" in body
    status, kind, body = _declared_post(server, "/office/people/add", 2 * 1024 * 1024)
    assert (status, kind.split(";")[0]) == (413, "text/html")
    assert "提交的内容过大：上限为 1 MB" in body
    status, kind, body = _declared_post(server, "/api/v1/files", 300 * 1024 * 1024)
    assert (status, kind) == (413, "application/json")


def test_task_history_says_how_each_person_acted(config: Path, server: ServeProcess) -> None:
    """`duban task history` names the door as the audit trail does: 「（网页登录）」 for the web."""
    liaison = signed_in(server.url, config, "张伟")
    with _web(server, liaison) as web:
        token = csrf_of(web.get("/tasks/T-05").text)
        done = web.post(
            "/tasks/T-05/report", data={"csrf": token, "text": "网页报送", "percent": "60"}
        )
        assert done.status_code == 303, done.text
    history = _run(config, "task", "history", "T-05")
    lines = [line for line in history.splitlines() if "报送进展" in line]
    assert lines, history
    assert "张伟（网页登录）" in lines[-1]
    claimed = next(line for line in history.splitlines() if "签收" in line)
    assert "网页登录" not in claimed  # claimed from the command line: no door named
    assert "接口令牌" not in claimed
