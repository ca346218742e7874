"""佐证材料: uploading evidence files, downloading them through the task they belong to, and
re-hashing every file an event references (`duban audit verify`).

A file is reachable only through a task whose events reference it, by someone who may read
that task's details (`read_details`): knowing a digest is not enough. What is served is
re-hashed first; a file whose bytes changed is refused, never served as if it were the one
the event recorded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

from domain.errors import Forbidden
from domain.evidence import FileRef, size_text
from domain.roles import Identity
from domain.task import ReformTask
from duban.app.evidence_store import (
    EvidenceAltered,
    EvidenceNotFound,
    EvidenceRefused,
    EvidenceStore,
    Soundness,
)

if TYPE_CHECKING:
    from duban.app.ledger import Ledger

__all__ = [
    "UPLOADERS",
    "WITH_FILES",
    "EvidenceFiles",
    "FileProblem",
    "attachment_links",
    "content_disposition",
    "files_of",
]

UPLOADERS = frozenset({"liaison", "official", "office"})  # the roles that may report
WITH_FILES = (
    ReformTask.ProgressReported,
    ReformTask.ExtensionRequested,
    ReformTask.CompletionSubmitted,
)
_SOUNDNESS_TEXT = {"changed": "内容已被改动", "missing": "文件已丢失"}


def files_of(event: Any) -> list[FileRef]:
    """The files an event (or its data) records (none in events stored before files existed)."""
    data = event if isinstance(event, dict) else event.__dict__
    return [FileRef.of(f) for f in data.get("files") or ()]


@dataclass(frozen=True)
class FileProblem:
    """A referenced file that no longer is what the event recorded."""

    code: str
    name: str
    sha256: str
    soundness: Soundness

    @property
    def message(self) -> str:
        what = _SOUNDNESS_TEXT.get(self.soundness, self.soundness)
        return f"任务 {self.code} 的附件「{self.name}」（{self.sha256[:12]}）{what}"


class EvidenceFiles:
    """The application's evidence service over the ledger and its store."""

    def __init__(self, ledger: Ledger, max_files: int = 10) -> None:
        if ledger.evidence is None:
            raise EvidenceRefused("未配置附件存储，不能处理附件")
        self.ledger = ledger
        self.store: EvidenceStore = ledger.evidence
        self.max_files = max_files

    def upload(self, files: Sequence[tuple[BinaryIO, str]], who: Identity) -> list[FileRef]:
        """Keep each uploaded (stream, name); the refs a report may then attach."""
        if who.role not in UPLOADERS:
            raise Forbidden("审计（督查）角色只能查看，不能上传附件")
        if not files:
            raise EvidenceRefused("请选择要上传的文件")
        if len(files) > self.max_files:
            raise EvidenceRefused(f"一次最多上传 {self.max_files} 个文件")
        return [self.store.put(stream, name) for stream, name in files]

    def download(self, code: str, sha256: str, who: Identity) -> tuple[FileRef, Iterator[bytes]]:
        """The file as the task's event recorded it, and its content (checked first)."""
        task = self.ledger._task_for(code, who, "read_details")  # 404, then 403
        ref = self._on_task(task, sha256)
        soundness = self.store.verify(sha256)
        if soundness == "missing":
            raise EvidenceNotFound(f"附件「{ref.name}」的文件已丢失，请联系改革办核查")
        if soundness == "changed":
            raise EvidenceAltered(
                f"附件「{ref.name}」的内容与报送时不一致，已拒绝下载，请联系改革办核查"
            )
        return ref, self.store.get(sha256)

    def _on_task(self, task: ReformTask, sha256: str) -> FileRef:
        for event in self.ledger.events.get(task.id):
            for ref in files_of(event):
                if ref.sha256 == sha256:
                    return ref
        raise EvidenceNotFound(f"任务 {task.code} 没有这个附件")

    def problems(self) -> list[FileProblem]:
        """Every file an event references that changed or went missing, once per task."""
        codes = {e.originator_id: e.code for _, e in self.ledger.events_of(ReformTask.Assigned)}
        seen: set[tuple[str, str]] = set()
        found: list[FileProblem] = []
        checked: dict[str, Soundness] = {}
        for _, event in self.ledger.events_of(*WITH_FILES):
            code = codes.get(event.originator_id, str(event.originator_id))
            for ref in files_of(event):
                if (code, ref.sha256) in seen:
                    continue
                seen.add((code, ref.sha256))
                if ref.sha256 not in checked:  # each file hashed once, however often named
                    checked[ref.sha256] = self.store.verify(ref.sha256)
                soundness = checked[ref.sha256]
                if soundness != "intact":
                    found.append(FileProblem(code, ref.name, ref.sha256, soundness))
        return found


def content_disposition(name: str) -> str:
    """`attachment` with the name in UTF-8 (RFC 6266/5987), an ASCII fallback beside it."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment_links(files: Any, code: str | None) -> list[tuple[str, str]]:
    """(「征求意见稿.pdf（1.2 MB）」, `/tasks/{code}/files/{sha256}`) for each file an event
    records: what the web timeline shows and where the name links."""
    shown: list[tuple[str, str]] = []
    for ref in files_of({"files": files}) if isinstance(files, list) else []:
        href = f"/tasks/{quote(code, safe='')}/files/{ref.sha256}" if code else ""
        shown.append((f"{ref.name}（{size_text(ref.size)}）", href))
    return shown
