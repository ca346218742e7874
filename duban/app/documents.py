"""The office's formal documents: 督办单 and 通报, numbered when the sweep issues the rung.

PRODUCT.md rule 13. The sweep hands `number_documents` the 督办 and 通报 it is about to issue;
each gets the next number of its kind and year (`domain.document.DocumentSequence`), and the
sequences are saved in the sweep's one `save()` with the reminders and escalations: a sweep
that loses a race loses its numbers with everything else and numbers again from the winner's
state. The read side (`duban document list|show|pdf`) looks documents up by kind and year —
one aggregate per year, never a scan of the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from domain.dates import chinese_date
from domain.document import DocumentSequence
from domain.document_number import (
    DOCUMENT_KINDS,
    KindName,
    kind_of_rung,
    parse_number,
)
from domain.ladder import DueReminder
from domain.rungs import rung_label
from domain.task import ReformTask, task_id
from duban.app.errors import ApplicationError
from duban.app.ledger import Ledger
from duban.app.services import Services
from duban.settings.config import Config
from projections.due import DueTask

__all__ = [
    "Document",
    "DocumentNotFound",
    "Numbering",
    "Store",
    "ToNumber",
    "document_reason",
    "document_text",
    "find_document",
    "list_documents",
    "number_documents",
    "number_issues",
    "target_name",
]


class DocumentNotFound(ApplicationError):
    code = "document_not_found"


@dataclass(frozen=True)
class ToNumber:
    """A 督办 or 通报 the sweep is issuing (any other rung is passed over)."""

    reminder_key: str
    rung: str
    task_code: str
    title: str
    unit: str
    target: str  # "deadline" | "milestone:NAME" | …
    due: dt.date
    repeat: int = 0  # the rung's repeat (0: the first 督办 / 通报 of that date)


@dataclass
class Numbering:
    """The numbers given (by reminder key) and the sequences to save with the sweep."""

    numbers: dict[str, str] = field(default_factory=dict)
    aggregates: list[Aggregate] = field(default_factory=list)


def _target_text(target: str) -> str:
    if target.startswith("milestone:"):
        return f"阶段节点「{target.split(':', 1)[1]}」"
    if target == "deadline":
        return "完成时限"
    return "时限"


def document_reason(
    kind: KindName, target: str, due: dt.date, overdue_days: int, repeat: int = 0
) -> str:
    """Why the document is issued, as the office writes it."""
    late = f"已逾期{overdue_days}个工作日" if overdue_days > 0 else "已到期"
    what = f"{_target_text(target)}为{chinese_date(due)}，{late}"
    if kind == "supervise":
        again = f"现第{repeat + 1}次予以督办" if repeat else "现予督办"
        return f"该任务{what}，经催办仍未完成，{again}，请牵头单位抓紧办理并及时报送进展。"
    again = f"现第{repeat + 1}次予以通报" if repeat else "现予通报"
    return f"该任务{what}，经催办、督办仍未完成，{again}，请牵头单位限期整改落实。"


def _sequence(
    services: Services, kind: KindName, year: int, actor: str, now: dt.datetime
) -> DocumentSequence:
    """The year's sequence of that kind; opened (and saved with the first number) if new."""
    found = _stored_sequence(services, kind, year)
    if found is None:
        return DocumentSequence(kind=kind, year=year, actor=actor, at=now)
    return found


def number_documents(
    services: Services, items: Iterable[ToNumber], now: dt.datetime, actor: str = "system:duban"
) -> Numbering:
    """Number each 督办 / 通报 among `items`, in their order; nothing else is numbered."""
    local = now.astimezone(services.config.tz)
    office = services.config.documents.office_short
    sequences: dict[KindName, DocumentSequence] = {}
    numbering = Numbering()
    for item in items:
        kind = kind_of_rung(item.rung)
        if kind is None:
            continue
        sequence = sequences.get(kind) or _sequence(services, kind, local.year, actor, now)
        sequences[kind] = sequence
        days = services.calendar.working_days_between(item.due, local.date())
        numbering.numbers[item.reminder_key] = sequence.number(
            office=office,
            reminder_key=item.reminder_key,
            task_code=item.task_code,
            unit=item.unit,
            title=item.title,
            rung=item.rung,
            target=item.target,
            due=item.due,
            reason=document_reason(kind, item.target, item.due, days, item.repeat),
            actor=actor,
            at=now,
        )
    numbering.aggregates = list(sequences.values())
    return numbering


class Issuing(Protocol):
    """What the sweep knows of a rung it issues (`duban.app.sweep_plan.Issue`)."""

    @property
    def key(self) -> str: ...
    @property
    def escalates(self) -> bool: ...
    @property
    def task(self) -> DueTask: ...
    @property
    def due(self) -> DueReminder: ...
    @property
    def document_no(self) -> str | None: ...


_I = TypeVar("_I", bound=Issuing)


def number_issues(
    services: Services, issues: Sequence[_I], now: dt.datetime, actor: str
) -> tuple[list[_I], list[Aggregate]]:
    """The sweep's issues with the number of each 督办 / 通报 (`document_no`), and the
    sequences to save in the sweep's one `save()`."""
    items = [
        ToNumber(
            reminder_key=i.key,
            rung=i.due.rung.counts_as,  # a configured rung: the one of its severity
            task_code=i.task.code,
            title=i.task.title,
            unit=i.task.lead_unit,
            target=i.due.target.target,
            due=i.due.target.due,
            repeat=i.due.seq,
        )
        for i in issues
        if i.escalates
    ]
    numbering = number_documents(services, items, now, actor)
    numbered = [
        replace(i, document_no=numbering.numbers[i.key]) if i.key in numbering.numbers else i  # type: ignore[type-var]
        for i in issues
    ]
    return numbered, numbering.aggregates


# ---- the read side -------------------------------------------------------------------------------


class Store(Protocol):
    """Where documents are read from: the services (CLI) or the web context (API)."""

    @property
    def ledger(self) -> Ledger: ...
    @property
    def config(self) -> Config: ...


@dataclass(frozen=True)
class Document:
    """One 督办单 or 通报 as it is shown and printed."""

    number: str
    kind: KindName
    kind_title: str
    seq: int
    year: int
    at: dt.datetime
    task_code: str
    title: str
    unit: str
    rung: str
    target: str
    due: dt.date
    reason: str
    deadline: dt.date | None = None
    co_units: tuple[str, ...] = ()
    official: str | None = None
    history: tuple[dict[str, Any], ...] = ()  # the task's escalations up to the document

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "seq": self.seq,
            "year": self.year,
            "at": self.at.isoformat(),
            "task_code": self.task_code,
            "title": self.title,
            "unit": self.unit,
            "rung": self.rung,
            "target": self.target,
            "due": self.due.isoformat(),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "reason": self.reason,
            "history": [
                {
                    "rung": h["rung"],
                    "target": h["target"],
                    "due": h["due"].isoformat(),
                    "at": h["at"].isoformat(),
                }
                for h in self.history
            ],
        }


def _document(
    kind: KindName, year: int, entry: dict[str, Any], tz: dt.tzinfo, task: ReformTask | None
) -> Document:
    at: dt.datetime = entry["at"].astimezone(tz)
    history: tuple[dict[str, Any], ...] = ()
    if task is not None:
        history = tuple(
            {**h, "at": h["at"].astimezone(tz), "label": rung_label(h["rung"])}
            for h in task.escalations
            if h["at"] <= entry["at"]
        )
    return Document(
        number=entry["number"],
        kind=kind,
        kind_title=DOCUMENT_KINDS[kind].title,
        seq=entry["seq"],
        year=year,
        at=at,
        task_code=entry["task_code"],
        title=entry["title"],
        unit=entry["unit"],
        rung=entry["rung"],
        target=entry["target"],
        due=entry["due"],
        reason=entry["reason"],
        deadline=task.deadline if task is not None else None,
        co_units=tuple(task.co_units) if task is not None else (),
        official=task.official if task is not None else None,
        history=history,
    )


def _stored_sequence(services: Store, kind: KindName, year: int) -> DocumentSequence | None:
    try:
        found: DocumentSequence = services.ledger.repository.get(
            DocumentSequence.create_id(kind, year)
        )
    except AggregateNotFoundError:
        return None
    return found


def list_documents(services: Store, year: int) -> list[Document]:
    """The year's 督办单, then its 通报, each in number order (without the task lookups)."""
    found: list[Document] = []
    for kind in DOCUMENT_KINDS.values():
        sequence = _stored_sequence(services, kind.name, year)
        if sequence is not None:
            found += [
                _document(kind.name, year, entry, services.config.tz, None)
                for entry in sequence.documents
            ]
    return found


def find_document(services: Store, text: str) -> Document:
    """The document of that number, with the task's facts and escalation history."""
    number = parse_number(text)
    if number is None:
        raise DocumentNotFound(
            f"「{text}」不是有效的文号，应写成如 县改办督〔2026〕12号 或 县改办通〔2026〕3号"
        )
    sequence = _stored_sequence(services, number.kind, number.year)
    entry = sequence.document(number.seq) if sequence is not None else None
    if entry is None or entry["number"] != str(number):
        raise DocumentNotFound(f"没有文号为「{number}」的{DOCUMENT_KINDS[number.kind].title}")
    try:
        task: ReformTask | None = services.ledger.repository.get(task_id(entry["task_code"]))
    except AggregateNotFoundError:
        task = None
    return _document(number.kind, number.year, entry, services.config.tz, task)


def target_name(target: str) -> str:
    """What a document is about, as a table cell: 完成时限, or the milestone's name."""
    return "完成时限" if target == "deadline" else target.split(":", 1)[-1]


def document_text(doc: Document) -> str:
    """`duban document show`: the document's facts, history and reason in Chinese."""
    deadline = doc.deadline or doc.due
    lines = [
        f"文号：{doc.number}",
        f"文种：{doc.kind_title}",
        f"日期：{doc.at:%Y-%m-%d %H:%M}",
        f"任务编号：{doc.task_code}",
        f"改革任务：{doc.title}",
        f"牵头单位：{doc.unit}",
        f"配合单位：{'、'.join(doc.co_units) or '无'}",
        f"领衔领导：{doc.official or '无'}",
        f"完成时限：{deadline.isoformat()}",
    ]
    if doc.target != "deadline":
        lines.append(f"督办事项：{target_name(doc.target)}（{doc.due.isoformat()}）")
    lines.append(f"事由：{doc.reason}")
    lines.append("督办历程：")
    lines += [
        f"  {h['at']:%Y-%m-%d %H:%M} {h['label']}（{target_name(h['target'])} {h['due']}）"
        for h in doc.history
    ] or ["  （无）"]
    return "\n".join(lines) + "\n"
