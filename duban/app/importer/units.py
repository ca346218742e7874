"""Units an import names that the config does not know: a task list may assign tasks only to
the units of the config's `[[units]]` (each with its chat and liaisons), unless the config's
`[import] allow_new_units = true` lets it bring in new ones.

`unknown_units` checks a file's rows (the row as the file shows it, the column as headed);
`unknown_units_in` checks rows sent as JSON (the row's place in the list, from 1). Every
unknown unit of every row is named; the caller stores nothing when there is any.

A config with no `[[units]]` at all has no directory to check against (a minimal or
first-run config): nothing is refused then, and `unchecked_units_warning` is the one line the
import and the single assignment say about it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from duban.app.commands import AssignTask
from duban.app.importer.records import ImportResult, RowError
from duban.settings.config import Config

__all__ = [
    "UnitProblem",
    "checked_units",
    "known_units",
    "unchecked_units_warning",
    "unit_message",
    "unknown_units",
    "unknown_units_in",
]

UnitProblem = tuple[int, str, str]
"""(row, field "lead_unit" or "co_units", the unit's name as imported)."""


def known_units(config: Config) -> frozenset[str] | None:
    """The units an import may name; None when any will do (allowed, or no units configured)."""
    if config.imports.allow_new_units or not config.units:
        return None
    return frozenset(unit.name for unit in config.units)


def unknown_units(result: ImportResult, config: Config) -> list[RowError]:
    """A `RowError` for every lead or co-unit of the file's rows that the config does not know."""
    known = known_units(config)
    if known is None:
        return []
    errors: list[RowError] = []
    for task, record in zip(result.rows, result.origins, strict=True):
        for field, unit in _unknown(task, known):
            errors.append(RowError(record.row, record.column(field), unit_message(unit)))
    return errors


def checked_units(result: ImportResult, config: Config) -> ImportResult:
    """`result` with a problem added for every unknown unit (in row order), its rows kept."""
    found = unknown_units(result, config)
    if not found:
        return result
    errors = sorted([*result.errors, *found], key=lambda error: error.row)
    return ImportResult(rows=result.rows, errors=errors, origins=result.origins)


def unknown_units_in(rows: Sequence[AssignTask], config: Config) -> list[UnitProblem]:
    """Every lead or co-unit of rows sent as JSON that the config does not know, by row (from 1)."""
    known = known_units(config)
    if known is None:
        return []
    return [
        (number, field, unit)
        for number, task in enumerate(rows, start=1)
        for field, unit in _unknown(task, known)
    ]


def unchecked_units_warning(config: Config) -> str | None:
    """The warning when no unit is checked because the config lists none (None otherwise, and
    when `[import] allow_new_units = true` says so on purpose)."""
    if config.units or config.imports.allow_new_units:
        return None
    return (
        "注意：配置文件未列出单位名录（[[units]]），本次未核对牵头单位和配合单位；"
        "请在配置文件中逐一列出各单位及其工作群和联络员"
    )


def unit_message(unit: str) -> str:
    """「单位「县教体局」不在配置的单位名录中…」, and what the office can do about it."""
    return (
        f"单位「{unit}」不在配置的单位名录中（没有工作群和联络员）；"
        "请先在配置文件的 [[units]] 中添加该单位，或在 [import] 中设 allow_new_units = true"
    )


def _unknown(task: AssignTask, known: Collection[str]) -> Iterator[tuple[str, str]]:
    if task.lead_unit not in known:
        yield "lead_unit", task.lead_unit
    for unit in task.co_units:
        if unit not in known:
            yield "co_units", unit
