"""The `[import]` section: what a task-list import may bring in besides the tasks themselves."""

from __future__ import annotations

from duban.settings.sections import Section

__all__ = ["ImportRules"]


class ImportRules(Section):
    """`allow_new_units`: whether an import may name a lead or co-unit the config's `[[units]]`
    do not list. Off by default: such a row is refused (row and column named), so that no task
    goes to a unit with no chat and no liaison. A config with no `[[units]]` at all keeps no
    directory of units, and its imports are not checked."""

    allow_new_units: bool = False
