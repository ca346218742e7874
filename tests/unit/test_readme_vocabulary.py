"""The README's 词汇表 says what the product prints: each row is the vocabulary's label."""

from __future__ import annotations

import re
from pathlib import Path

from domain.vocabulary import VOCABULARY

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| (\w+) \| `([^`]+)` \| (.+?) \|$", re.M)


def test_every_glossary_row_is_the_label_the_product_prints() -> None:
    section = README.read_text(encoding="utf-8").split("## Vocabulary (词汇表)", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = ROW.findall(section)
    assert len(rows) > 30  # the section is there and parsed
    for kind, code, text in rows:
        assert VOCABULARY[kind][code] == text, (kind, code)


def test_the_glossary_lists_every_code_of_its_tables() -> None:
    section = README.read_text(encoding="utf-8").split("## Vocabulary (词汇表)", 1)[1]
    rows = ROW.findall(section.split("\n## ", 1)[0])
    for kind in {kind for kind, _, _ in rows}:
        assert {code for k, code, _ in rows if k == kind} == set(VOCABULARY[kind]), kind
