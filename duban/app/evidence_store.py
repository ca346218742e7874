"""Where evidence files are kept, by SHA-256: a directory beside an SQLite store, a table in
the PostgreSQL store's own database (so every node sees every file).

An upload is streamed: hashed while it is written to a temporary file, refused when it grows
past the size limit or is empty, its type sniffed from the content, then moved into place.
Size and type of a stored file come from the store, never from the caller (`resolve`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

import psycopg

from domain.errors import TaskNotFound
from domain.evidence import UNSUPPORTED_TYPE, FileRef, file_type, named_type, safe_name
from duban.app import commands as cmd
from duban.app.errors import Conflict, InvalidRequest
from duban.settings.store import is_sqlite, postgres_conninfo, sqlite_path

__all__ = [
    "CHUNK",
    "DirectoryStore",
    "EvidenceAltered",
    "EvidenceNotFound",
    "EvidenceRefused",
    "EvidenceStore",
    "PostgresStore",
    "Soundness",
    "Stored",
    "evidence_store",
    "resolve",
]

CHUNK = 1024 * 1024
MIB = 1024 * 1024
Soundness = Literal["intact", "changed", "missing"]


class EvidenceRefused(InvalidRequest):
    """An upload we do not keep (too large, empty, not an accepted type) or a file a command
    names that was never uploaded."""

    code = "evidence_refused"


class EvidenceNotFound(TaskNotFound):
    """No such file on this task (or it went missing from the store): answered as 404, like
    a task that does not exist."""

    code = "evidence_not_found"


class EvidenceAltered(Conflict):
    """The stored bytes no longer hash to the digest the event recorded."""

    code = "evidence_altered"


@dataclass(frozen=True)
class Stored:
    """What the store knows of a kept file: its size and the type of its content."""

    size: int
    type: str


class EvidenceStore(Protocol):
    def put(self, stream: BinaryIO, name: str) -> FileRef: ...

    def describe(self, sha256: str) -> Stored | None: ...

    def get(self, sha256: str) -> Iterator[bytes]: ...

    def exists(self, sha256: str) -> bool: ...

    def verify(self, sha256: str) -> Soundness: ...

    def verify_all(self) -> dict[str, Soundness]: ...


def evidence_store(store_url: str, evidence_dir: str | None, max_bytes: int) -> EvidenceStore:
    """The store that goes with the event store: by its URL."""
    if not is_sqlite(store_url):
        return PostgresStore(postgres_conninfo(store_url), max_bytes)
    if evidence_dir is not None:
        return DirectoryStore(Path(evidence_dir), max_bytes)
    database = sqlite_path(store_url)
    if str(database) == ":memory:":  # nothing to keep beside: content-addressed, so shareable
        return DirectoryStore(Path(tempfile.gettempdir()) / "duban-evidence", max_bytes)
    return DirectoryStore(database.parent / "evidence", max_bytes)


def resolve(store: EvidenceStore | None, choices: Sequence[cmd.FileChoice]) -> list[dict[str, Any]]:
    """The event's `files`: each chosen file as the store has it (it must have been uploaded)."""
    refs: list[dict[str, Any]] = []
    for choice in choices:
        stored = store.describe(choice.sha256) if store is not None else None
        name = safe_name(choice.name)
        if stored is None:
            raise EvidenceRefused(f"附件「{name}」尚未上传或已失效，请重新上传")
        refs.append(
            FileRef(choice.sha256, name, stored.size, named_type(stored.type, name)).record()
        )
    return refs


# ---- receiving an upload --------------------------------------------------------------------


@dataclass(frozen=True)
class _Spooled:
    path: Path
    sha256: str
    size: int
    type: str


def _spool(stream: BinaryIO, name: str, folder: Path | None, max_bytes: int) -> _Spooled:
    """Copy the upload to a temporary file (in `folder`), hashing and counting as it goes."""
    handle, raw = tempfile.mkstemp(dir=folder, prefix=".upload-")
    path = Path(raw)
    try:
        digest, size = _copy(stream, handle, name, max_bytes)
        if size == 0:
            raise EvidenceRefused(f"附件「{name}」是空文件，不能作为佐证材料")
        media = _sniff(path)
        if media is None:
            raise EvidenceRefused(f"附件「{name}」：{UNSUPPORTED_TYPE}")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _Spooled(path, digest, size, media)


def _copy(stream: BinaryIO, handle: int, name: str, max_bytes: int) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    with os.fdopen(handle, "wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise EvidenceRefused(
                    f"附件「{name}」过大：单个文件不能超过 {_megabytes(max_bytes)} MB"
                )
            hasher.update(chunk)
            out.write(chunk)
    return hasher.hexdigest(), size


def _megabytes(n: int) -> str:
    return f"{n / MIB:g}" if n % MIB else str(n // MIB)


def _sniff(path: Path) -> str | None:
    with path.open("rb") as f:
        head = f.read(64)
    return file_type(head, _zip_members(path) if head.startswith(b"PK\x03\x04") else ())


def _zip_members(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return []


def _hash_of(chunks: Iterator[bytes]) -> str:
    hasher = hashlib.sha256()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest()


# ---- beside an SQLite store: a directory ------------------------------------------------------


class DirectoryStore:
    """Files at `<root>/ab/abcdef…` (the digest, its first two digits as a folder)."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, stream: BinaryIO, name: str) -> FileRef:
        self.root.mkdir(parents=True, exist_ok=True)
        shown = safe_name(name)
        spooled = _spool(stream, shown, self.root, self.max_bytes)
        target = self.path_of(spooled.sha256)
        if target.exists():  # the same content, kept once
            spooled.path.unlink(missing_ok=True)
        else:
            target.parent.mkdir(exist_ok=True)
            os.replace(spooled.path, target)
        return FileRef(spooled.sha256, shown, spooled.size, named_type(spooled.type, shown))

    def describe(self, sha256: str) -> Stored | None:
        path = self.path_of(sha256)
        if not path.is_file():
            return None
        media = _sniff(path)
        return Stored(path.stat().st_size, media) if media is not None else None

    def get(self, sha256: str) -> Iterator[bytes]:
        try:
            f = self.path_of(sha256).open("rb")
        except FileNotFoundError as exc:
            raise EvidenceNotFound("附件文件已丢失，请联系改革办核查") from exc
        with f:
            while chunk := f.read(CHUNK):
                yield chunk

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def verify(self, sha256: str) -> Soundness:
        if not self.exists(sha256):
            return "missing"
        return "intact" if _hash_of(self.get(sha256)) == sha256 else "changed"

    def verify_all(self) -> dict[str, Soundness]:
        if not self.root.is_dir():
            return {}
        kept = sorted(p.name for p in self.root.glob("??/*") if not p.name.startswith("."))
        return {sha256: self.verify(sha256) for sha256 in kept}


# ---- in the PostgreSQL store's database: a table ----------------------------------------------

_CREATE = """
CREATE TABLE IF NOT EXISTS duban_evidence (
    sha256 text PRIMARY KEY,
    size bigint NOT NULL,
    type text NOT NULL,
    content bytea NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now()
)
"""


class PostgresStore:
    """Table `duban_evidence` (created when first needed, one process at a time)."""

    def __init__(self, conninfo: str, max_bytes: int) -> None:
        self.conninfo = conninfo
        self.max_bytes = max_bytes
        self._ready = False
        self._lock = threading.Lock()

    def _connect(self) -> psycopg.Connection[Any]:
        connection = psycopg.connect(self.conninfo, autocommit=True)
        with self._lock:
            if not self._ready:
                with connection.transaction():
                    connection.execute("SELECT pg_advisory_xact_lock(hashtext('duban_evidence'))")
                    connection.execute(_CREATE)
                self._ready = True
        return connection

    def put(self, stream: BinaryIO, name: str) -> FileRef:
        shown = safe_name(name)
        spooled = _spool(stream, shown, None, self.max_bytes)
        try:
            content = spooled.path.read_bytes()
        finally:
            spooled.path.unlink(missing_ok=True)
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO duban_evidence (sha256, size, type, content) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (sha256) DO NOTHING",
                (spooled.sha256, spooled.size, spooled.type, content),
            )
        return FileRef(spooled.sha256, shown, spooled.size, named_type(spooled.type, shown))

    def describe(self, sha256: str) -> Stored | None:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT size, type FROM duban_evidence WHERE sha256 = %s", (sha256,)
            ).fetchone()
        return Stored(int(row[0]), str(row[1])) if row else None

    def get(self, sha256: str) -> Iterator[bytes]:
        """The content in chunks, each its own slice of the row (never all of it at once)."""
        if not self.exists(sha256):
            raise EvidenceNotFound("附件文件已丢失，请联系改革办核查")
        with self._connect() as connection:
            start = 1
            while True:
                row = connection.execute(
                    "SELECT substring(content FROM %s FOR %s) FROM duban_evidence"
                    " WHERE sha256 = %s",
                    (start, CHUNK, sha256),
                ).fetchone()
                chunk = bytes(row[0]) if row and row[0] else b""
                if not chunk:
                    return
                yield chunk
                start += len(chunk)

    def exists(self, sha256: str) -> bool:
        return self.describe(sha256) is not None

    def verify(self, sha256: str) -> Soundness:
        if not self.exists(sha256):
            return "missing"
        return "intact" if _hash_of(self.get(sha256)) == sha256 else "changed"

    def verify_all(self) -> dict[str, Soundness]:
        with self._connect() as connection:
            kept = [r[0] for r in connection.execute("SELECT sha256 FROM duban_evidence")]
        return {sha256: self.verify(sha256) for sha256 in sorted(kept)}
