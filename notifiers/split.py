"""Cut a digest that is too long for a platform into numbered parts that each fit.

Limits are UTF-8 bytes (a Chinese character is three), so the cuts are counted in bytes, made
between lines, and only inside a line when that single line is longer than a whole part (then
between two characters, never inside one, nor inside a link to the workspace). Parts are
numbered `（1/3）` on a line of their own, and the numbering counts against the budget. Packing
is greedy, which for an ordered sequence of lines gives the fewest parts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from notifiers.errors import BudgetTooSmall
from notifiers.links import LINK_PATTERN

__all__ = ["numbering", "split_message", "strip_numbering", "utf8_len"]

_NUMBERING = re.compile(r"\A（\d+/\d+）\n")
_LINE_ENDS = re.compile(r"(?<=\n)")  # split after each newline, keeping it
_LONGEST_CHAR = 4  # bytes of the widest UTF-8 character
_LINK_BYTES = re.compile(LINK_PATTERN.pattern.encode("ascii"))  # the same links, in bytes


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def numbering(index: int, total: int) -> str:
    return f"（{index}/{total}）\n"


def strip_numbering(part: str) -> str:
    """A part without the numbering line `split_message` put in front of it."""
    return _NUMBERING.sub("", part, count=1)


def split_message(text: str, max_bytes: int, header_budget: int = 0) -> list[str]:
    """`text` as one part if it fits, else numbered parts of at most `max_bytes - header_budget`.

    `header_budget` keeps room in every part for what the sender adds around it (title line,
    keyword, mentions). Joining the parts with `strip_numbering` reproduces `text` exactly.
    """
    budget = max_bytes - header_budget
    if utf8_len(text) <= budget:
        return [text]
    digits = 1
    while True:
        capacity = budget - utf8_len(numbering(10**digits - 1, 10**digits - 1))
        if capacity < _LONGEST_CHAR:
            raise BudgetTooSmall(
                f"{max_bytes} bytes less {header_budget} for the header cannot hold numbered parts"
            )
        chunks = _pack(text, capacity)
        if len(str(len(chunks))) <= digits:
            break
        digits = len(str(len(chunks)))
    return [numbering(i, len(chunks)) + chunk for i, chunk in enumerate(chunks, start=1)]


def _pack(text: str, capacity: int) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for atom in _atoms(text, capacity):
        atom_size = utf8_len(atom)
        if current and size + atom_size > capacity:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(atom)
        size += atom_size
    if current:
        chunks.append("".join(current))
    return chunks


def _atoms(text: str, capacity: int) -> Iterator[str]:
    """Lines (with their newline), and lines longer than `capacity` cut between characters,
    never inside a link (`notifiers.links`) that fits a part."""
    for line in _LINE_ENDS.split(text):
        data = line.encode("utf-8")
        while len(data) > capacity:
            cut = capacity
            while data[cut] & 0xC0 == 0x80:  # a continuation byte: step back to the char start
                cut -= 1
            cut = _outside_links(data, cut)
            yield data[:cut].decode("utf-8")
            data = data[cut:]
        if data:
            yield data.decode("utf-8")


def _outside_links(data: bytes, cut: int) -> int:
    """`cut` moved back to the start of the link it falls inside (a link is never split in
    two), unless that link starts the text: then it is longer than a part and is cut."""
    for start, end in _byte_spans(data):
        if start < cut < end and start > 0:
            return start
    return cut


def _byte_spans(data: bytes) -> Iterator[tuple[int, int]]:
    for match in _LINK_BYTES.finditer(data):
        yield match.span()
