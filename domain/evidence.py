"""佐证材料（附件）: the file a report, an extension request or a completion carries.

The event records a reference, never the content: the file is kept by its SHA-256 elsewhere
(`duban.app.evidence`), so verification can re-hash it. The rules here are pure: what name a
file may be shown under, which contents are accepted (sniffed from the bytes, never trusted
from the name) and how a reference reads in Chinese.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_NAME_CHARS",
    "UNSUPPORTED_TYPE",
    "FileRef",
    "Files",
    "attachments_text",
    "file_type",
    "is_digest",
    "named_type",
    "safe_name",
    "size_text",
    "with_attachments",
]

Files = list[dict[str, Any]] | None
"""The `files` field of an event: `FileRef.record()` of each file (None in older events)."""

MAX_NAME_CHARS = 120
UNSUPPORTED_TYPE = "不支持的文件类型：仅支持 PDF、图片、Word/Excel/WPS 文件"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
# An OLE2 compound file says nothing of its application in its first bytes: the name's
# extension picks the media type among the accepted ones (the content is still OLE2).
_OLE2_TYPES = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "wps": "application/vnd.ms-works",
    "et": "application/vnd.ms-excel",
    "dps": "application/vnd.ms-powerpoint",
}
_OOXML_TYPES = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


@dataclass(frozen=True)
class FileRef:
    """One stored file as an event records it: digest, the name shown, size in bytes, media
    type (from the content)."""

    sha256: str
    name: str
    size: int
    type: str

    def record(self) -> dict[str, Any]:
        """Plain JSON-able data for an event."""
        return {"sha256": self.sha256, "name": self.name, "size": self.size, "type": self.type}

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> FileRef:
        return cls(str(data["sha256"]), str(data["name"]), int(data["size"]), str(data["type"]))


def is_digest(text: str) -> bool:
    """A SHA-256 as we write it: 64 lowercase hex digits."""
    return bool(_DIGEST.match(text))


def safe_name(raw: str) -> str:
    """The name a file is shown and downloaded under: the last path part (either slash), no
    control or format characters, trimmed, at most `MAX_NAME_CHARS` characters keeping the
    extension; "附件" when nothing is left."""
    base = re.split(r"[/\\]", raw)[-1]
    kept = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip().strip(".")
    kept = kept.strip()
    if not kept:
        return "附件"
    if len(kept) <= MAX_NAME_CHARS:
        return kept
    stem, dot, ext = kept.rpartition(".")
    if dot and stem and len(ext) <= 10:
        return f"{stem[: MAX_NAME_CHARS - len(ext) - 1].rstrip()}.{ext}"
    return kept[:MAX_NAME_CHARS].rstrip()


OLE2_TYPE = "application/x-ole-storage"


def file_type(head: bytes, zip_members: Collection[str] = ()) -> str | None:
    """The media type of an accepted file from its first bytes (and, for a zip, the names of
    its members), or None when the content is not one we accept. An OLE2 compound file (doc,
    xls, wps, et) is `OLE2_TYPE` here: `named_type` tells which by the name."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    image = _image_type(head)
    if image is not None:
        return image
    if head.startswith(_OLE2):
        return OLE2_TYPE
    if head.startswith(_ZIP):
        return _zip_type(zip_members)
    return None


def named_type(media: str, name: str) -> str:
    """The content's type, an OLE2 compound file's made precise by the name's extension."""
    if media != OLE2_TYPE:
        return media
    return _OLE2_TYPES.get(name.rpartition(".")[2].lower(), OLE2_TYPE)


def _image_type(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _zip_type(members: Collection[str]) -> str | None:
    """OOXML (a zip with `[Content_Types].xml` and the application's folder) or OFD."""
    if "OFD.xml" in members:
        return "application/ofd"
    if "[Content_Types].xml" not in members:
        return None
    for folder, media in _OOXML_TYPES.items():
        if any(m.startswith(folder) for m in members):
            return media
    return None


def size_text(size: int) -> str:
    """A size as the office reads it: 1.2 MB, 350 KB, 800 字节."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{round(size / 1024)} KB"
    return f"{size} 字节"


def attachments_text(files: Iterable[Mapping[str, Any]] | None) -> str:
    """「附件：征求意见稿.pdf（1.2 MB）、现场照片.jpg（350 KB）」, or "" without files."""
    parts = [f"{f['name']}（{size_text(int(f['size']))}）" for f in files or ()]
    return f"附件：{'、'.join(parts)}" if parts else ""


def with_attachments(files: Iterable[Mapping[str, Any]] | None) -> str:
    """「；附件：…」 to follow a description, or "" without files."""
    text = attachments_text(files)
    return f"；{text}" if text else ""
