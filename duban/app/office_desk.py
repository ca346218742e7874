"""What the office's 工作台 reads that no other read model gives: the late claims, the failed
deliveries, what an open request asks, and task lists held between preview and import.

The web's `/office` queues are built from these and from the board, the plan reviews and the
instruction listing. Reads only (the task list hold writes files, never events).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.ladder import claim_deadline
from domain.reminder import ChatMessage
from domain.roles import Identity, authorize
from domain.vocabulary import PLAN_STATUS_LABELS
from duban.app.assignment_notices import claim_days
from duban.app.errors import InvalidRequest
from duban.app.ledger import Ledger
from duban.app.services import Services
from duban.settings.store import is_sqlite, sqlite_path

__all__ = [
    "PLAN_STATUS_LABELS",
    "FailedDelivery",
    "TaskListHold",
    "failed_deliveries",
    "late_claims",
    "open_request",
]


def late_claims(
    services: Services, rows: list[dict[str, Any]], today: dt.date, who: Identity
) -> list[dict[str, Any]]:
    """Rows still 已交办 (not claimed) whose 签收 deadline has passed, each with `assigned_at`
    and `claim_by` (the board's rows do not carry the moment of assignment: the trail does)."""
    calendar = services.calendar
    within = claim_days(services.config)
    late: list[dict[str, Any]] = []
    for row in rows:
        if row["status"] != "assigned":
            continue
        assigned: dt.datetime = services.ledger.task_history(row["code"], who)[0]["at"]
        due = claim_deadline(assigned, calendar, within)
        if due < today:
            late.append({**row, "assigned_at": assigned, "claim_by": due.isoformat()})
    return late


def open_request(ledger: Ledger, code: str, who: Identity, kind: str) -> dict[str, Any] | None:
    """The last `ExtensionRequested` or `CompletionSubmitted` event of a task as plain data
    (`kind` is "extension" or "completion"): what the queue shows as 「所请事项」."""
    wanted = {"extension": "ExtensionRequested", "completion": "CompletionSubmitted"}[kind]
    found = None
    for record in ledger.task_history(code, who):
        if record["type"].rpartition(".")[2] == wanted:
            found = record
    return found


@dataclass(frozen=True)
class FailedDelivery:
    """A chat message the delivery loop gave up on (no secret: chat code, title, reason)."""

    message_key: str
    channel: str
    title: str
    task_codes: tuple[str, ...]
    reason: str
    at: dt.datetime


def failed_deliveries(ledger: Ledger, who: Identity) -> list[FailedDelivery]:
    """Every message recorded as failed, newest first (the office's 发送失败 queue)."""
    authorize(who, "admin")
    found: list[FailedDelivery] = []
    for _, failed in ledger.events_of(ChatMessage.Failed):
        message: ChatMessage = ledger.repository.get(failed.originator_id)
        found.append(
            FailedDelivery(
                message.message_key,
                message.channel,
                message.title,
                tuple(message.task_codes),
                failed.reason,
                failed.at,
            )
        )
    return sorted(found, key=lambda item: item.at, reverse=True)


_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class TaskListHold:
    """An uploaded task list kept by its SHA-256 between the dry-run preview and the confirm,
    so that the import runs on exactly the bytes previewed (the form carries the digest only).

    Kept in a directory beside the store (a temporary one for PostgreSQL and in-memory stores:
    the confirm must reach the node that showed the preview)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def of(cls, services: Services) -> TaskListHold:
        store = services.config.store
        if is_sqlite(store) and str(sqlite_path(store)) != ":memory:":
            return cls(sqlite_path(store).parent / "import-holds")
        return cls(Path(tempfile.gettempdir()) / "duban-import-holds")

    def keep(self, data: bytes, suffix: str) -> str:
        """The digest that names the held file (its suffix kept: it says the format)."""
        digest = hashlib.sha256(data).hexdigest()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / f"{digest}{suffix}").write_bytes(data)
        return digest

    def take(self, digest: str) -> tuple[bytes, str]:
        """The held bytes and their suffix; refused when gone or no longer matching."""
        if not _DIGEST.match(digest):
            raise InvalidRequest("预览已失效，请重新上传任务清单")
        for path in sorted(self.root.glob(f"{digest}.*")):
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() == digest:
                return data, path.suffix
        raise InvalidRequest("预览已失效，请重新上传任务清单")

    def drop(self, digest: str) -> None:
        if _DIGEST.match(digest):
            for path in self.root.glob(f"{digest}.*"):
                path.unlink(missing_ok=True)
