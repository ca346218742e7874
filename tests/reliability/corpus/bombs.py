"""XLSX files that claim more than they hold, for the import corpus (`corpus/import/`).

* `dimension-bomb.xlsx` (5 KB): a task table, a declared dimension of A1:XFD1048576 and one
  cell at XFD1048576, the last cell Excel has. Walking the declared grid is 17 billion cells.
* `dimension-claim.xlsx`: the same claim over a table that really ends at D3; it must read.
* `zip-bomb.xlsx` (90 KB): a task table followed by 40 MB of identical rows of numbers:
  2.6 million cells once parsed.

`build.py` writes them with the other binary cases; `bomb()` also serves tests that want
one of another size.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent / "import"
SHEET = "xl/worksheets/sheet1.xml"
HEADER = ["编号", "改革任务", "牵头单位", "完成时限"]
TASKS = [
    ["2024-01", "任务一", "县财政局", "2024年底前"],
    ["2024-02", "任务二", "县财政局", "持续推进"],
]


def _table() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER, *TASKS]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rewrite_sheet(workbook: bytes, edit: dict[bytes, bytes]) -> bytes:
    """The workbook with its sheet XML edited (each `old: new` replaced once)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == SHEET:
                for old, new in edit.items():
                    assert old in content, old
                    content = content.replace(old, new, 1)
            target.writestr(item.filename, content, zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def dimension_bomb(*, last_cell: bool = True) -> bytes:
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return _rewrite_sheet(
        _table(),
        {
            b'<dimension ref="A1:D3" />': b'<dimension ref="A1:XFD1048576" />',
            b"</sheetData>": (far if last_cell else b"") + b"</sheetData>",
        },
    )


def bomb(unpacked_mb: int) -> bytes:
    """A zip bomb of `unpacked_mb` MB of rows after a task table (a valid workbook)."""
    row = b"<row>" + b"<c><v>1</v></c>" * 1024 + b"</row>"
    rows = row * (unpacked_mb * 1024 * 1024 // len(row))
    return _rewrite_sheet(_table(), {b"</sheetData>": rows + b"</sheetData>"})


def build() -> None:
    (HERE / "dimension-bomb.xlsx").write_bytes(dimension_bomb())
    (HERE / "dimension-claim.xlsx").write_bytes(dimension_bomb(last_cell=False))
    (HERE / "zip-bomb.xlsx").write_bytes(bomb(40))


if __name__ == "__main__":
    build()
