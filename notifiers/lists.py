"""Markdown tables as lists, for the chats whose Markdown shows a table as rows of ``|``.

WeCom and DingTalk markdown do not render tables, nor does a Feishu post: the 年督考 posted to
such a chat would arrive as ``| 1 | 县财政局 | 98.5 | +0 | -1.5 |``. `tables_as_lists` turns
every table of a text into one list line per row, each cell after the first two under its
column's name::

    | 名次 | 单位 | 得分 | 加分 | 扣分 |        - 第1名 县财政局：得分98.5，加分+0，扣分-1.5
    |---|---|---|---|---|               →   - 县审计局（无任务）
    | 1 | 县财政局 | 98.5 | +0 | -1.5 |
    | 无任务 | 县审计局 | — | — | — |

A ranking column (名次, 排名, 序号) becomes 「第N名」 in front of the row (a word, not a Markdown
ordered list, which a renderer would renumber and so lose tied ranks). Empty cells and 「—」 are
left out. Text outside tables is kept exactly; values inside were escaped by the message's
builder (`notifiers.render.escape_markdown` makes a value's ``|`` full-width), so only the
builder's own table lines start with ``|``. Pure and idempotent.
"""

from __future__ import annotations

import re

__all__ = ["RANK_HEADERS", "TABLE_PLATFORMS", "for_platform", "tables_as_lists"]

TABLE_PLATFORMS = frozenset({"console"})
"""Where a Markdown table is shown as written (a terminal or a log); every chat gets lists."""

RANK_HEADERS = frozenset({"名次", "排名", "序号"})
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")
_EMPTY = frozenset({"", "—", "-", "－", "/"})


def for_platform(platform: str, text: str) -> str:
    """`text` as `platform` should receive it: tables turned into lists unless it shows them."""
    return text if platform in TABLE_PLATFORMS else tables_as_lists(text)


def tables_as_lists(text: str) -> str:
    """Every table in `text` (lines starting with ``|``) as list lines; the rest unchanged."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not _is_row(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        block: list[str] = []
        while i < len(lines) and _is_row(lines[i]):
            block.append(lines[i])
            i += 1
        out += _as_list(block)
    return "\n".join(out)


def _is_row(line: str) -> bool:
    return line.lstrip().startswith("|")


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner.removeprefix("|").removesuffix("|")
    return [cell.strip() for cell in inner.split("|")]


def _as_list(block: list[str]) -> list[str]:
    header: list[str] = []
    rows = block
    if len(block) > 1 and _SEPARATOR.match(block[1]):
        header, rows = _cells(block[0]), block[2:]
    elif _SEPARATOR.match(block[0]):
        rows = block[1:]
    return [_row(header, _cells(row)) for row in rows if not _SEPARATOR.match(row)]


def _row(header: list[str], cells: list[str]) -> str:
    names = (header + [""] * len(cells))[: len(cells)]
    lead, note = "", ""
    if names and names[0] in RANK_HEADERS and len(cells) > 1:
        rank, cells, names = cells[0], cells[1:], names[1:]
        if rank.isdigit():
            lead = f"第{rank}名 "
        elif rank not in _EMPTY:
            note = f"（{rank}）"
    if not cells:
        return f"- {lead}{note}".rstrip()
    subject, rest = cells[0], list(zip(names[1:], cells[1:], strict=True))
    shown = [f"{name}{value}" for name, value in rest if value not in _EMPTY]
    body = f"：{'，'.join(shown)}" if shown else ""
    return f"- {lead}{subject}{note}{body}"
