"""Facts per task, folded from the events: what the task board and the due index share.

Both views keep one row of JSON-native *facts* per task and fold each batch of events over
the facts of the tasks it touches. `Fold` is the fold (handlers keyed by event class; the
topics of the store's filter are those classes' topics), `FactsProjection` the view that
runs it: facts loaded in one query per batch and kept in memory while this process is the
one advancing the view, written back with the tracking position in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from projections.runner import Item
from projections.viewstore import Step, ViewRecorder

__all__ = ["Facts", "FactsProjection", "Fold", "Handler", "dumps", "jsonable", "topics_of"]

Facts = dict[str, Any]  # JSON-native: dates and datetimes as ISO strings
Handler = Callable[[Facts, Any], None]  # folds one event into one task's facts


def jsonable(value: Any) -> Any:
    """Event values as JSON-native data (dates and datetimes as ISO strings)."""
    if isinstance(value, dt.date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def dumps(facts: Facts) -> str:
    """Facts as stored in a view's `facts` column (compact JSON, Chinese kept readable)."""
    return json.dumps(facts, ensure_ascii=False, separators=(",", ":"))


def topics_of(classes: Sequence[type[DomainEvent]]) -> tuple[str, ...]:
    """The stored topics of event classes, for the store's topic filter."""
    return tuple(get_topic(cls) for cls in classes)


def originator_key(event: Any) -> str:
    return str(event.originator_id)


@dataclass(frozen=True)
class Fold:
    """Events → facts per task: a handler per event class; `born` is the class whose
    event creates a task's facts (events of tasks never seen born are ignored); `key`
    names the task an event is about (by default its originator)."""

    handlers: Mapping[type[DomainEvent], Handler]
    born: type[DomainEvent]
    key: Callable[[Any], str] = originator_key
    topics: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "topics", topics_of(list(self.handlers)))

    def apply(self, facts: dict[str, Facts], event: Any) -> str | None:
        """Fold `event` into `facts` (task key → facts); the key it changed, or None for
        events this fold does not know and for tasks it never saw born."""
        handler = self.handlers.get(type(event))
        if handler is None:
            return None
        key = self.key(event)
        task = facts.get(key)
        if task is None:
            if type(event) is not self.born:
                return None
            task = facts[key] = {}
        handler(task, event)
        return key


class FactsProjection(ABC):
    """A view of facts per task in `table` (columns `task_id` and `facts`), folded by `fold`.

    A batch is folded in memory over the facts of the tasks it touches (loaded in one query,
    then kept while this process is the one advancing the view: `begin` drops them when the
    stored position is not the one they reflect) and written as the steps `_steps` returns,
    with the tracking position, in one transaction.
    """

    name: str
    decode = True
    fold: Fold
    table: str

    def __init__(self, view: ViewRecorder) -> None:
        self._view = view
        self.topics: Sequence[str] = self.fold.topics
        self._facts: dict[str, Facts] = {}
        self._position: int | None = None
        self._complete = False  # whether `_facts` holds every task of the view

    @property
    def view(self) -> ViewRecorder:
        return self._view

    def reset(self) -> None:
        self._facts = {}
        self._position = None
        self._complete = False

    def begin(self, position: int) -> None:
        """Drop the in-memory facts unless they are exactly those of `position`. From an empty
        view (a rebuild) every task is born in memory, so nothing needs loading."""
        if position != self._position:
            self.reset()
            self._position = position
            self._complete = position == 0

    def process(self, batch: Sequence[Item], tracking: Tracking) -> None:
        try:
            if not self._complete:
                self._load({self.fold.key(event) for _, event in batch} - self._facts.keys())
            self._view.write(self._steps(batch), tracking)
        except BaseException:
            self.reset()  # the facts in memory may now include what was not written
            raise
        self._position = tracking.notification_id

    @abstractmethod
    def _steps(self, batch: Sequence[Item]) -> list[Step]:
        """Fold the batch into `self._facts`; the statements that store what changed."""

    def _load(self, task_ids: set[str]) -> None:
        query = f"SELECT task_id, facts FROM {{p}}{self.table} WHERE task_id IN ({{in}})"  # noqa: S608
        for row in self._view.select_in(query, task_ids):
            self._facts[row["task_id"]] = json.loads(row["facts"])
