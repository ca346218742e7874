"""The numbers of the office's formal documents: `县改办督〔2026〕12号` (督办单) and
`县改办通〔2026〕3号` (通报). PRODUCT.md rule 13: one gapless sequence per kind and year.

A number is the office's short name, the kind's character, the year in 六角括号 〔〕 and the
position in that year's sequence. `parse_number` reads one back as a person types it: the
brackets may also be typed as [], ［］, () or （）, and spaces are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = [
    "DOCUMENT_KINDS",
    "DocumentKind",
    "DocumentNumber",
    "KindName",
    "format_number",
    "kind_of_rung",
    "parse_number",
]

KindName = Literal["supervise", "bulletin"]


@dataclass(frozen=True)
class DocumentKind:
    name: KindName
    char: str  # in the number: 督 / 通
    title: str  # the document's name: 督办单 / 通报


DOCUMENT_KINDS = MappingProxyType(
    {
        "supervise": DocumentKind("supervise", "督", "督办单"),
        "bulletin": DocumentKind("bulletin", "通", "通报"),
    }
)
"""The two kinds, named by the ladder rung that issues them (督办 → 督办单, 通报 → 通报)."""

_BY_CHAR = {kind.char: kind for kind in DOCUMENT_KINDS.values()}
_NUMBER = re.compile(r"^(?P<office>.+?)(?P<char>[督通])〔(?P<year>\d{4})〕(?P<seq>\d+)号$")
_BRACKETS = str.maketrans(
    {"[": "〔", "［": "〔", "(": "〔", "（": "〔", "]": "〕", "］": "〕", ")": "〕", "）": "〕"}
)


@dataclass(frozen=True, order=True)
class DocumentNumber:
    office: str
    kind: KindName
    year: int
    seq: int

    def __str__(self) -> str:
        return format_number(self.office, self.kind, self.year, self.seq)


def kind_of_rung(rung: str) -> KindName | None:
    """The kind of document a ladder rung issues (督办, 通报), or None for the rungs below."""
    kind = DOCUMENT_KINDS.get(rung)
    return kind.name if kind is not None else None


def format_number(office: str, kind: KindName, year: int, seq: int) -> str:
    if seq < 1:
        raise ValueError(f"a document's number starts at 1, not {seq}")
    if not office or not office.strip():
        raise ValueError("the office's short name is empty")
    return f"{office}{DOCUMENT_KINDS[kind].char}〔{year:04d}〕{seq}号"


def parse_number(text: str) -> DocumentNumber | None:
    """The number as typed, or None when it is not one (wrong shape, number 0)."""
    cleaned = "".join(text.split()).translate(_BRACKETS)
    found = _NUMBER.match(cleaned)
    if found is None or int(found["seq"]) < 1:
        return None
    kind = _BY_CHAR[found["char"]].name
    return DocumentNumber(found["office"], kind, int(found["year"]), int(found["seq"]))
