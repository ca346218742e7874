"""Evidence files through the API (issue 15, acceptance 3 and 6), on SQLite and PostgreSQL:
upload a PDF and a photo, report with them, download them as who may read the task; another
unit's liaison is refused, a digest of another task is not reachable, an auditor reads but
does not upload; a file changed in the store is refused and named by `duban audit verify`."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from fastapi.testclient import TestClient

from duban.api import create_app
from duban.app.access import TokenRegistry
from duban.app.services import Services
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from duban.settings.store import is_sqlite, postgres_conninfo
from tests.conftest import FakeClock
from tests.support.api import Tokens, bearer, issue_tokens, sample_rows, write_config
from tests.support.server import DUBAN

PDF = b"%PDF-1.7\n" + "征求意见稿".encode() * 2000 + b"\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40
OTHER = b"%PDF-1.4\nanother task's file\n%%EOF\n"


@dataclass
class Api:
    client: TestClient
    tokens: Tokens
    services: Services
    config: Path

    def upload(self, token: str, *files: tuple[str, bytes]) -> list[dict[str, object]]:
        parts = [("file", (name, content)) for name, content in files]
        answer = self.client.post("/api/v1/files", headers=bearer(token), files=parts)
        assert answer.status_code == 201, answer.text
        refs: list[dict[str, object]] = answer.json()
        return refs

    def download(self, code: str, sha256: object, token: str) -> object:
        return self.client.get(f"/api/v1/tasks/{code}/files/{sha256}", headers=bearer(token))


@pytest.fixture
def api(tmp_path: Path, clock: FakeClock, store_url: str) -> Iterator[Api]:
    config = write_config(tmp_path, store_url)
    services = bootstrap(load_config(config), clock=clock)
    tokens = issue_tokens(TokenRegistry(services.ledger))
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        answer = client.post(
            "/api/v1/tasks/import", headers=bearer(tokens.office), json={"rows": sample_rows()}
        )
        assert answer.status_code == 200, answer.text
        yield Api(client, tokens, services, config)
    services.ledger.close()


def _reported_with_files(api: Api) -> list[dict[str, object]]:
    lead = api.tokens.lead
    refs = api.upload(lead, ("征求意见稿.pdf", PDF), ("现场照片.jpg", JPEG))
    assert api.client.post("/api/v1/tasks/2024-01/claim", headers=bearer(lead)).status_code == 200
    body = {
        "text": "方案已起草，附征求意见稿和现场照片",
        "percent": 60,
        "files": [{"sha256": r["sha256"], "name": r["name"]} for r in refs],
    }
    answer = api.client.post("/api/v1/tasks/2024-01/reports", headers=bearer(lead), json=body)
    assert answer.status_code == 200, answer.text
    return refs


def test_uploaded_files_are_typed_by_content_and_recorded_on_the_report(api: Api) -> None:
    pdf, jpeg = _reported_with_files(api)
    assert (pdf["type"], pdf["size"]) == ("application/pdf", len(PDF))
    assert (jpeg["type"], jpeg["sha256"]) == ("image/jpeg", hashlib.sha256(JPEG).hexdigest())
    history = api.client.get("/api/v1/tasks/2024-01/history", headers=bearer(api.tokens.office))
    (reported,) = [e for e in history.json() if e["type"] == "ReformTask.ProgressReported"]
    assert reported["files"] == [pdf, jpeg]


def test_the_lead_liaison_downloads_the_file_as_an_attachment(api: Api) -> None:
    pdf, _ = _reported_with_files(api)
    answer = api.download("2024-01", pdf["sha256"], api.tokens.lead)
    assert answer.status_code == 200, answer.text
    assert answer.content == PDF
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["x-content-type-options"] == "nosniff"
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('征求意见稿.pdf')}" in disposition


def test_another_units_liaison_is_refused_and_the_auditor_reads(api: Api) -> None:
    pdf, _ = _reported_with_files(api)
    refused = api.download("2024-01", pdf["sha256"], api.tokens.other_liaison)
    assert refused.status_code == 403
    assert "本单位" in refused.json()["message"]
    assert api.download("2024-01", pdf["sha256"], api.tokens.auditor).content == PDF
    assert api.download("2024-01", pdf["sha256"], api.tokens.co).status_code == 200


def test_a_digest_that_is_not_in_the_task_is_not_found(api: Api) -> None:
    _reported_with_files(api)
    (other,) = api.upload(api.tokens.office, ("另一任务.pdf", OTHER))
    assert api.download("2024-01", other["sha256"], api.tokens.office).status_code == 404
    assert api.download("2024-01", "0" * 64, api.tokens.office).status_code == 404


def test_an_auditor_may_not_upload(api: Api) -> None:
    parts = [("file", ("a.pdf", PDF))]
    answer = api.client.post("/api/v1/files", headers=bearer(api.tokens.auditor), files=parts)
    assert answer.status_code == 403
    assert "审计" in answer.json()["message"]


def test_content_that_is_not_an_accepted_type_is_refused_in_chinese(api: Api) -> None:
    parts = [("file", ("说明.pdf", b"MZ\x90\x00 not a pdf at all"))]
    answer = api.client.post("/api/v1/files", headers=bearer(api.tokens.lead), files=parts)
    assert answer.status_code == 422
    assert "不支持的文件类型" in answer.json()["message"]


def test_a_file_not_uploaded_cannot_be_attached(api: Api) -> None:
    lead = api.tokens.lead
    assert api.client.post("/api/v1/tasks/2024-01/claim", headers=bearer(lead)).status_code == 200
    body = {"new_deadline": "2024-09-30", "reason": "需补充调研", "files": [
        {"sha256": "1" * 64, "name": "调研报告.docx"}
    ]}  # fmt: skip
    answer = api.client.post(
        "/api/v1/tasks/2024-01/extension/request", headers=bearer(lead), json=body
    )
    assert answer.status_code == 422
    assert "尚未上传" in answer.json()["message"]


def _tamper(api: Api, sha256: str, *, remove: bool = False) -> None:
    """Change a stored file's content behind the service's back (or remove it)."""
    store_url = api.services.config.store
    if is_sqlite(store_url):
        path = Path(store_url.removeprefix("sqlite:///")).parent / "evidence" / sha256[:2] / sha256
        if remove:
            path.unlink()
        else:
            path.write_bytes(path.read_bytes() + b"tampered")
        return
    change = (
        "DELETE FROM duban_evidence WHERE sha256 = %s"
        if remove
        else "UPDATE duban_evidence SET content = content || 'x'::bytea WHERE sha256 = %s"
    )
    with psycopg.connect(postgres_conninfo(store_url), autocommit=True) as connection:
        connection.execute(change, (sha256,))


def _verify(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DUBAN), "--config", str(config), "audit", "verify"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_changed_file_is_refused_and_named_by_audit_verify(api: Api) -> None:
    pdf, jpeg = _reported_with_files(api)
    intact = _verify(api.config)
    assert intact.returncode == 0, intact.stderr
    _tamper(api, str(pdf["sha256"]))
    refused = api.download("2024-01", pdf["sha256"], api.tokens.lead)
    assert refused.status_code == 409
    assert "不一致" in refused.json()["message"]
    assert api.download("2024-01", jpeg["sha256"], api.tokens.lead).content == JPEG
    broken = _verify(api.config)
    assert broken.returncode == 1
    assert f"任务 2024-01 的附件「征求意见稿.pdf」（{str(pdf['sha256'])[:12]}）内容已被改动" in (
        broken.stderr
    )
    assert "现场照片" not in broken.stderr
    _tamper(api, str(jpeg["sha256"]), remove=True)
    gone = _verify(api.config)
    assert gone.returncode == 1
    assert f"任务 2024-01 的附件「现场照片.jpg」（{str(jpeg['sha256'])[:12]}）" in gone.stderr
    assert "丢失" in gone.stderr
