"""The demo's generated evidence files are real files of their type, and the re-dated list moves
every year of the sample by the same shift."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from domain.evidence import file_type
from duban.app.demo import demo_pdf, demo_png, redated_list

REPO = Path(__file__).resolve().parents[2]


def test_the_pdf_is_typed_by_content_and_its_xref_points_at_its_objects() -> None:
    pdf = demo_pdf("Task 2026-01: 30%")
    assert file_type(pdf[:64]) == "application/pdf"
    start = int(re.search(rb"startxref\n(\d+)", pdf)[1])  # type: ignore[index]
    assert pdf[start:].startswith(b"xref\n0 6\n")
    offsets = [int(x) for x in re.findall(rb"(\d{10}) 00000 n", pdf)]
    assert [pdf[o:].split(b" ", 1)[0] for o in offsets] == [b"1", b"2", b"3", b"4", b"5"]
    assert pdf.rstrip().endswith(b"%%EOF")


@given(st.integers(1, 64), st.integers(1, 64))
def test_the_png_decodes_to_its_size(width: int, height: int) -> None:
    png = demo_png(width, height)
    assert file_type(png[:64]) == "image/png"
    chunks, at = {}, 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + data)
        chunks[kind] = data
        at += 12 + length
    assert struct.unpack(">II", chunks[b"IHDR"][:8]) == (width, height)
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + 3 * width)


def test_the_sample_is_redated_to_the_year(tmp_path: Path) -> None:
    sample = REPO / "examples" / "tasks-2024.csv"
    text = redated_list(sample, 2027, tmp_path).read_text(encoding="utf-8")
    assert "2024" not in text
    assert "2027-01,深入开展" in text
    assert text.count("2027") == sample.read_text(encoding="utf-8-sig").count("2024")
