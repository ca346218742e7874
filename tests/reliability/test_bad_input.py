"""Bad input gets a clear error and changes nothing; hostile but valid text renders inert.

Table-driven over `corpus/`: adding a case is adding a file (see corpus/README.md).

* corpus/import: each task-list file is refused naming exactly the rows and columns of its
  `.expected.json` — or accepted and read as written there — by the importer, and by the real
  `duban import` on SQLite and PostgreSQL stores that hold the sample list: a refused file
  leaves every stored byte as it was.
* corpus/api: each request gets its 4xx naming its field, never a 5xx, and nothing is stored.
* corpus/titles: each hostile title, posted and imported, is escaped on the web board and
  inert in the chat digest the sweep renders (no link, no mention, no markup, one line).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import markupsafe
import psycopg
import pytest
from fastapi.testclient import TestClient

from domain.roles import Identity
from duban.api import create_app
from duban.app.access import TokenRegistry
from duban.app.delivery_adapters import deliver_due
from duban.app.importer import read_task_list
from duban.app.sweep import sweep
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from notifiers.render import CLOSING, CLOSINGS
from tests.conftest import FakeClock
from tests.reliability.conftest import (
    CORPUS,
    EXAMPLES,
    FULL,
    example_config,
    fingerprint,
)
from tests.support.api import Tokens, bearer, issue_tokens, sample_rows, write_config
from tests.support.pg import PgServer
from tests.support.signin import sign_in_app

OFFICE = Identity("office", "改革办")
TZ = ZoneInfo("Asia/Shanghai")


# ---- the corpus ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    path: Path  # the input as stored (maybe .gz)
    spec: dict[str, Any]

    def materialise(self, directory: Path) -> Path:
        """The input as a user has it: `.gz` cases are unpacked (a 10 MB row stays small here)."""
        if self.path.suffix != ".gz":
            return self.path
        target = directory / self.path.name.removesuffix(".gz")
        target.write_bytes(gzip.decompress(self.path.read_bytes()))
        return target


def _cases(kind: str) -> list[Case]:
    folder = CORPUS / kind
    cases = []
    for spec_file in sorted(folder.glob("*.expected.json")):
        name = spec_file.name.removesuffix(".expected.json")
        inputs = [p for p in folder.iterdir() if p.name.split(".")[0] == name and p != spec_file]
        assert len(inputs) <= 1, f"{kind}/{name}: several inputs {inputs}"
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
        cases.append(Case(name, inputs[0] if inputs else spec_file, spec))
    return cases


def _params(cases: list[Case], xfail_key: str = "xfail") -> list[Any]:
    return [
        pytest.param(
            case,
            id=case.name,
            marks=[pytest.mark.xfail(strict=True, reason=case.spec[xfail_key])]
            if xfail_key in case.spec
            else [],
        )
        for case in cases
    ]


IMPORT_CASES = _cases("import")
API_CASES = _cases("api")


def test_every_corpus_input_has_its_expectation() -> None:
    for kind in ("import", "api"):
        folder = CORPUS / kind
        named = {p.name.removesuffix(".expected.json") for p in folder.glob("*.expected.json")}
        inputs = {p.name.split(".")[0] for p in folder.iterdir() if ".expected." not in p.name}
        assert inputs <= named, f"{kind}: inputs without .expected.json: {inputs - named}"
    assert len(IMPORT_CASES) >= 20
    assert len(API_CASES) >= 20


# ---- import: the importer names every bad row and column -----------------------------------


def _named(errors: Any) -> set[tuple[int, str]]:
    return {(e.row, e.column) for e in errors}


def _task_facts(task: Any, wanted: dict[str, Any]) -> dict[str, Any]:
    facts = task.model_dump(mode="json")
    facts["co_units"] = list(facts["co_units"])
    return {key: facts[key] for key in wanted}


@pytest.mark.parametrize("case", _params(IMPORT_CASES))
def test_the_importer_names_every_bad_row_and_column(case: Case, tmp_path: Path) -> None:
    result = read_task_list(case.materialise(tmp_path))
    spec = case.spec
    if spec["accepted"]:
        assert result.errors == [], [str(e) for e in result.errors]
        by_code = {task.code: task for task in result.rows}
        assert set(by_code) == set(spec["tasks"])
        for code, wanted in spec["tasks"].items():
            assert _task_facts(by_code[code], wanted) == wanted, code
        return
    assert _named(result.errors) == {tuple(pair) for pair in spec["errors"]}
    messages = " ".join(e.message for e in result.errors)
    for fragment in spec["messages"]:
        assert fragment in messages, (fragment, messages)


# ---- import: the real `duban import` on a populated store changes nothing -------------------

# The default run takes through the real CLI the files with good rows beside the bad ("all
# or nothing" is at stake on the store), one per format, plus the known bugs; the full run
# takes every case on both stores.
_ON_SQLITE = {
    "dates-that-do-not-exist",
    "duplicate-codes-in-workbook",
    "one-bad-row-among-good",
    "ten-megabyte-row",
    "yaml-unknown-field",
    "nul-in-a-cell",
}
_ON_POSTGRES = {"one-bad-row-among-good", "ten-megabyte-row"}


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    before: Any
    after: Any


def _cli_import(config: Path, file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "duban.cli", "--config", str(config), "import", str(file)],
        capture_output=True, text=True, cwd=config.parent, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )  # fmt: skip


def _populate(config: Path) -> None:
    services = bootstrap(config)
    try:
        services.ledger.reconcile_directory(services.config, OFFICE)
        sample = read_task_list(EXAMPLES / "tasks-2024.csv")
        assert sample.ok
        services.ledger.import_tasks(sample.rows, OFFICE)
    finally:
        services.ledger.close()


class _Stores:
    """A populated template per backend, and a private copy of it for each run."""

    def __init__(self, root: Path, pg: PgServer | None) -> None:
        self.root = root
        self.pg = pg
        self.template_db = root / "template.db"
        _populate(example_config(root / "tpl-sqlite", f"sqlite:///{self.template_db}"))
        if pg is not None:
            pg.create_database("duban_rel_import_tpl")
            _populate(example_config(root / "tpl-pg", pg.url("duban_rel_import_tpl")))

    def copy(self, backend: str, name: str, *, populated: bool) -> str:
        if backend == "sqlite":
            target = self.root / f"{name}.db"
            if populated:
                shutil.copy(self.template_db, target)
            return f"sqlite:///{target}"
        assert self.pg is not None
        db = f"duban_rel_import_{re.sub(r'[^a-z0-9]', '_', name)}"
        template = "TEMPLATE duban_rel_import_tpl" if populated else ""
        with psycopg.connect(self.pg.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
            conn.execute(f'CREATE DATABASE "{db}" {template}')
        return self.pg.url(db)


def _backends(case: Case) -> list[str]:
    if FULL:
        return ["sqlite", "postgres"]
    chosen = case.name in _ON_SQLITE or "xfail" in case.spec
    return (["sqlite"] if chosen else []) + (["postgres"] if case.name in _ON_POSTGRES else [])


@pytest.fixture(scope="module")
def cli_runs(
    tmp_path_factory: pytest.TempPathFactory, pg_server: PgServer
) -> dict[tuple[str, str], CliRun]:
    """Every corpus file through `duban import`, each on its own copy of a populated store
    (accepted files on an empty one), four at a time."""
    root = tmp_path_factory.mktemp("cli-import")
    stores = _Stores(root, pg_server)

    def run(job: tuple[Case, str]) -> tuple[tuple[str, str], CliRun]:
        case, backend = job
        where = root / f"{case.name}-{backend}"
        where.mkdir()
        url = stores.copy(backend, f"{case.name}-{backend}", populated=not case.spec["accepted"])
        config = example_config(where, url)
        before = fingerprint(url)
        done = _cli_import(config, case.materialise(where))
        return (case.name, backend), CliRun(
            done.returncode, done.stdout, done.stderr, before, fingerprint(url)
        )

    jobs = [(case, backend) for case in IMPORT_CASES for backend in _backends(case)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(run, jobs))


def _cli_params() -> list[Any]:
    params = []
    for case in IMPORT_CASES:
        for backend in _backends(case):
            reason = case.spec.get("xfail")
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(case, backend, id=f"{case.name}-{backend}", marks=marks))
    return params


@pytest.mark.postgres
@pytest.mark.parametrize(("case", "backend"), _cli_params())
def test_duban_import_refuses_a_bad_file_and_changes_nothing(
    case: Case, backend: str, cli_runs: dict[tuple[str, str], CliRun]
) -> None:
    run = cli_runs[case.name, backend]
    assert "Traceback" not in run.stderr
    if case.spec["accepted"]:
        assert run.returncode == 0, run.stderr
        assert run.after.count == run.before.count + len(case.spec["tasks"])
        return
    assert run.returncode == 1, run.stderr
    assert "未导入任何任务" in run.stderr
    for row, column in case.spec["errors"]:
        where = f"第{row}行" if row else "文件"
        named = f"{where}「{column}」" if column else f"{where}："
        assert named in run.stderr, (named, run.stderr)
    assert run.after == run.before  # not one stored byte changed
    assert run.before.count > 35  # the store held the sample list and its directory


# ---- API: every malformed request is a 4xx naming the field; nothing is stored -------------


@dataclass
class Service:
    client: TestClient
    tokens: Tokens
    store_url: str


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """The API on a store with the sample rows, 2024-01 claimed by its lead unit."""
    root = tmp_path_factory.mktemp(f"api-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'duban.db'}"
    else:
        pg: PgServer = request.getfixturevalue("pg_server")
        url = pg.create_database(f"duban_rel_api_{os.getpid()}")
    clock = FakeClock(dt.datetime(2024, 3, 1, 10, 0, tzinfo=TZ))
    services = bootstrap(load_config(write_config(root, url)), clock=clock)
    tokens = issue_tokens(TokenRegistry(services.ledger))
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        imported = client.post(
            "/api/v1/tasks/import", headers=bearer(tokens.office), json={"rows": sample_rows()}
        )
        assert imported.status_code == 200, imported.text
        assert client.post("/api/v1/tasks/2024-01/claim", headers=bearer(tokens.lead)).is_success
        yield Service(client, tokens, url)
    services.ledger.close()


def _within(field: str, expected: str) -> bool:
    """`body.26` (a JSON syntax error at byte 26) is within `body`."""
    return field == expected or field.startswith(f"{expected}.")


def _expand(value: Any) -> Any:
    """`{"$repeat": [text, n]}` → text * n: huge strings without huge corpus files."""
    if isinstance(value, dict):
        if set(value) == {"$repeat"}:
            text, times = value["$repeat"]
            return text * times
        return {key: _expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item) for item in value]
    return value


def _body(case: Case) -> bytes:
    if case.path.suffix == ".body":
        return case.path.read_bytes()
    return json.dumps(_expand(case.spec["json"]), ensure_ascii=False).encode()


@pytest.mark.postgres
@pytest.mark.parametrize("case", _params(API_CASES))
def test_a_malformed_request_gets_a_4xx_naming_the_field_and_stores_nothing(
    case: Case, service: Service
) -> None:
    spec = case.spec
    token = getattr(service.tokens, spec["as"])
    headers = {**bearer(token), "Content-Type": spec["content_type"]}
    before = fingerprint(service.store_url)
    answer = service.client.request(
        spec["method"], f"/api/v1{spec['path']}", headers=headers, content=_body(case)
    )
    assert answer.status_code == spec["status"], answer.text[:500]
    body = answer.json()
    assert set(body) == {"error", "message", "fields"}
    if "error" in spec:
        assert body["error"] == spec["error"]
    named = {problem["field"] for problem in body["fields"]}
    expected = spec.get("fields", [])
    assert all(any(_within(f, e) for e in expected) for f in named), body  # nothing else
    assert all(any(_within(f, e) for f in named) for e in expected), body  # each one named
    for problem in body["fields"][:5]:
        assert problem["message"] in body["message"], body  # each field's Chinese message is said
    assert fingerprint(service.store_url) == before


# ---- hostile titles: stored as typed, escaped on the board, inert in the chat digest ---------

TITLE_FILES = sorted((CORPUS / "titles").glob("*.txt"))
SWEEP_AT = dt.datetime(2024, 7, 1, 10, 0, tzinfo=TZ)  # a Monday, 1 working day after 06-28
DEADLINE = "2024-06-28"
LEAD = "县发展和改革局"


def _title(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


def _title_params(where: str) -> list[Any]:
    params = []
    for n, path in enumerate(TITLE_FILES, start=1):
        spec_file = path.with_suffix(".expected.json")
        spec = json.loads(spec_file.read_text("utf-8")) if spec_file.exists() else {}
        marks = (
            [pytest.mark.xfail(strict=True, reason=spec[f"xfail_{where}"])]
            if f"xfail_{where}" in spec
            else []
        )
        for origin in ("posted", "imported"):
            code = f"{'P' if origin == 'posted' else 'I'}-{n:02d}"
            params.append(pytest.param(path, code, id=f"{path.stem}-{origin}", marks=marks))
    return params


@dataclass
class Hostile:
    client: TestClient
    html: str
    digest: str
    office: str


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def hostile(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hostile]:
    """Every corpus title posted (P-nn) and imported from a CSV (I-nn), all due at SWEEP_AT."""
    root = tmp_path_factory.mktemp(f"titles-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'duban.db'}"
    else:
        pg: PgServer = request.getfixturevalue("pg_server")
        url = pg.create_database(f"duban_rel_titles_{os.getpid()}")
    services = bootstrap(load_config(write_config(root, url)), clock=FakeClock(SWEEP_AT))
    tokens = issue_tokens(TokenRegistry(services.ledger))
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        for n, path in enumerate(TITLE_FILES, start=1):
            row = {"code": f"P-{n:02d}", "title": path.read_text("utf-8"), "lead_unit": LEAD}
            answer = client.post(
                "/api/v1/tasks", headers=bearer(tokens.office), json={**row, "deadline": DEADLINE}
            )
            assert answer.status_code == 201, (path.name, answer.text)
        table = root / "hostile.csv"
        with table.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["编号", "改革任务", "牵头单位", "完成时限"])
            for n, path in enumerate(TITLE_FILES, start=1):
                writer.writerow([f"I-{n:02d}", path.read_text("utf-8"), LEAD, DEADLINE])
        result = read_task_list(table)
        assert result.ok, [str(e) for e in result.errors]
        services.ledger.import_tasks(result.rows, OFFICE)
        sign_in_app(client, services)  # the board is private by default
        html = client.get("/").text
        # the 交办 notices queued with the tasks reach the unit first; 催办 follows the next
        # working day (PRODUCT.md rule 4)
        deliver_due(services, SWEEP_AT, clock=SWEEP_AT.timestamp)
        report = sweep(services, SWEEP_AT + dt.timedelta(days=1), dry_run=True)
        digest = "\n".join(part for message in report.messages for part in message.parts)
        yield Hostile(client, html, digest, tokens.office)
    services.ledger.close()


@pytest.mark.postgres
@pytest.mark.parametrize(("path", "code"), _title_params("store"))
def test_a_hostile_title_is_stored_as_typed(path: Path, code: str, hostile: Hostile) -> None:
    answer = hostile.client.get(f"/api/v1/tasks/{code}", headers=bearer(hostile.office))
    assert answer.status_code == 200, answer.text
    assert answer.json()["title"] == _title(path)


@pytest.mark.postgres
@pytest.mark.parametrize(("path", "code"), _title_params("html"))
def test_the_web_board_shows_a_hostile_title_escaped(
    path: Path, code: str, hostile: Hostile
) -> None:
    title = _title(path).replace("13800000001", "138****0001")  # pages mask mobile numbers
    task_page = hostile.client.get(f"/tasks/{code}").text
    for page in (hostile.html, task_page):
        assert str(markupsafe.escape(title)) in page
        if any(ch in title for ch in '<>&"'):
            assert title not in page
    for live in ("<script>alert", "<img src=x", "<at ", "<http://"):
        assert live not in hostile.html + task_page


_CLOSINGS = "|".join(re.escape(line) for line in {CLOSING, *CLOSINGS.values()})
_TEMPLATE_LINE = re.compile(
    r"^(截至.*|#### .+（\d+项）|- \*\*[PI]-\d\d\*\* .*|" + _CLOSINGS + r"|)$"
)  # the template's own lines, its closing lines exactly
_MARKUP = set("[]()<>*_#`|~\\@!&")
_BIDI_OVERRIDES = {chr(c) for c in range(0x202A, 0x202F)}


@pytest.mark.postgres
@pytest.mark.parametrize(("path", "code"), _title_params("digest"))
def test_the_chat_digest_renders_a_hostile_title_inert(
    path: Path, code: str, hostile: Hostile
) -> None:
    lines = hostile.digest.splitlines()
    assert all(_TEMPLATE_LINE.match(line) for line in lines), [
        line for line in lines if not _TEMPLATE_LINE.match(line)
    ]  # no title started a line of its own: no forged heading, item or table
    mine = [line for line in lines if line.startswith(f"- **{code}** ")]
    assert mine, f"{code} is in no digest"  # one line per chat told about it
    for line in mine:
        shown = line.removeprefix(f"- **{code}** ").rsplit("｜牵头：", 1)[0]
        assert shown.strip(), "the title is shown"
        assert not (_MARKUP & set(shown)), sorted(_MARKUP & set(shown))
        assert not (_BIDI_OVERRIDES & set(shown)), "a bidi override reorders the rest of the line"
    for live in ("@all", "<@", "](", "<at ", "<script", "**粗体**"):
        assert live not in hostile.digest


@pytest.mark.postgres
def test_a_nul_in_a_title_leaves_the_audit_trail_readable_on_postgresql(
    pg_server: PgServer, tmp_path: Path
) -> None:
    url = pg_server.create_database(f"duban_rel_nul_{os.getpid()}")
    services = bootstrap(load_config(write_config(tmp_path, url)))
    tokens = issue_tokens(TokenRegistry(services.ledger))
    try:
        with TestClient(create_app(services), raise_server_exceptions=False) as client:
            posted = client.post(
                "/api/v1/tasks",
                headers={**bearer(tokens.office), "Content-Type": "application/json"},
                content=(CORPUS / "api" / "title-with-nul.body").read_bytes(),
            )
            audit = client.get("/api/v1/audit", headers=bearer(tokens.auditor))
            assert posted.status_code == 422 or audit.status_code == 200, audit.text
            assert audit.status_code == 200  # and never a 500 for every reader after it
    finally:
        services.ledger.close()
