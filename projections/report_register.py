"""The 领导批示 and 追责问责 registers in the reports' view, and what the reports read of them.

Facts (rows of ``report_facts``, `projections.assessment`), one per event:

* ``Instruction.Issued`` → ``instruction_issued`` (unit: the task's lead unit, as issued;
  detail: the instruction's id and its answer-by date);
* ``Instruction.Answered`` → ``instruction_answered`` (detail: the instruction's id; the unit and
  task are the issued fact's);
* ``AccountabilityMeasure.Recorded`` → ``measure_interview`` | ``measure_criticism`` |
  ``measure_accountability`` (unit: the unit the measure is against; day: the measure's date;
  detail: reason, 文号).

`unanswered_instructions` derives the ``instruction_unanswered`` facts of a year: an instruction
whose answer-by date fell in the year and had passed by the as-of date, not answered on or
before that date. Each links to its ``Issued`` event. `measure_rows` lists the measures of a
period for the quarterly and annual reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic

from domain.accountability import KIND_LABELS, AccountabilityMeasure
from domain.instruction import Instruction
from projections.report_facts import Fact, event_day, event_type, written_day

__all__ = [
    "MEASURE_KINDS",
    "MEASURE_LABELS",
    "REGISTER_TOPICS",
    "FactReader",
    "is_register_event",
    "measure_rows",
    "register_fact",
    "unanswered_instructions",
]

MEASURE_LABELS = KIND_LABELS
MEASURE_KINDS = tuple(f"measure_{kind}" for kind in MEASURE_LABELS)
_REGISTER: tuple[type[DomainEvent], ...] = (
    Instruction.Issued,
    Instruction.Answered,
    AccountabilityMeasure.Recorded,
)
REGISTER_TOPICS = tuple(get_topic(cls) for cls in _REGISTER)


class FactReader(Protocol):
    """The read this module needs (`projections.assessment.ReportStore.facts`)."""

    def facts(
        self, start: dt.date, end: dt.date, kinds: Sequence[str] | None = None
    ) -> list[Fact]: ...


def is_register_event(event: Any) -> bool:
    return type(event) in _REGISTER


def register_fact(position: int, e: Any) -> Fact:
    """The fact of a 批示 or 问责 event (see the module docstring)."""
    day, kind_of = event_day(e).isoformat(), type(e)
    if kind_of is Instruction.Issued:
        answer_by = e.answer_by.isoformat() if e.answer_by else None
        detail = {"instruction": str(e.originator_id), "answer_by": answer_by, "text": e.text}
        return Fact(position, day, "instruction_issued", e.unit, e.task_code, event_type(e), detail)
    if kind_of is Instruction.Answered:
        detail = {"instruction": str(e.originator_id)}
        return Fact(position, day, "instruction_answered", "", "", event_type(e), detail)
    on = getattr(e, "on", None)  # the measure's own date, when it differs from the record's
    day = on.isoformat() if on else day
    detail = {
        "measure": str(e.originator_id),
        "kind": e.kind,
        "reason": e.reason,
        "document_no": e.document_no,
    }
    return Fact(position, day, f"measure_{e.kind}", e.unit, e.task_code, event_type(e), detail)


def unanswered_instructions(store: FactReader, year: int, as_of: dt.date) -> list[Fact]:
    """The ``instruction_unanswered`` facts of `year` with the facts of days up to `as_of`."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    due = [
        f
        for f in store.facts(dt.date.min, min(end, as_of), ["instruction_issued"])
        if f.detail.get("answer_by")
        and start.isoformat() <= str(f.detail["answer_by"]) <= end.isoformat()
        and str(f.detail["answer_by"]) < as_of.isoformat()  # the date has passed
    ]
    if not due:
        return []
    first = dt.date.fromisoformat(min(f.day for f in due))
    answered: dict[str, str] = {}
    for f in store.facts(first, as_of, ["instruction_answered"]):
        answered.setdefault(str(f.detail["instruction"]), f.day)
    found = []
    for f in due:
        answer_by = str(f.detail["answer_by"])
        reply = answered.get(str(f.detail["instruction"]))
        if reply is not None and reply <= answer_by:
            continue
        when = f"{written_day(reply)}才回复" if reply else "未回复"
        note = f"要求{written_day(answer_by)}前回复，{when}"
        detail = {**f.detail, "answered": reply, "note": note}
        found.append(
            Fact(f.position, answer_by, "instruction_unanswered", f.unit, f.task_code,
                 f.event_type, detail)
        )  # fmt: skip
    return found


def measure_rows(store: FactReader, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """The 问责 measures recorded on days `start`..`end`, in the order recorded."""
    return [
        {
            "task_code": f.task_code,
            "unit": f.unit,
            "kind": f.detail["kind"],
            "kind_label": MEASURE_LABELS.get(str(f.detail["kind"]), "其他措施"),
            "reason": f.detail["reason"],
            "document_no": f.detail["document_no"],
            "day": f.day,
            "notification_id": f.position,
        }
        for f in store.facts(start, end, list(MEASURE_KINDS))
    ]
