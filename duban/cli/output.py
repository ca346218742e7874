"""Rendering plain data for the terminal: stable JSON, CSV and simple aligned tables."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from duban.app.safe_cells import csv_text

__all__ = ["display_width", "render_csv", "render_table", "to_json", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value


def to_json(value: Any) -> str:
    return json.dumps(to_jsonable(value), ensure_ascii=False, indent=2, sort_keys=False)


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(value: Any) -> str:
    value = to_jsonable(value)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return "" if value is None else str(value)


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """columns: (key, header). Pads by display width so Chinese text lines up."""
    cells = [[_cell(row.get(key)) for key, _ in columns] for row in rows]
    headers = [header for _, header in columns]
    widths = [
        max([display_width(headers[i]), *(display_width(r[i]) for r in cells)])
        for i in range(len(columns))
    ]

    def line(values: list[str]) -> str:
        return "  ".join(
            v + " " * (w - display_width(v)) for v, w in zip(values, widths, strict=True)
        )

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(s.rstrip() for s in out)


def render_csv(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for _, header in columns])
    for row in rows:  # a cell that starts with "=" gets a leading "'" (duban.app.safe_cells)
        writer.writerow([csv_text(row.get(key), _cell(row.get(key))) for key, _ in columns])
    return buffer.getvalue()
