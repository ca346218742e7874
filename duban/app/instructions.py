"""领导批示: the task's leading official or the office writes an instruction on a task, the
lead unit's liaison answers it, everyone with a part in the task reads it.

Who may: the office on any task; a leading official (role official) only on a task they lead
(its `official`); anyone else is refused (403). An answer is the lead unit's (its liaison; the
office may record one received otherwise). The answer date must lie in the product's date
range and not before today. Instructions are numbered per task (`2024-01/1`); the number is
the aggregate's id, so two writers racing for one number cannot both have it: the loser takes
the next. Reads come from the 批示 index (`projections.instructions`), caught up first.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.dates import chinese_date, in_range, out_of_range_message
from domain.errors import Forbidden, TaskClosed
from domain.instruction import (
    Instruction,
    InstructionError,
    InstructionNotFound,
    InstructionRefInvalid,
    instruction_id,
    instruction_ref,
    overdue,
    parse_ref,
)
from domain.roles import Identity, authorize
from domain.task import STATUS_LABELS, ReformTask
from duban.app import commands as cmd
from duban.app.errors import Conflict, InvalidRequest
from duban.app.ledger import Ledger
from duban.app.task_commands import REPORT
from projections.audit import who as actor_name
from projections.instructions import InstructionIndex, open_instruction_index

__all__ = [
    "ALL_OPEN",
    "MAX_NUMBER_TRIES",
    "InstructionDesk",
    "instruction_index",
    "open_counts",
    "open_instructions",
]

MAX_NUMBER_TRIES = 20
ALL_OPEN = "all"  # a report's `answers`: every unanswered 批示 of the task
_INDEXES: weakref.WeakKeyDictionary[Ledger, InstructionIndex] = weakref.WeakKeyDictionary()
# The index's writer keeps facts in memory: one catch-up at a time in this process (the API's
# worker threads share it); other processes are kept apart by the view's tracking row.
_CATCHING_UP = threading.Lock()


def instruction_index(ledger: Ledger) -> InstructionIndex:
    """The 批示 index of this ledger's store (opened once per ledger), caught up."""
    with _CATCHING_UP:
        index = _INDEXES.get(ledger)
        if index is None:
            index = _INDEXES[ledger] = open_instruction_index(ledger)
        index.catch_up(ledger)
    return index


def open_instructions(ledger: Ledger, code: str, today: dt.date) -> list[dict[str, Any]]:
    """The task's unanswered instructions, as the task view shows them (no authorization:
    the caller has read the task already)."""
    return [_view(f, today) for f in instruction_index(ledger).of_task(code) if not f["answered"]]


class InstructionDesk:
    """The 批示 commands and reads of one ledger, on the office's day (`tz`)."""

    def __init__(self, ledger: Ledger, tz: dt.tzinfo) -> None:
        self.ledger = ledger
        self.tz = tz

    def today(self) -> dt.date:
        return self.ledger.clock().astimezone(self.tz).date()

    # ---- commands -------------------------------------------------------------------------

    def issue(
        self, code: str, text: str, answer_by: dt.date | None, who: Identity
    ) -> dict[str, Any]:
        """Record an instruction on task `code`; the instruction as `instructions` shows it."""
        task = self.ledger._task(code)
        _may_issue(who, task)
        if task.is_closed:
            raise TaskClosed(f"任务 {code} {STATUS_LABELS[task.status]}，不能再作批示")
        if not text.strip():
            raise InvalidRequest("批示内容不能为空")
        if answer_by is not None:
            if not in_range(answer_by):
                raise InvalidRequest(out_of_range_message(answer_by, "答复时限"))
            if answer_by < self.today():
                raise InvalidRequest(f"答复时限不能早于今天（{_day_text(self.today())}）")
        number = self._next_number(code)
        for _ in range(MAX_NUMBER_TRIES):
            instruction = Instruction(
                task_code=code,
                unit=task.lead_unit,
                text=text.strip(),
                answer_by=answer_by,
                actor=who.actor,
                at=self.ledger.clock(),
                number=number,
                via=who.via,
            )
            try:
                self.ledger.save(instruction)
            except IntegrityError:
                number += 1  # another writer took this number first: the next one
                continue
            return _view(_facts_of(instruction), self.today())
        raise Conflict(f"任务 {code} 的批示正被同时录入，请重新办理")

    def answer(self, ref: str, text: str, who: Identity) -> dict[str, Any]:
        """The lead unit answers instruction `ref` (``2024-01/1``) once."""
        try:
            code, number = parse_ref(ref)
        except InstructionRefInvalid as exc:
            raise InvalidRequest(exc.message) from None
        task = self.ledger._task(code)
        instruction = self._instruction(code, number)
        _may_answer(who, task, ref)
        instruction.answer(text.strip(), who.actor, self.ledger.clock(), who.via)
        try:
            self.ledger.save(instruction)
        except IntegrityError as exc:
            raise Conflict(f"批示 {ref} 正被同时答复，请刷新后查看") from exc
        return _view(_facts_of(instruction), self.today())

    def report(
        self, code: str, report: cmd.ReportProgress, answers: Sequence[str], who: Identity
    ) -> str:
        """进展报送 that answers 批示: `answers` names them (``2024-01/1``, or ``all`` for every
        open one of the task); the report's text is the answer. Only the lead unit (or the
        office) may answer; the report and the answers are saved in one transaction, and a
        refusal saves neither. The success text of the report, with the refs answered."""
        wanted = _wanted_refs(code, answers)
        answered: list[str] = []

        def answering(task: ReformTask, at: dt.datetime) -> list[Instruction]:
            _may_answer(who, task, "、".join(wanted))
            found = self._to_answer(code, wanted)
            for instruction in found:
                instruction.answer(report.text, who.actor, at, who.via)
            answered[:] = [i.ref for i in found]
            return found

        def call(ledger: Ledger, code: str, body: cmd.ReportProgress, who: Identity) -> object:
            return ledger.report(code, body, who, answering=answering)  # its text needs no load

        done = replace(REPORT, call=call).run(self.ledger, code, report, who)  # its own text
        return f"{done}，已答复批示 {'、'.join(answered)}"

    def _to_answer(self, code: str, wanted: list[str]) -> list[Instruction]:
        """The instructions a report answers, loaded now: those named, else every open one."""
        if wanted:
            return [self._instruction(*parse_ref(ref)) for ref in wanted]
        numbers = [f["number"] for f in instruction_index(self.ledger).of_task(code)]
        found = [self._instruction(code, n) for n in numbers if n]
        still_open = [i for i in found if not i.answered]
        if not still_open:
            raise InstructionError(f"任务 {code} 没有待答复的批示，无需答复")
        return still_open

    # ---- reads ----------------------------------------------------------------------------

    def of_task(self, code: str, who: Identity) -> list[dict[str, Any]]:
        """Every instruction on one task (the caller may read the task's details)."""
        self.ledger._task_for(code, who, "read_details")
        today = self.today()
        return [_view(f, today) for f in instruction_index(self.ledger).of_task(code)]

    def listing(self, who: Identity) -> list[dict[str, Any]]:
        """Every instruction `who` may read: the office and auditors all, a liaison their
        unit's tasks', an official the tasks they lead."""
        authorize(who, "read")
        found = instruction_index(self.ledger).every()
        today = self.today()
        if who.role in ("office", "auditor", "system"):
            return [_view(f, today) for f in found]
        codes = {f["task_code"] for f in found}
        tasks = {code: self.ledger._task(code) for code in codes}
        return [_view(f, today) for f in found if _reads(who, tasks[f["task_code"]])]

    def _next_number(self, code: str) -> int:
        known = [f["number"] for f in instruction_index(self.ledger).of_task(code)]
        return max(known, default=0) + 1

    def _instruction(self, code: str, number: int) -> Instruction:
        try:
            found: Instruction = self.ledger.repository.get(instruction_id(code, number))
        except AggregateNotFoundError:
            raise InstructionNotFound(f"任务 {code} 没有编号为 {code}/{number} 的批示") from None
        return found


def _may_issue(who: Identity, task: ReformTask) -> None:
    if who.role == "office":
        return
    if who.role == "official":
        if task.official == who.name:
            return
        lead = task.official or "（无）"
        raise Forbidden(
            f"领衔领导（{who.name}）只能对本人领衔的任务作出批示："
            f"任务 {task.code} 的领衔领导是{lead}"
        )
    raise Forbidden("只有任务的领衔领导或改革办可以作出批示")


def _may_answer(who: Identity, task: ReformTask, ref: str = "") -> None:
    """An answer is the lead unit's (its liaison; the office records one received otherwise)."""
    if who.role == "liaison":
        if who.unit != task.lead_unit:
            named = f" {ref}" if ref else ""
            raise Forbidden(
                f"联络员（{who.unit}）不能答复批示{named}：只有牵头单位{task.lead_unit}可以答复"
            )
    elif who.role != "office":
        raise Forbidden("只有任务牵头单位的联络员（或改革办代为登记）可以答复批示")


def _wanted_refs(code: str, answers: Sequence[str]) -> list[str]:
    """The refs a report answers, checked before anything is loaded: each a 批示 of this task
    (``2024-01/1``, in the order given, once each), or ``all`` alone (an empty list)."""
    refs = (a.strip() for a in answers)
    given = list(dict.fromkeys(ALL_OPEN if ref.lower() == ALL_OPEN else ref for ref in refs))
    if ALL_OPEN in given:
        if len(given) > 1:
            raise InvalidRequest(f"答复批示时“{ALL_OPEN}”不能与具体编号同时使用")
        return []
    if not given:
        raise InvalidRequest("请写明所答复的批示编号（如 2024-01/1），或用 all 答复全部待答复批示")
    wanted: list[str] = []
    for ref in given:
        try:
            ref_code, number = parse_ref(ref)
        except InstructionRefInvalid as exc:
            raise InvalidRequest(exc.message) from None
        if ref_code != code:
            raise InvalidRequest(f"批示 {ref} 不是任务 {code} 的批示，不能由该任务的报送答复")
        wanted.append(instruction_ref(code, number))
    return list(dict.fromkeys(wanted))


def _reads(who: Identity, task: ReformTask) -> bool:
    if who.role == "liaison":
        return who.unit == task.lead_unit or who.unit in task.co_units
    if who.role == "official":
        return task.official == who.name
    return False


def _facts_of(i: Instruction) -> dict[str, Any]:
    def iso(value: dt.date | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "id": str(i.id),
        "ref": i.ref,
        "number": i.number,
        "task_code": i.task_code,
        "unit": i.unit,
        "text": i.text,
        "answer_by": iso(i.answer_by),
        "issued_by": i.issued_by,
        "issued_at": iso(i.issued_at),
        "answered": i.answered,
        "answer_text": i.answer_text,
        "answered_by": i.answered_by,
        "answered_at": iso(i.answered_at),
        "urges": [],
    }


def _day_text(day: dt.date) -> str:
    return chinese_date(day)


def _view(facts: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """An instruction as the entry points show it (JSON-native; `overdue` as of today)."""
    answer_by = dt.date.fromisoformat(facts["answer_by"]) if facts["answer_by"] else None
    return {
        "ref": facts["ref"],
        "task_code": facts["task_code"],
        "unit": facts["unit"],
        "text": facts["text"],
        "answer_by": facts["answer_by"],
        "issued_by": facts["issued_by"],
        "issued_by_name": actor_name(facts["issued_by"]),
        "issued_at": facts["issued_at"],
        "answered": facts["answered"],
        "answer_text": facts["answer_text"],
        "answered_by": facts["answered_by"],
        "answered_by_name": actor_name(facts["answered_by"]) if facts["answered_by"] else None,
        "answered_at": facts["answered_at"],
        "overdue": overdue(answer_by, bool(facts["answered"]), today),
        "urges": len(facts.get("urges") or ()),
    }


def open_counts(ledger: Ledger) -> dict[str, int]:
    """Task code → how many of its instructions are unanswered (the board's marker)."""
    return instruction_index(ledger).open_counts()
