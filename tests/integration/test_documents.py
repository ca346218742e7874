"""督办单 and 通报 (PRODUCT.md rule 13; issue 12 acceptance 7): real sweeps over a scripted month on
SQLite number each 督办 and 通报 once, consecutively per kind and year; the messages name the
number; `duban document show|pdf` print it, and the PDF's text (pdftotext) holds the number, the
task and the unit. Two writers numbering at once never give one number twice nor skip one."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from domain.document import DocumentSequence
from domain.document_number import parse_number
from domain.reminder import Reminder
from duban.app.documents import ToNumber, find_document, list_documents, number_documents
from duban.app.scheduled import run_delivery
from duban.app.services import Services, open_ledger
from duban.app.sweep import sweep
from tests.conftest import TZ, FakeClock
from tests.support.cli_zygote import run_cli
from tests.support.scenario import second_sweep_stores_nothing
from tests.support.sweep import CZJ, FGJ, assign, county, issued, queued, stored

D = dt.date
START, END = D(2026, 10, 26), D(2026, 11, 27)
TASKS = {  # code → (lead unit, deadline)
    "2026-01": (FGJ, D(2026, 11, 2)),
    "2026-02": (FGJ, D(2026, 11, 4)),
    "2026-03": (CZJ, D(2026, 11, 5)),
}


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Services, Path]:
    """Three overdue tasks swept (each sweep twice) and delivered, twice a day for a month."""
    folder = tmp_path_factory.mktemp("documents")
    clock = FakeClock(dt.datetime(2026, 10, 9, 9, tzinfo=TZ))
    svc = county(f"sqlite:///{folder / 'duban.db'}", clock)
    for code, (unit, deadline) in TASKS.items():
        assign(svc, code, deadline, lead=unit)
    for day in _days(START, END):
        for hour in (9, 14):
            now = dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)
            clock.now = now
            sweep(svc, now)
            second_sweep_stores_nothing(svc, now)
            run_delivery(svc, now)
    return svc, folder


def _issued(svc: Services, rung: str) -> list[Any]:
    return [e for e in issued(svc) if e.rung == rung]


def _numbered(svc: Services) -> list[Any]:
    return stored(svc, "DocumentSequence.Numbered")


@pytest.mark.parametrize(("rung", "char"), [("supervise", "督"), ("bulletin", "通")])
def test_every_supervise_and_bulletin_is_numbered_once_consecutively(
    month: tuple[Services, Path], rung: str, char: str
) -> None:
    svc, _ = month
    reminders = _issued(svc, rung)
    assert len(reminders) >= 2, f"the month should issue at least two {rung}"
    documents = [e for e in _numbered(svc) if e.rung == rung]
    # One document per reminder of the rung, in the order they were issued, numbered 1, 2, …
    assert [d.reminder_key for d in documents] == [r.key for r in reminders]
    assert [d.number for d in documents] == [
        f"县改办{char}〔2026〕{n}号" for n in range(1, len(reminders) + 1)
    ]
    assert [d.task_code for d in documents] == [r.task_code for r in reminders]
    assert [d.unit for d in documents] == [TASKS[r.task_code][0] for r in reminders]
    # Numbered in the very sweep that issued the rung.
    assert [d.at for d in documents] == [r.at for r in reminders]
    for document, reminder in zip(documents, reminders, strict=True):
        first = "现予督办" if rung == "supervise" else "现予通报"
        assert (first in document.reason) == (reminder.seq == 0), document.reason
        assert (f"第{reminder.seq + 1}次" in document.reason) == (reminder.seq > 0)


def test_no_lower_rung_is_numbered(month: tuple[Services, Path]) -> None:
    svc, _ = month
    assert {e.rung for e in _numbered(svc)} == {"supervise", "bulletin"}
    assert _issued(svc, "urge"), "the tasks were urged before they were supervised"


def test_the_message_of_a_supervise_names_its_number(month: tuple[Services, Path]) -> None:
    svc, _ = month
    for document in _numbered(svc):
        carrying = [m for m in queued(svc) if document.reminder_key in m.reminder_keys]
        assert carrying, f"no message carried {document.number}"
        for message in carrying:
            assert document.number in "".join(message.parts), message.parts


def test_show_gives_the_task_its_history_and_the_reason(month: tuple[Services, Path]) -> None:
    svc, _ = month
    first = _issued(svc, "bulletin")[0]
    doc = find_document(svc, "县改办通[2026]1号")
    assert (doc.task_code, doc.unit, doc.kind_title) == (first.task_code, FGJ, "通报")
    assert doc.deadline == TASKS[first.task_code][1]
    assert [h["rung"] for h in doc.history][-1] == "bulletin"
    assert "supervise" in [h["rung"] for h in doc.history]
    assert "urge" in [h["rung"] for h in doc.history]
    assert "现予通报" in doc.reason
    years = [d.number for d in list_documents(svc, 2026)]
    assert years == [e.number for e in _numbered(svc) if e.rung == "supervise"] + [
        e.number for e in _numbered(svc) if e.rung == "bulletin"
    ]
    assert list_documents(svc, 2025) == []


# ---- the command line ---------------------------------------------------------------------------


def _duban(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = folder / "duban.toml"
    if not config.exists():
        channels = "".join(
            f'[[channels]]\nname = "{n}"\nplatform = "console"\n' for n in ("office", "leaders")
        )
        config.write_text(
            f'store = "sqlite:///{folder / "duban.db"}"\n{channels}'
            '[office]\nname = "中共某某县委全面深化改革委员会办公室"\n',
            encoding="utf-8",
        )
    env = {**os.environ, "DUBAN_CONFIG": str(config), "DUBAN_NOW": "2026-12-01T10:00"}
    return run_cli([*args], env=env, cwd=folder)


def test_document_list_and_show_on_the_command_line(month: tuple[Services, Path]) -> None:
    svc, folder = month
    listed = _duban(folder, "document", "list")
    assert listed.returncode == 0, listed.stderr
    for e in _numbered(svc):
        assert e.number in listed.stdout
    assert "督办单" in listed.stdout
    shown = _duban(folder, "document", "show", "县改办督〔2026〕2号")
    assert shown.returncode == 0, shown.stderr
    second = _issued(svc, "supervise")[1]
    assert "文号：县改办督〔2026〕2号" in shown.stdout
    assert f"任务编号：{second.task_code}" in shown.stdout
    assert f"改革任务：改革任务{second.task_code}" in shown.stdout
    assert "督办历程：" in shown.stdout
    assert "催办" in shown.stdout
    assert "supervise" not in shown.stdout  # no identifiers in what a person reads
    first = _issued(svc, "supervise")[0]
    trail = _duban(folder, "audit", "log", "--task", first.task_code)
    assert trail.returncode == 0, trail.stderr
    assert f"印发县改办督〔2026〕1号（{TASKS[first.task_code][0]}）" in trail.stdout
    assert "DocumentSequence" not in trail.stdout


@pytest.mark.parametrize(
    ("number", "says"),
    [
        ("县改办督〔2026〕99号", "没有文号为「县改办督〔2026〕99号」的督办单"),
        ("第12号", "不是有效的文号"),
    ],
)
def test_an_unknown_number_is_a_clear_error(
    month: tuple[Services, Path], number: str, says: str
) -> None:
    _, folder = month
    for command in ("show", "pdf"):
        result = _duban(folder, "document", command, number)
        assert result.returncode == 1
        assert says in result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "number", ["县改办督〔2026〕1号", "县改办督〔2026〕2号", "县改办通〔2026〕1号"]
)
def test_the_pdf_holds_the_number_the_task_and_the_unit(
    month: tuple[Services, Path], number: str
) -> None:
    svc, folder = month
    target = folder / f"{number}.pdf"
    result = _duban(folder, "document", "pdf", number, "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert target.read_bytes().startswith(b"%PDF")
    fonts = subprocess.run(["pdffonts", str(target)], capture_output=True, text=True, check=True)
    assert "WenQuanYi" in fonts.stdout or "STSong" in fonts.stdout
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(target), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    doc = find_document(svc, number)
    flat = "".join(text.split())
    for needle in (
        number,
        doc.task_code,
        doc.title,
        doc.unit,
        "中共某某县委全面深化改革委员会办公室",
    ):
        assert needle in flat, f"{needle} not in the PDF text:\n{text}"
    assert "二〇二六年" in flat
    assert "督办历程" in flat


# ---- racing writers -----------------------------------------------------------------------------


def _item(key: str) -> ToNumber:
    return ToNumber(key, "supervise", "2026-01", "改革任务", FGJ, "deadline", D(2026, 11, 2))


def _reminder(key: str, at: dt.datetime) -> Reminder:
    return Reminder(
        key=key, task_code="2026-01", target="deadline", due=D(2026, 11, 2), rung="supervise",
        seq=0, audience=["lead_unit"], channels=["fgj"], actor="test", at=at,
    )  # fmt: skip


def test_two_racing_saves_do_not_share_a_number(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    now = dt.datetime(2026, 11, 9, 9, tzinfo=TZ)
    clock = FakeClock(now)
    one = county(url, clock)
    other = Services(config=one.config, ledger=open_ledger(url, clock))
    first = number_documents(one, [_item("a")], now)
    second = number_documents(other, [_item("b")], now)
    assert first.numbers["a"] == second.numbers["b"] == "县改办督〔2026〕1号"  # both planned 1
    one.ledger.save(*first.aggregates, _reminder("a", now))
    with pytest.raises(IntegrityError):
        other.ledger.save(*second.aggregates, _reminder("b", now))
    # The loser's save failed as a whole: its reminder is not stored either.
    assert [e.key for e in issued(one)] == ["a"]
    again = number_documents(other, [_item("b")], now)
    other.ledger.save(*again.aggregates, _reminder("b", now))
    assert again.numbers["b"] == "县改办督〔2026〕2号"
    assert [e.number for e in _numbered(one)] == ["县改办督〔2026〕1号", "县改办督〔2026〕2号"]


def test_many_writers_at_once_number_without_duplicates_or_gaps(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'threads.db'}"
    now = dt.datetime(2026, 11, 9, 9, tzinfo=TZ)
    clock = FakeClock(now)
    nodes = [county(url, clock) for _ in range(4)]
    per_node = 5
    start = threading.Barrier(len(nodes))
    conflicts: list[int] = []

    def write(index: int, node: Services) -> None:
        start.wait()
        for n in range(per_node):
            key = f"{index}-{n}"
            while True:
                numbering = number_documents(node, [_item(key)], now)
                try:
                    node.ledger.save(*numbering.aggregates, _reminder(key, now))
                    break
                except IntegrityError:
                    conflicts.append(index)

    threads = [threading.Thread(target=write, args=(i, n)) for i, n in enumerate(nodes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    numbered = _numbered(nodes[0])
    total = len(nodes) * per_node
    assert sorted(parse_number(e.number).seq for e in numbered) == list(range(1, total + 1))  # type: ignore[union-attr]
    assert len({e.reminder_key for e in numbered}) == total
    assert len(issued(nodes[0])) == total  # every reminder stored exactly with its number


def _red_rows(pdf: Path) -> list[int]:
    """The pixel rows of the first page (rendered at 30 dpi) holding clearly red pixels."""
    ppm = subprocess.run(
        ["pdftoppm", "-r", "30", "-f", "1", "-l", "1", str(pdf)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", ppm)
    assert header is not None
    w, h = int(header[1]), int(header[2])
    pixels = ppm[header.end() :]
    rows = []
    for y in range(h):
        row = pixels[y * w * 3 : (y + 1) * w * 3]
        if any(row[i] > 160 and row[i + 1] < 90 and row[i + 2] < 90 for i in range(0, len(row), 3)):
            rows.append(y)
    return [y * 100 // h for y in rows]  # as a percentage of the page's height


def test_the_header_and_its_rule_are_red_and_at_the_top(month: tuple[Services, Path]) -> None:
    _, folder = month
    target = folder / "header.pdf"
    result = _duban(folder, "document", "pdf", "县改办督〔2026〕1号", "-o", str(target))
    assert result.returncode == 0, result.stderr
    red = _red_rows(target)
    assert red, "nothing red on the page"
    assert max(red) < 25, f"red below the header: rows at {red}%"
    assert len({y // 2 for y in red}) >= 2  # the office's name and, under it, the rule


def test_a_long_year_loads_from_a_snapshot_not_its_whole_sequence(tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 9, 9, tzinfo=TZ)
    svc = county(f"sqlite:///{tmp_path / 'long.db'}", FakeClock(now))
    assign(svc, "2026-01", D(2026, 11, 2))
    for n in range(60):
        numbering = number_documents(svc, [_item(f"k{n}")], now)
        svc.ledger.save(*numbering.aggregates)
    sequence_id = DocumentSequence.create_id("supervise", 2026)
    snapshots = list(svc.ledger.snapshots.get(sequence_id))  # type: ignore[union-attr]
    assert [s.originator_version for s in snapshots] == [50]
    assert find_document(svc, "县改办督〔2026〕55号").title == "改革任务"
    assert number_documents(svc, [_item("next")], now).numbers["next"] == "县改办督〔2026〕61号"


def test_the_api_reads_documents_and_their_pdf(month: tuple[Services, Path]) -> None:
    from fastapi.testclient import TestClient

    from duban.api import create_app
    from duban.app.access import TokenRegistry
    from tests.support.api import OFFICE, bearer

    svc, _ = month
    token = TokenRegistry(svc.ledger).issue("auditor", "审计", None, OFFICE).token
    with TestClient(create_app(svc), raise_server_exceptions=False) as client:
        listed = client.get("/api/v1/documents", params={"year": 2026}, headers=bearer(token))
        assert listed.status_code == 200, listed.text
        assert [d["number"] for d in listed.json()] == [d.number for d in list_documents(svc, 2026)]
        one = client.get("/api/v1/documents/县改办督〔2026〕2号", headers=bearer(token))
        assert one.status_code == 200, one.text
        assert one.json()["task_code"] == _issued(svc, "supervise")[1].task_code
        assert [h["rung"] for h in one.json()["history"]][-1] == "supervise"
        pdf = client.get("/api/v1/documents/县改办通〔2026〕1号/pdf", headers=bearer(token))
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        missing = client.get("/api/v1/documents/县改办督〔2026〕99号", headers=bearer(token))
        assert missing.status_code == 404
        assert "没有文号" in missing.json()["message"]
        assert client.get("/api/v1/documents", params={"year": 2026}).status_code == 401
