"""Who may do what on the web workspace, form by form (issue 15 acceptance 3).

Every form of a task is posted, with its page's CSRF field, by every person who may not use it:
a liaison of another unit, the co-unit's liaison where only the lead unit may act, the official
where only a liaison may, the auditor everywhere. Each gets the 403 page and the task's history
is the same afterwards, read back through the API. The auditor reads every task and its files.
The people are signed in once, by invitation, through a real `duban serve`.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.api import row, write_config
from tests.support.server import ServeProcess, duban, start_serve
from tests.support.signin import add_person, csrf_of, signed_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"r" * 300
PEOPLE = {
    "lead": "张伟",  # 县发展和改革局, the lead unit of every task made here
    "co": "李娜",  # 县财政局, its co-unit
    "other": "赵磊",  # 县教育局, neither
    "official": "王建国",  # the tasks' leading official
    "other_official": "李四",
    "auditor": "zhaomin",
    "office": "wangfang",
}
_serial = itertools.count()


@dataclass
class World:
    server: ServeProcess
    office_token: str
    lead_token: str
    cookies: dict[str, httpx.Cookies]

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.office_token}"}
        return httpx.Client(base_url=f"{self.server.url}/api/v1", headers=headers, timeout=30)

    def web(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, cookies=self.cookies[who], timeout=30)

    def history(self, code: str) -> list[dict[str, Any]]:
        with self.api() as api:
            answer = api.get(f"/tasks/{code}/history").raise_for_status()
            found: list[dict[str, Any]] = answer.json()
            return found

    def task_in(self, state: str) -> str:
        """A fresh task in `state`: assigned, claimed, pending (extension asked), submitted."""
        code = f"w-{next(_serial)}"
        with self.api() as office:
            office.post("/tasks", json=row(code)).raise_for_status()
        if state == "assigned":
            return code
        with self.api(self.lead_token) as lead:
            lead.post(f"/tasks/{code}/claim").raise_for_status()
            if state == "pending":
                ask = {"new_deadline": "2024-09-30", "reason": "用地审批未完成"}
                lead.post(f"/tasks/{code}/extension/request", json=ask).raise_for_status()
            elif state == "submitted":
                done = {"summary": "已全面完成"}
                lead.post(f"/tasks/{code}/completion/submit", json=done).raise_for_status()
        return code


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("web_roles")
    config = write_config(tmp, f"sqlite:///{tmp / 'var' / 'duban.db'}")
    duban(config, "init")
    add_person(config, "auditor", "赵敏", "zhaomin")
    add_person(config, "office", "王芳", "wangfang")
    office = duban(config, "token", "issue", "--role", "office", "--quiet").strip()
    lead = duban(
        config, "token", "issue", "--role", "liaison", "--unit", "县发展和改革局", "--name", "张伟",
        "--quiet",
    ).strip()  # fmt: skip
    server = start_serve(config, tmp / "logs", "--no-scheduler")
    try:
        cookies = {key: signed_in(server.url, config, person) for key, person in PEOPLE.items()}
        yield World(server, office, lead, cookies)
    finally:
        server.stop()


@dataclass(frozen=True)
class Form:
    page: str  # where the form is shown (its CSRF field is read there)
    action: str
    state: str
    data: dict[str, str]
    denied: tuple[str, ...]


FORMS = {
    "claim": Form("/tasks/{code}", "/tasks/{code}/claim", "assigned", {},
                  ("co", "other", "official", "auditor")),
    "report": Form("/tasks/{code}", "/tasks/{code}/report", "claimed",
                   {"text": "完成方案初稿", "percent": "30"},
                   ("other", "other_official", "auditor")),
    "extension": Form("/tasks/{code}", "/tasks/{code}/extension", "claimed",
                      {"new_deadline": "2024-09-30", "reason": "用地审批未完成"},
                      ("co", "other", "official", "auditor")),
    "completion": Form("/tasks/{code}", "/tasks/{code}/completion", "claimed",
                       {"summary": "已全面完成"}, ("co", "other", "official", "auditor")),
    "instruction": Form("/tasks/{code}", "/tasks/{code}/instructions", "claimed",
                        {"text": "请加快推进"}, ("lead", "co", "other", "auditor")),
    "grant": Form("/office", "/office/extensions/{code}", "pending",
                  {"decision": "grant", "reason": "同意延期"},
                  ("lead", "co", "other", "official", "auditor")),
    "accept": Form("/office", "/office/completions/{code}", "submitted",
                   {"decision": "accept", "reason": "同意销号"},
                   ("lead", "co", "other", "official", "auditor")),
}  # fmt: skip
CELLS = [(name, who) for name, form in FORMS.items() for who in form.denied]


def _csrf(web: httpx.Client, page: str) -> str:
    """The CSRF field of a page the person may open, else of their own start page."""
    answer = web.get(page)
    if answer.status_code != 200 or 'name="csrf"' not in answer.text:
        answer = web.get("/password")
    return csrf_of(answer.text)


@pytest.mark.parametrize(("form_name", "who"), CELLS, ids=[f"{f}-{w}" for f, w in CELLS])
def test_a_form_posted_by_someone_who_may_not_use_it_is_refused_and_changes_nothing(
    world: World, form_name: str, who: str
) -> None:
    form = FORMS[form_name]
    code = world.task_in(form.state)
    before = world.history(code)
    with world.web(who) as web:
        token = _csrf(web, form.page.format(code=code))
        answer = web.post(form.action.format(code=code), data={**form.data, "csrf": token})
    assert answer.status_code == 403, (form_name, who, answer.status_code, answer.text[:300])
    assert "无权" in answer.text or "只" in answer.text  # the Chinese reason is on the page
    assert world.history(code) == before


def test_the_same_forms_work_for_the_people_they_are_for(world: World) -> None:
    """The refusals above are about the person, not a broken form: the lead unit claims, reports,
    asks for more time; the office grants it; the official writes a 批示."""
    code = world.task_in("assigned")
    steps = [("lead", "claim"), ("lead", "report"), ("lead", "extension"),
             ("official", "instruction"), ("office", "grant")]  # fmt: skip
    for who, form_name in steps:
        form = FORMS[form_name]
        with world.web(who) as web:
            token = _csrf(web, form.page.format(code=code))
            answer = web.post(form.action.format(code=code), data={**form.data, "csrf": token})
        assert answer.status_code == 303, (who, form_name, answer.text[:300])
    types = [entry["type"] for entry in world.history(code)]
    assert any("ExtensionGranted" in t for t in types), types


def test_the_auditor_reads_every_task_and_its_files_and_another_unit_does_not(
    world: World,
) -> None:
    code = world.task_in("claimed")
    with world.api() as office:
        ref = office.post(
            "/files", files=[("file", ("征求意见稿.pdf", PDF, "application/pdf"))]
        ).raise_for_status().json()[0]  # fmt: skip
    choice = {"sha256": ref["sha256"], "name": ref["name"]}
    with world.api(world.lead_token) as lead:
        body = {"text": "征求意见稿已形成", "percent": 40, "files": [choice]}
        lead.post(f"/tasks/{code}/reports", json=body).raise_for_status()
    download = f"/tasks/{code}/files/{ref['sha256']}"
    with world.web("auditor") as auditor:
        page = auditor.get(f"/tasks/{code}")
        assert page.status_code == 200
        assert "征求意见稿已形成" in page.text
        got = auditor.get(download)
        assert got.status_code == 200
        assert hashlib.sha256(got.content).hexdigest() == ref["sha256"]
        assert f'action="/tasks/{code}/' not in page.text  # no form to act on it is offered
    with world.web("other") as other:
        assert other.get(f"/tasks/{code}").status_code == 403
        assert other.get(download).status_code == 403
