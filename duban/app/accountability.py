"""追责问责 register: the office records a measure (约谈, 通报批评, 问责) against a unit for a
task, with its reason and document number (文号); everyone with a part reads the register.

Only the office records. The unit must be the task's lead unit or one of its co-units (422
otherwise); the same task, unit and document number recorded twice is a conflict (409). The
kind is stored as its code (`domain.accountability.KINDS`); the Chinese name is accepted on
input. The register lists the measures of a year by the measure's date (its own when given,
else the day it was recorded, in the office's zone).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from eventsourcing.persistence import IntegrityError

from domain.accountability import (
    KIND_LABELS,
    AccountabilityError,
    AccountabilityMeasure,
)
from domain.dates import in_range, out_of_range_message
from domain.errors import Forbidden
from domain.roles import Identity, authorize
from duban.app.errors import Conflict, InvalidRequest
from duban.app.ledger import Ledger
from projections.audit import who as actor_name

__all__ = ["AccountabilityRegister", "measure_view"]


class AccountabilityRegister:
    """The 问责 commands and reads of one ledger, dated in the office's zone (`tz`)."""

    def __init__(self, ledger: Ledger, tz: dt.tzinfo) -> None:
        self.ledger = ledger
        self.tz = tz

    def record(
        self,
        code: str,
        unit: str,
        kind: str,
        reason: str,
        document_no: str,
        who: Identity,
        on: dt.date | None = None,
    ) -> dict[str, Any]:
        """Record one measure; the measure as the register shows it."""
        if who.role != "office":
            raise Forbidden("只有改革办可以登记追责问责措施")
        task = self.ledger._task(code)
        unit = unit.strip()
        if unit != task.lead_unit and unit not in task.co_units:
            units = "、".join([task.lead_unit, *task.co_units])
            raise InvalidRequest(f"{unit}不是任务 {code} 的牵头或配合单位（{units}）")
        if on is not None and not in_range(on):
            raise InvalidRequest(out_of_range_message(on, "措施日期"))
        try:
            measure = AccountabilityMeasure.record(
                code, unit, kind, reason, document_no, who.actor, self.ledger.clock(), on
            )
        except AccountabilityError as exc:
            raise InvalidRequest(exc.message) from None
        [recorded] = measure.pending_events  # the one Recorded event the save writes
        try:
            self.ledger.save(measure)
        except IntegrityError as exc:
            raise Conflict(
                f"任务 {code} 已就{unit}登记过文号为 {measure.document_no} 的措施"
            ) from exc
        return measure_view(recorded, self.tz)

    def listing(self, who: Identity, year: int | None = None) -> list[dict[str, Any]]:
        """The register (of `year`, when given), oldest first: the office and auditors all of
        it, a liaison their unit's measures, an official those on the tasks they lead."""
        authorize(who, "read")
        found: list[dict[str, Any]] = []
        officials: dict[str, str | None] = {}
        for _, event in self.ledger.events_of(AccountabilityMeasure.Recorded):
            view = measure_view(event, self.tz)
            if year is not None and not view["date"].startswith(f"{year:04d}-"):
                continue
            if who.role == "liaison" and view["unit"] != who.unit:
                continue
            if who.role == "official":
                code = view["task_code"]
                if code not in officials:
                    officials[code] = self.ledger._task(code).official
                if officials[code] != who.name:
                    continue
            found.append(view)
        return found


def measure_view(recorded: Any, tz: dt.tzinfo) -> dict[str, Any]:
    """A measure (its `AccountabilityMeasure.Recorded` event) as the entry points show it."""
    at: dt.datetime = recorded.at
    day: dt.date = recorded.on if recorded.on is not None else at.astimezone(tz).date()
    return {
        "task_code": recorded.task_code,
        "unit": recorded.unit,
        "kind": recorded.kind,
        "kind_label": KIND_LABELS.get(recorded.kind, recorded.kind),
        "reason": recorded.reason,
        "document_no": recorded.document_no,
        "date": day.isoformat(),
        "recorded_by": recorded.actor,
        "recorded_by_name": actor_name(recorded.actor),
        "recorded_at": at.isoformat(),
    }
