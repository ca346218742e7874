"""Formula injection: titles and names that start with `=`, `+`, `-`, `@` (or the full-width
`＝＋－＠`) reach every spreadsheet the project writes as text, never as a formula.

An office's ledger holds the corpus titles (`corpus/import/formula-titles.csv`) and a unit,
a co-unit, an official, a group and an area named like formulas. The real `duban` command
line writes the board (XLSX and CSV) and the monthly 台账, the quarterly sheet and the annual
assessment. The oracles are the files themselves: openpyxl finds no formula cell, the sheet
XML holds no `<f>` element, headless LibreOffice shows each hostile text literally (a formula
would show its result: 2, 点击查看), and the CSV module reads each hostile cell back with a
leading `'` (OWASP's CSV-injection rule).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from domain.roles import Identity
from duban.app.importer import read_task_list
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from tests.conftest import FakeClock
from tests.integration.test_reports_formats import (
    CSV_EVERY_SHEET,
    libreoffice_convert,
    needs_libreoffice,
)
from tests.support.cli_zygote import run_cli

CORPUS = Path(__file__).resolve().parents[1] / "reliability" / "corpus" / "import"
TZ = ZoneInfo("Asia/Shanghai")
UNIT = '=HYPERLINK("http://evil.example/")'
CO_UNIT = "-2+3"
OFFICIAL = "@王建国"
GROUP = "=1+2"
AREA = "＋稳增长"  # the importer normalises it to "+稳增长"
NAMES = {UNIT, CO_UNIT, OFFICIAL, GROUP, "+稳增长"}

CONFIG = f"""\
timezone = "Asia/Shanghai"
store = "sqlite:///{{db}}"

[office]
name = "县委改革办"
channel = "office"
leaders_channel = "office"

[[channels]]
name = "office"
platform = "console"

[[units]]
name = '{UNIT}'
channel = "office"

[[units]]
name = "{CO_UNIT}"
channel = "office"

[[officials]]
name = "{OFFICIAL}"
title = "县委常委"
channel = "office"
"""


def _corpus_titles() -> dict[str, str]:
    with (CORPUS / "formula-titles.csv").open(encoding="utf-8", newline="") as handle:
        return {row["编号"]: row["改革任务"] for row in csv.DictReader(handle)}


TITLES = _corpus_titles()


@dataclass(frozen=True)
class Exports:
    workbooks: dict[str, Path]  # board, monthly, quarterly, assessment
    board_csv: str
    directory: Path


def _duban(config: Path, *args: str) -> str:
    done = run_cli(["--config", str(config), *args], cwd=config.parent)
    assert done.returncode == 0, (args, done.stderr[-2000:])
    return done.stdout


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Exports:
    root = tmp_path_factory.mktemp("formulas")
    config = root / "duban.toml"
    config.write_text(CONFIG.format(db=root / "duban.db"), encoding="utf-8")
    table = root / "tasks.csv"
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "改革任务", "牵头单位", "配合单位", "领衔领导", "完成时限",
                         "专责小组", "领域"])  # fmt: skip
        for code, title in TITLES.items():
            writer.writerow([code, title, UNIT, CO_UNIT, OFFICIAL, "2024-06-30", GROUP, AREA])
    clock = FakeClock(dt.datetime(2024, 3, 1, 10, 0, tzinfo=TZ))
    services = bootstrap(load_config(config), clock=clock)
    office = Identity("office", "改革办")
    try:
        services.ledger.reconcile_directory(services.config, office)
        result = read_task_list(table)
        assert result.ok, [str(e) for e in result.errors]
        services.ledger.import_tasks(result.rows, office)
    finally:
        services.ledger.close()
    books = {
        name: root / f"{name}.xlsx" for name in ("board", "monthly", "quarterly", "assessment")
    }
    _duban(config, "board", "--format", "xlsx", "--output", str(books["board"]))
    for kind, period, as_of in [
        ("monthly", "2024-03", "2024-03-31"),
        ("quarterly", "2024Q1", "2024-03-31"),
        ("assessment", "2024", "2024-12-31"),
    ]:
        _duban(config, "report", kind, period, "--as-of", as_of,
               "--format", "xlsx", "--output", str(books[kind]))  # fmt: skip
    return Exports(books, _duban(config, "board", "--format", "csv"), root)


# What each workbook must show (as text): the titles and names it has a column for.
SHOWN = {
    "board": {*TITLES.values(), *NAMES},
    "monthly": {*TITLES.values(), UNIT, CO_UNIT, f"县委常委{OFFICIAL}"},  # with the title
    "quarterly": {*TITLES.values(), UNIT, GROUP},
    "assessment": {UNIT, CO_UNIT},
}
FORMULA_STARTS = tuple("=+-@\t\r＝＋－＠")


@pytest.mark.parametrize("name", list(SHOWN))
def test_no_cell_of_an_exported_workbook_is_a_formula(name: str, exports: Exports) -> None:
    book = load_workbook(exports.workbooks[name])
    texts: set[str] = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.add(cell.value)
                    if cell.value.startswith(FORMULA_STARTS):
                        assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
    assert SHOWN[name] <= texts, SHOWN[name] - texts  # each shown exactly as typed


_FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s>/]")


@pytest.mark.parametrize("name", list(SHOWN))
def test_the_sheet_xml_holds_no_formula_element(name: str, exports: Exports) -> None:
    with zipfile.ZipFile(exports.workbooks[name]) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        for part in sheets:
            xml = archive.read(part)
            assert not _FORMULA_ELEMENT.search(xml), (part, _FORMULA_ELEMENT.findall(xml))
        assert b'quotePrefix="1"' in archive.read("xl/styles.xml")


@needs_libreoffice
def test_libreoffice_shows_every_hostile_text_literally(exports: Exports) -> None:
    out = exports.directory / "lo-csv"
    libreoffice_convert(list(exports.workbooks.values()), CSV_EVERY_SHEET, out, exports.directory)
    for name, shown in SHOWN.items():
        cells: set[str] = set()
        for sheet in out.glob(f"{name}-*.csv"):
            with sheet.open(encoding="utf-8", newline="") as handle:
                cells.update(cell for row in csv.reader(handle) for cell in row)
        assert cells, f"LibreOffice wrote no sheet of {name}.xlsx"
        assert shown <= cells, (name, shown - cells)
        assert not {"点击查看", "http://evil.example/", "#NAME?", "Err:508"} & cells, name


def test_the_board_csv_quotes_every_cell_that_starts_like_a_formula(exports: Exports) -> None:
    rows = list(csv.DictReader(io.StringIO(exports.board_csv)))
    assert {row["编号"] for row in rows} == set(TITLES)
    for row in rows:
        assert row["改革任务"] == "'" + TITLES[row["编号"]]
        assert row["牵头单位"] == "'" + UNIT
        assert row["配合单位"] == "'" + CO_UNIT
        assert row["领衔领导"] == "'" + OFFICIAL
        assert row["专责小组"] == "'" + GROUP
        assert row["领域"] == "'+稳增长"
        assert row["完成时限"] == "2024-06-30"  # not text that starts like a formula: as is
        assert row["进度%"] == "0"
    for line in csv.reader(io.StringIO(exports.board_csv)):
        assert not any(cell.startswith(FORMULA_STARTS) for cell in line), line
