"""Writes the corpus cases that are not plain UTF-8 text: other encodings, BOMs, XLSX, gzip.

Run it only to change one of them (`.venv/bin/python -m tests.reliability.corpus.build`); the
files it writes are committed. Plain-text cases are written by hand, each beside its
`<name>.expected.json`.
"""

from __future__ import annotations

import codecs
import gzip
import io
from pathlib import Path

import openpyxl

from tests.reliability.corpus import bombs

HERE = Path(__file__).parent / "import"
TITLE = "2024年全县全面深化改革工作要点任务分解表"
HEADER = "序号,编号,改革任务,牵头单位,配合单位,完成时限\n"


def _csv(*rows: str) -> str:
    return "".join(f"{row}\n" for row in rows)


def gbk() -> None:
    text = _csv(
        TITLE + ",,,,,",
        HEADER.strip(),
        '"一、在""稳增长""上借助改革之势",,,,,',
        "1,2024-01,深入开展“项目攻坚突破年”活动,县发展和改革局,县财政局、县自然资源局,2024年12月31日",
        "2,2024-02,深化招商引资体制机制改革,县商务局(招商服务中心),工业园区管委会,持续推进",
    )
    (HERE / "gbk-excel-export.csv").write_bytes(text.encode("gbk"))


def undecodable() -> None:
    # 0xFF never starts a character in UTF-8 or GB18030.
    data = HEADER.encode() + b"1,2024-01,\xff\xfe\xff\xff,\xff\xff,,2024-12-31\n"
    (HERE / "undecodable-bytes.csv").write_bytes(data)


def utf8_bom_then_gbk() -> None:
    body = _csv(HEADER.strip(), "1,2024-01,任务,县财政局,,2024年底前")
    (HERE / "utf8-bom-then-gbk.csv").write_bytes(codecs.BOM_UTF8 + body.encode("gbk"))


def utf16() -> None:
    body = _csv(
        "编号\t改革任务\t牵头单位\t完成时限",
        "2024-01\t推进义务教育优质均衡发展\t县教育局\t2024年6月底",
    )
    (HERE / "utf16-unicode-text.csv").write_bytes(codecs.BOM_UTF16_LE + body.encode("utf-16-le"))


def boms() -> None:
    body = _csv(HEADER.strip(), "1,2024-01,任务,县财政局,,2024年底前")
    (HERE / "utf8-bom-header.csv").write_bytes(codecs.BOM_UTF8 + body.encode())
    plain = _csv("编号,改革任务,牵头单位,完成时限", "2024-01,任务,县财政局,2024年底前")
    (HERE / "double-bom.csv").write_bytes(codecs.BOM_UTF8 * 2 + plain.encode())
    (HERE / "bom-only.csv").write_bytes(codecs.BOM_UTF8)
    (HERE / "empty.csv").write_bytes(b"")


def huge_row() -> None:
    """A 10 MB cell in row 3: compressed here, unpacked by the test (to ten megabytes)."""
    text = _csv(
        HEADER.strip(),
        "1,2024-01,正常的任务,县财政局,,2024年底前",
        "2,2024-02," + "改" * (10 * 1024 * 1024 // 3) + ",县财政局,,2024年底前",
        "3,2024-03,后面的任务,县财政局,,2024年底前",
    )
    (HERE / "ten-megabyte-row.csv.gz").write_bytes(gzip.compress(text.encode(), mtime=0))


def _sheet(rows: list[list[object]]) -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    return book


def _save(book: openpyxl.Workbook, name: str) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    (HERE / name).write_bytes(buffer.getvalue())
    return buffer.getvalue()


def xlsx() -> None:
    import datetime as dt

    header = ["序号", "编号", "改革任务", "牵头单位", "完成时限"]
    good = _save(
        _sheet([[TITLE], header, [1, "2024-01", "任务一", "县财政局", dt.datetime(2024, 6, 30)]]),
        "excel-dates.xlsx",
    )
    (HERE / "truncated.xlsx").write_bytes(good[: len(good) // 2])
    (HERE / "csv-renamed.xlsx").write_bytes(_csv(HEADER.strip()).encode())
    # openpyxl writes formulas without a cached value, as a program-generated file has them.
    _save(
        _sheet([header, [1, "2024-01", "任务一", "县财政局", "=DATE(2024,6,30)"],
                [2, '=CONCAT("2024-","02")', "任务二", "县财政局", "2024年底前"]]),
        "formula-without-cached-value.xlsx",
    )  # fmt: skip
    _save(
        _sheet([header, [1, "2024-01", "任务一", "县财政局", "2024年底前"],
                [2, "2024-01", "任务二", "县财政局", "2024年底前"]]),
        "duplicate-codes-in-workbook.xlsx",
    )  # fmt: skip


def extreme_dates() -> None:
    """Excel date cells at the ends of what Excel holds: serial 2958465 (9999-12-31) and
    serial 1 (1900-01-01), both outside the product's date range; row 4 is fine."""
    import datetime as dt

    header = ["编号", "改革任务", "牵头单位", "完成时限"]
    book = _sheet([header, ["2024-01", "任务一", "县财政局", 2958465],
                   ["2024-02", "任务二", "县财政局", 1], ["2024-03", "任务三", "县财政局",
                   dt.datetime(2024, 6, 30)]])  # fmt: skip
    sheet = book.active
    assert sheet is not None
    for row in (2, 3, 4):
        sheet.cell(row, 4).number_format = "yyyy-mm-dd"
    _save(book, "extreme-dates-excel.xlsx")


if __name__ == "__main__":
    builds = (gbk, undecodable, utf8_bom_then_gbk, utf16, boms, huge_row, xlsx, extreme_dates)
    for build in builds:
        build()
    bombs.build()  # the XLSX dimension and zip bombs
