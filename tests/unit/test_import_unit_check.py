"""The import's unit check as a rule: exactly the lead and co-units outside the config's units
are named, in row order, unless the config allows new units or names none at all."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from duban.app.commands import AssignTask
from duban.app.importer import unknown_units_in
from duban.settings.config import Config, parse_config

UNITS = ["县财政局", "县教育局", "县发展和改革局", "县教体局", "县卫健委", "县税务局"]
CONFIGURED = UNITS[:3]


def _config(units: list[str], **imports: Any) -> Config:
    raw: dict[str, Any] = {
        "channels": [{"name": n, "platform": "console"} for n in ("office", "leaders")],
        "units": [{"name": u, "channel": "office"} for u in units],
    }
    if imports:
        raw["import"] = imports
    return parse_config(raw)


def _task(number: int, lead: str, co: list[str]) -> AssignTask:
    return AssignTask(
        code=f"2026-{number:02d}", title="深化改革", lead_unit=lead, co_units=tuple(co),
        deadline=None, deadline_text="持续推进",
    )  # fmt: skip


rows = st.lists(
    st.tuples(st.sampled_from(UNITS), st.lists(st.sampled_from(UNITS), unique=True, max_size=3))
    .filter(lambda r: r[0] not in r[1]),
    min_size=1, max_size=8,
)  # fmt: skip


@given(rows)
def test_exactly_the_units_outside_the_config_are_named_in_row_order(
    found: list[tuple[str, list[str]]],
) -> None:
    tasks = [_task(i, lead, co) for i, (lead, co) in enumerate(found)]
    expected = []
    for number, (lead, co) in enumerate(found, start=1):
        expected += [(number, "lead_unit", lead)] if lead not in CONFIGURED else []
        expected += [(number, "co_units", u) for u in co if u not in CONFIGURED]
    assert unknown_units_in(tasks, _config(CONFIGURED)) == expected
    assert unknown_units_in(tasks, _config(CONFIGURED, allow_new_units=True)) == []


def test_a_config_without_units_checks_nothing_and_the_switch_is_off_by_default() -> None:
    task = _task(1, "县教体局", [])
    assert unknown_units_in([task], _config([])) == []
    assert _config(CONFIGURED).imports.allow_new_units is False
    assert unknown_units_in([task], _config(CONFIGURED)) == [(1, "lead_unit", "县教体局")]
