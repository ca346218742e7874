"""The 批示 index: every instruction as plain facts, and the urges its lead unit was sent.

What the task view, the board's marker and the sweep's urging read, without a scan of the
history: one row per instruction (`Instruction.Issued`, `Instruction.Answered`) with its task
code and, while it is unanswered, its answer date in an indexed column, so the sweep selects
only the unanswered ones whose date has passed. The urges already queued for an instruction
(`ChatMessage.Queued` of kind `URGE_KIND`, keyed `instruction_urge|<instruction id>|<seq>`,
with `|<chat>` after it for a chat beside the lead unit's) are folded into its facts, one entry
per urge whatever the chats, so the next urge's date is known from the row alone.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent

from domain.instruction import Instruction, instruction_ref
from domain.reminder import ChatMessage
from projections import runner
from projections.facts import Facts, FactsProjection, Fold, Handler, dumps, jsonable
from projections.runner import Item
from projections.viewstore import Step, ViewRecorder, view_recorder

__all__ = [
    "URGE_KIND",
    "InstructionIndex",
    "InstructionProjection",
    "open_instruction_index",
    "urge_key",
]

URGE_KIND = "instruction_urge"  # 批示催办: an unanswered 批示 past its answer date

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS {p}instructions (task_id TEXT PRIMARY KEY, code TEXT NOT NULL, "
    "number INTEGER NOT NULL, open_by TEXT, answered INTEGER NOT NULL, facts TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {p}instructions_code ON {p}instructions (code)",
    "CREATE INDEX IF NOT EXISTS {p}instructions_open_by ON {p}instructions (open_by)",
)
TABLES = ("instructions",)
_UPSERT = (
    "INSERT INTO {p}instructions (task_id, code, number, open_by, answered, facts) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (task_id) DO UPDATE SET code = excluded.code, "
    "number = excluded.number, open_by = excluded.open_by, answered = excluded.answered, "
    "facts = excluded.facts"
)


def urge_key(instruction_id: object, seq: int, channel: str | None = None) -> str:
    """The outbox key of the `seq`-th urge (0 first) of one instruction: queued once per chat.
    The lead unit's chat has no `channel` part (the key urges were first stored with); any
    other chat told of the urge (the issuing official's) is named after the number."""
    key = f"{URGE_KIND}|{instruction_id}|{seq}"
    return key if channel is None else f"{key}|{channel}"


def _urged_instruction(message_key: str) -> str:
    kind, _, rest = message_key.partition("|")
    return rest.partition("|")[0] if kind == URGE_KIND else ""


# ---- the fold ---------------------------------------------------------------------------------


def _issued(facts: Facts, e: Any) -> None:
    number = int(getattr(e, "number", 0) or 0)
    facts.update(
        id=str(e.originator_id),
        ref=instruction_ref(e.task_code, number) if number else str(e.originator_id),
        number=number,
        task_code=e.task_code,
        unit=e.unit,
        text=e.text,
        answer_by=jsonable(e.answer_by),
        issued_by=e.actor,
        issued_at=jsonable(e.at),
        answered=False,
        answer_text=None,
        answered_by=None,
        answered_at=None,
        urges=[],
    )


def _answered(facts: Facts, e: Any) -> None:
    facts.update(answered=True, answer_text=e.text, answered_by=e.actor, answered_at=jsonable(e.at))


def _queued(facts: Facts, e: Any) -> None:
    seq = int(e.message_key.split("|")[2])  # `urge_key`: kind|instruction|seq[|chat]
    if all(u["seq"] != seq for u in facts["urges"]):
        facts["urges"].append({"seq": seq, "at": jsonable(e.at), "channel": e.channel})
        facts["urges"].sort(key=lambda u: u["seq"])


def _key(event: Any) -> str:
    if type(event) is ChatMessage.Queued:
        return _urged_instruction(str(getattr(event, "message_key", "")))
    return str(event.originator_id)


_HANDLERS: dict[type[DomainEvent], Handler] = {
    Instruction.Issued: _issued,
    Instruction.Answered: _answered,
    ChatMessage.Queued: _queued,
}
INSTRUCTION_FOLD = Fold(_HANDLERS, born=Instruction.Issued, key=_key)


class InstructionProjection(FactsProjection):
    """The view's writer: the touched instructions upserted with the tracking position."""

    name = "instructions"
    fold = INSTRUCTION_FOLD
    table = "instructions"

    def _steps(self, batch: Sequence[Item]) -> list[Step]:
        changed: set[str] = set()
        for _, event in batch:
            key = self.fold.apply(self._facts, event)
            if key is not None:
                changed.add(key)
        return [(_UPSERT, [self._row(key) for key in sorted(changed)])]

    def _row(self, key: str) -> tuple[Any, ...]:
        f = self._facts[key]
        open_by = None if f["answered"] else f["answer_by"]
        return (key, f["task_code"], f["number"], open_by, int(f["answered"]), dumps(f))


# ---- the read side ----------------------------------------------------------------------------


@dataclass
class InstructionIndex:
    """The index as the entry points and the sweep use it: catch up, then ask."""

    projection: InstructionProjection

    def catch_up(self, app: Application[Any]) -> int:
        return runner.catch_up(app, self.projection)

    def of_task(self, code: str) -> list[Facts]:
        """Every instruction on the task, in the order they were numbered."""
        rows = self.projection.view.select(
            "SELECT facts FROM {p}instructions WHERE code = ? ORDER BY number, task_id", [code]
        )
        return [json.loads(row["facts"]) for row in rows]

    def of_tasks(self, codes: Iterable[str]) -> list[Facts]:
        """Every instruction on these tasks (one query), in task and number order."""
        rows = self.projection.view.select_in(
            "SELECT facts FROM {p}instructions WHERE code IN ({in})", set(codes)
        )
        found = [json.loads(row["facts"]) for row in rows]
        return sorted(found, key=lambda f: (f["task_code"], f["number"], f["id"]))

    def every(self) -> list[Facts]:
        """Every instruction (a listing for the office: a full read is fine)."""
        rows = self.projection.view.select(
            "SELECT facts FROM {p}instructions ORDER BY code, number, task_id"
        )
        return [json.loads(row["facts"]) for row in rows]

    def open_counts(self) -> dict[str, int]:
        """Task code → how many of its instructions are unanswered (one grouped query)."""
        rows = self.projection.view.select(
            "SELECT code, COUNT(*) AS n FROM {p}instructions WHERE answered = 0 GROUP BY code"
        )
        return {row["code"]: int(row["n"]) for row in rows}

    def past_due(self, today: dt.date) -> list[Facts]:
        """Unanswered instructions whose answer date is before `today` (the indexed column)."""
        rows = self.projection.view.select(
            "SELECT facts FROM {p}instructions WHERE open_by IS NOT NULL AND open_by < ? "
            "ORDER BY code, number",
            [today.isoformat()],
        )
        return [json.loads(row["facts"]) for row in rows]


def open_instruction_index(app: Application[Any]) -> InstructionIndex:
    """The index beside `app`'s events; catch it up before asking it anything."""
    datastore = app.recorder.datastore  # type: ignore[attr-defined]
    view: ViewRecorder = view_recorder(datastore, "instructions", SCHEMA, TABLES)
    return InstructionIndex(InstructionProjection(view))
