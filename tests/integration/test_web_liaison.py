"""我的任务, the task page's forms, file downloads and 领衔领导 through a real `duban serve`.

Each person signs in with an invitation (tests/support/signin.py) and uses the pages the way a
browser posts them: the page's CSRF field, multipart forms with files. What a command did is
read back from the API (with a token), never from the page alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import sample_rows, write_config
from tests.support.server import ServeProcess, duban, start_serve
from tests.support.signin import csrf_of, signed_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"x" * 200
LIMIT = 4096  # [web] max_upload_bytes in these tests


@dataclass
class Site:
    server: ServeProcess
    config: Path
    office: str  # an office API token, to read what a command did

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.office}"}
        return httpx.Client(base_url=f"{self.server.url}/api/v1", headers=headers, timeout=30)

    def task(self, code: str) -> dict[str, Any]:
        with self.api() as api:
            answer: dict[str, Any] = api.get(f"/tasks/{code}").raise_for_status().json()
            return answer

    def web(self, person: str | None = None) -> httpx.Client:
        cookies = signed_in(self.server.url, self.config, person) if person else None
        return httpx.Client(base_url=self.server.url, cookies=cookies, timeout=30)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("web_liaison")
    config = write_config(tmp, f"sqlite:///{tmp / 'var' / 'duban.db'}")
    config.write_text(
        config.read_text(encoding="utf-8") + f"\n[web]\nmax_upload_bytes = {LIMIT}\n",
        encoding="utf-8",
    )
    duban(config, "init")
    office = duban(config, "token", "issue", "--role", "office", "--quiet").strip()
    server = start_serve(config, tmp / "logs", "--no-scheduler")
    try:
        made = Site(server, config, office)
        with made.api() as api:
            api.post("/tasks/import", json={"rows": sample_rows()}).raise_for_status()
        yield made
    finally:
        server.stop()


Files = list[tuple[str, tuple[str, bytes, str]]]


def _post(
    web: httpx.Client, page: str, action: str, data: dict[str, str], files: Files | None = None
) -> httpx.Response:
    """Open `page`, then send one of its forms (its CSRF field included)."""
    token = csrf_of(web.get(page).text)
    return web.post(action, data={**data, "csrf": token}, files=files)


# ---- 我的任务 --------------------------------------------------------------------------------


def test_my_tasks_lists_the_units_tasks_as_lead_and_co_unit(site: Site) -> None:
    with site.web("张伟") as lead, site.web("李娜") as co, site.web("赵磊") as other:
        mine = lead.get("/my")
        theirs = co.get("/my")
        others = other.get("/my")
    assert mine.status_code == 200
    assert 'id="task-2024-01"' in mine.text
    assert 'id="task-2024-03"' in mine.text
    assert 'id="task-2024-02"' not in mine.text
    assert "签收截止" in mine.text
    assert "<li>签收</li>" in mine.text
    assert "牵头 2 项 · 配合 0 项" in mine.text
    assert 'id="task-2024-01"' in theirs.text
    assert "报送进展（配合）" in theirs.text
    assert "牵头 0 项 · 配合 2 项" in theirs.text
    assert 'id="task-2024-02"' in others.text
    assert 'id="task-2024-01"' not in others.text
    assert 'href="/my"' in mine.text
    assert "我的任务" in mine.text


@pytest.mark.parametrize(("person", "home"), [("改革办", "/office"), ("王建国", "/official")])
def test_my_sends_the_office_and_officials_to_their_pages(
    site: Site, person: str, home: str
) -> None:
    if person == "改革办":
        duban(site.config, "person", "add", "--role", "office", "--name", "改革办",
              "--login", "office1")  # fmt: skip
        person = "office1"
    with site.web(person) as web:
        answer = web.get("/my")
    assert answer.status_code == 303
    assert answer.headers["location"] == home


def test_signed_out_pages_and_forms_go_to_signin(site: Site) -> None:
    with site.web() as web:
        for path in ("/my", "/official", "/tasks/2024-01"):
            answer = web.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/signin?next=")
        assert web.post("/tasks/2024-01/claim", data={}).status_code == 303
    assert site.task("2024-01")["status"] == "assigned"


# ---- the task page's forms ------------------------------------------------------------------


def test_the_lead_unit_claims_reports_with_files_and_downloads_them(site: Site) -> None:
    with site.web("张伟") as lead:
        page = lead.get("/tasks/2024-02")
        assert page.status_code == 403  # another unit's task
        assert "只能查看本单位" in page.text
        page = lead.get("/tasks/2024-01")
        assert 'id="form-claim"' in page.text
        assert 'id="form-report"' not in page.text
        refused = lead.post("/tasks/2024-01/claim", data={"csrf": "0" * 64})
        assert refused.status_code == 403
        assert site.task("2024-01")["status"] == "assigned"
        done = _post(lead, "/tasks/2024-01", "/tasks/2024-01/claim", {})
        assert done.status_code == 303
        assert done.headers["location"] == "/tasks/2024-01?done=claim"
        shown = lead.get(done.headers["location"])
        assert "已签收" in shown.text
        assert 'id="form-report"' in shown.text
        assert 'id="form-completion"' in shown.text
        assert 'id="form-extension"' in shown.text
        assert '<option value="方案制定">方案制定</option>' in shown.text
        files = [("files", ("征求意见稿.pdf", PDF, "application/pdf")),
                 ("files", ("会议纪要.pdf", PDF + b"2", "application/pdf"))]  # fmt: skip
        form = {"text": "已完成方案起草", "percent": "40", "milestone": "方案制定"}
        reported = _post(lead, "/tasks/2024-01", "/tasks/2024-01/report", form, files)
        assert reported.status_code == 303, reported.text
        assert reported.headers["location"] == "/tasks/2024-01?done=report"
        task = site.task("2024-01")
        assert task["percent"] == 40
        assert task["reports"] == 1
        assert task["closed_milestones"] == ["方案制定"]
        html = lead.get("/tasks/2024-01").text
        digest = hashlib.sha256(PDF).hexdigest()
        assert f'href="/tasks/2024-01/files/{digest}"' in html
        got = lead.get(f"/tasks/2024-01/files/{digest}")
        assert got.status_code == 200
        assert got.content == PDF
        assert got.headers["content-disposition"].startswith("attachment;")
        assert "filename*=UTF-8''%E5%BE%81" in got.headers["content-disposition"]
        assert got.headers["x-content-type-options"] == "nosniff"
        assert lead.get(f"/tasks/2024-01/files/{'0' * 64}").status_code == 404
    with site.web("赵磊") as other:
        refused = other.get(f"/tasks/2024-01/files/{digest}")
        assert refused.status_code == 403
        assert PDF not in refused.content


def test_a_refused_file_or_field_reshows_the_form_with_the_input_and_records_nothing(
    site: Site,
) -> None:
    with site.web("张伟") as lead:
        if site.task("2024-03")["status"] == "assigned":
            _post(lead, "/tasks/2024-03", "/tasks/2024-03/claim", {})
        before = site.task("2024-03")["reports"]
        cases = [
            ([("files", ("大文件.pdf", PDF + b"y" * LIMIT, "application/pdf"))], "过大"),
            ([("files", ("脚本.html", b"<script>1</script>", "text/html"))], "附件「脚本.html」"),
        ]  # fmt: skip
        for files, reason in cases:
            form = {"text": "第一次报送的内容", "percent": "10"}
            answer = _post(lead, "/tasks/2024-03", "/tasks/2024-03/report", form, files)
            assert answer.status_code == 400
            assert reason in answer.text
            assert 'id="error-report"' in answer.text
            assert "第一次报送的内容</textarea>" in answer.text  # what was typed is kept
        answer = _post(lead, "/tasks/2024-03", "/tasks/2024-03/report",
                       {"text": "进度写错", "percent": "120"})  # fmt: skip
        assert answer.status_code == 400
        assert "完成进度" in answer.text
        assert "进度写错</textarea>" in answer.text
        assert site.task("2024-03")["reports"] == before
        # 2024-03 has no deadline: no extension form, and a posted one is refused by the rule
        assert 'id="form-extension"' not in lead.get("/tasks/2024-03").text
        answer = _post(lead, "/tasks/2024-03", "/tasks/2024-03/extension",
                       {"new_deadline": "2030-01-01", "reason": "需要更多时间"})  # fmt: skip
        assert answer.status_code == 400
        assert "持续推进" in answer.text
        assert "需要更多时间</textarea>" in answer.text
        assert site.task("2024-03")["pending_extension"] is None


def test_a_co_unit_reports_only_and_another_unit_may_not(site: Site) -> None:
    with site.web("李娜") as co:
        page = co.get("/tasks/2024-01").text
        assert 'id="form-report"' in page
        for form in ("claim", "extension", "completion"):
            assert f'id="form-{form}"' not in page
        assert 'id="report-milestone"' not in page
        done = _post(co, "/tasks/2024-01", "/tasks/2024-01/report",
                     {"text": "配合完成测算", "percent": "60"})  # fmt: skip
        assert done.status_code == 303
        refused = _post(co, "/tasks/2024-01", "/tasks/2024-01/completion", {"summary": "完成"})
        assert refused.status_code == 403
    assert any(r["text"] == "配合完成测算" for r in site.task("2024-01")["co_unit_reports"])
    with site.web("赵磊") as other:
        token = csrf_of(other.get("/my").text)
        answer = other.post("/tasks/2024-01/report", data={"text": "x", "percent": "5",
                                                           "csrf": token})  # fmt: skip
        assert answer.status_code == 403
        assert "只能办理本单位" in answer.text


def test_extension_and_completion_then_a_returned_completion_shows_why(site: Site) -> None:
    with site.web("张伟") as lead:
        if site.task("2024-01")["status"] == "assigned":
            _post(lead, "/tasks/2024-01", "/tasks/2024-01/claim", {})
        early = _post(lead, "/tasks/2024-01", "/tasks/2024-01/extension",
                      {"new_deadline": "2024-01-01", "reason": "资金未到位"})  # fmt: skip
        assert early.status_code == 400
        assert "必须晚于当前时限" in early.text
        assert "资金未到位</textarea>" in early.text
        asked = _post(lead, "/tasks/2024-01", "/tasks/2024-01/extension",
                      {"new_deadline": "2024-09-30", "reason": "资金未到位"})  # fmt: skip
        assert asked.status_code == 303
        assert site.task("2024-01")["pending_extension"] == "2024-09-30"
        assert "延期待审批（至 2024-09-30）" in lead.get("/my").text
        files = [("files", ("验收报告.pdf", PDF + b"done", "application/pdf"))]
        sent = _post(lead, "/tasks/2024-01", "/tasks/2024-01/completion",
                     {"summary": "已全面完成"}, files)  # fmt: skip
        assert sent.status_code == 303
        assert site.task("2024-01")["status"] == "submitted"
    with site.api() as api:
        api.post("/tasks/2024-01/completion/return", json={"reason": "佐证材料不全"}
                 ).raise_for_status()  # fmt: skip
    with site.web("张伟") as lead:
        assert "已退回：佐证材料不全" in lead.get("/my").text
        assert re.search(
            r'id="returned">办结申请已退回：佐证材料不全', lead.get("/tasks/2024-01").text
        )


# ---- 领衔领导 and 批示 ----------------------------------------------------------------------


def test_the_official_instructs_and_the_lead_unit_answers(site: Site) -> None:
    with site.web("王建国") as official:
        page = official.get("/official")
        assert page.status_code == 200
        assert 'id="task-2024-01"' in page.text
        assert 'id="task-2024-02"' not in page.text
        empty = _post(official, "/official", "/tasks/2024-01/instructions",
                      {"text": "", "answer_by": ""})  # fmt: skip
        assert empty.status_code == 400
        assert "批示内容不能为空" in empty.text
        past = _post(official, "/official", "/tasks/2024-01/instructions",
                     {"text": "请加快进度", "answer_by": "2000-01-01"})  # fmt: skip
        assert past.status_code == 400
        assert "请加快进度</textarea>" in past.text
        done = _post(official, "/official", "/tasks/2024-01/instructions",
                     {"text": "请加快进度", "answer_by": ""})  # fmt: skip
        assert done.status_code == 303
        assert "批示已发出" in official.get(done.headers["location"]).text
        assert _post(official, "/official", "/tasks/2024-02/instructions",
                     {"text": "越权批示"}).status_code == 403  # fmt: skip
    with site.web("张伟") as lead:
        assert "待回复批示（1 条）" in lead.get("/my").text
        assert lead.get("/official").status_code == 403
        html = lead.get("/tasks/2024-01").text
        number = re.search(r'action="/tasks/2024-01/instructions/(\d+)/answer"', html)
        assert number, "no answer form"
        action = f"/tasks/2024-01/instructions/{number[1]}/answer"
        done = _post(lead, "/tasks/2024-01", action, {"answer": "已部署专班推进"})
        assert done.status_code == 303
        assert "批示已答复" in lead.get(done.headers["location"]).text
    with site.api() as api:
        found = api.get("/tasks/2024-01/instructions").json()
    assert [i["answer_text"] for i in found] == ["已部署专班推进"]
