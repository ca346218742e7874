"""年督考 scoring rules: what each scored fact weighs, and the base every unit starts from.

A plain value (no I/O, no pydantic): the application layer builds it from the config's
``[assessment]`` section and hands it to the read models, which apply it to the facts of the
events when a score is asked for, so a changed rule changes the scores without touching any
event.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

__all__ = ["ScoringRules"]


@dataclass(frozen=True)
class ScoringRules:
    """The points of each kind of fact (negative: deducted), per unit, on top of `base`."""

    base: float = 100.0
    lead_on_time: float = 2.0  # lead unit, task completed by its deadline
    co_on_time: float = 1.0  # each co-unit of it
    lead_late: float = -5.0  # lead unit, completed after its deadline
    co_late: float = -2.5
    lead_overdue: float = -5.0  # lead unit, still unfinished past its deadline at the assessment
    co_overdue: float = -2.5  # each co-unit of it
    report_late: float = -0.1  # monthly progress report after the round's due date
    report_missing: float = -0.5  # none in the month
    supervise: float = -1.0  # 督办
    bulletin: float = -2.0  # 通报
    instruction_unanswered: float = -1.0  # a 批示 not answered by its date (the task's lead unit)
    measure_interview: float = -2.0  # 问责 measures, to the unit they were recorded against: 约谈
    measure_criticism: float = -3.0  # 通报批评
    measure_accountability: float = -5.0  # 问责
    recognition_national: float = 3.0  # a pilot or exemplar recognised at that level
    recognition_provincial: float = 2.0
    recognition_municipal: float = 1.0
    recognition_county: float = 0.0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):  # points are floats, as the config reads them
            object.__setattr__(self, field.name, float(getattr(self, field.name)))

    def as_dict(self) -> dict[str, float]:
        """Every rule by name, in declaration order (as the 年督考 report lists them)."""
        return dataclasses.asdict(self)
