"""Evidence files (issue 15): the shown name, typing by content, the size limit and the
directory store's put / get / verify."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.evidence import (
    MAX_NAME_CHARS,
    OLE2_TYPE,
    attachments_text,
    file_type,
    named_type,
    safe_name,
)
from duban.app.evidence_store import DirectoryStore, EvidenceRefused

PDF = b"%PDF-1.7\n1 0 obj\n%%EOF\n"


@given(st.text(max_size=400))
def test_a_shown_name_has_no_path_no_control_characters_and_is_short(raw: str) -> None:
    name = safe_name(raw)
    assert 0 < len(name) <= MAX_NAME_CHARS
    assert "/" not in name
    assert "\\" not in name
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in name)


@given(st.text(alphabet="征求意见稿abc-_ ", min_size=1, max_size=300).filter(str.strip))
def test_a_long_name_keeps_its_extension(stem: str) -> None:
    assert safe_name(f"D:\\材料\\{stem}.docx").endswith(".docx")


def test_the_basename_of_a_windows_path_is_kept() -> None:
    assert safe_name("D:/材料/征求意见稿.docx") == "征求意见稿.docx"
    assert safe_name("..\\..\\etc\\passwd\x00") == "passwd"
    assert safe_name("\x07") == "附件"


@given(st.binary(max_size=64))
def test_content_that_starts_with_no_known_signature_is_refused(head: bytes) -> None:
    known = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"\xd0\xcf\x11\xe0", b"PK")
    if not head.startswith(known):
        assert file_type(head) is None


@given(st.binary(max_size=200))
def test_a_signature_decides_whatever_follows(tail: bytes) -> None:
    assert file_type(b"%PDF-" + tail) == "application/pdf"
    assert file_type(b"\xff\xd8\xff" + tail) == "image/jpeg"
    assert file_type(b"\x89PNG\r\n\x1a\n" + tail) == "image/png"


def test_office_files_are_told_by_their_members_and_ole2_by_the_name() -> None:
    docx = ["[Content_Types].xml", "word/document.xml"]
    assert file_type(b"PK\x03\x04", docx).endswith("wordprocessingml.document")  # type: ignore[union-attr]
    assert file_type(b"PK\x03\x04", ["xl/workbook.xml"]) is None  # no [Content_Types].xml
    assert file_type(b"PK\x03\x04", ["OFD.xml", "Doc_0/Document.xml"]) == "application/ofd"
    assert file_type(b"PK\x03\x04", ["[Content_Types].xml", "app.js"]) is None
    ole2 = file_type(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    assert ole2 == OLE2_TYPE
    assert named_type(ole2, "通知.doc") == "application/msword"
    assert named_type(ole2, "台账.et") == "application/vnd.ms-excel"


def test_attachments_read_in_chinese() -> None:
    files = [{"name": "征求意见稿.pdf", "size": 1_258_291}, {"name": "照片.jpg", "size": 358_400}]
    assert attachments_text(files) == "附件：征求意见稿.pdf（1.2 MB）、照片.jpg（350 KB）"
    assert attachments_text(None) == ""


def test_the_directory_store_keeps_a_file_by_its_digest(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "evidence", max_bytes=1024 * 1024)
    ref = store.put(io.BytesIO(PDF), "C:\\材料\\方案.pdf")
    digest = hashlib.sha256(PDF).hexdigest()
    assert (ref.sha256, ref.name, ref.size, ref.type) == (
        digest,
        "方案.pdf",
        len(PDF),
        "application/pdf",
    )
    assert store.path_of(digest).read_bytes() == PDF
    assert b"".join(store.get(digest)) == PDF
    assert store.verify_all() == {digest: "intact"}
    assert list((tmp_path / "evidence").glob(".upload-*")) == []


def test_a_changed_or_missing_file_fails_verification(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path, max_bytes=1024 * 1024)
    ref = store.put(io.BytesIO(PDF), "a.pdf")
    store.path_of(ref.sha256).write_bytes(PDF + b"x")
    assert store.verify(ref.sha256) == "changed"
    store.path_of(ref.sha256).unlink()
    assert store.verify(ref.sha256) == "missing"


def test_a_docx_is_typed_by_its_zip_members(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    ref = DirectoryStore(tmp_path, 1024 * 1024).put(io.BytesIO(buffer.getvalue()), "稿.docx")
    assert ref.type.endswith("wordprocessingml.document")


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"%PDF-" + b"0" * 2048, "过大：单个文件不能超过"),
        (b"", "空文件"),
        (b"MZ\x90\x00executable", "不支持的文件类型"),
    ],
)
def test_refused_uploads_leave_nothing_behind(tmp_path: Path, content: bytes, said: str) -> None:
    store = DirectoryStore(tmp_path, max_bytes=1024)
    with pytest.raises(EvidenceRefused, match=said):
        store.put(io.BytesIO(content), "x.pdf")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_the_audit_text_and_the_timeline_show_the_attachments() -> None:
    from zoneinfo import ZoneInfo

    from duban.web.timeline import timeline
    from projections.audit_text import describe_record

    files = [
        {"sha256": "a" * 64, "name": "征求意见稿.pdf", "size": 1_258_291, "type": "application/pdf"}
    ]
    data = {"actor": "liaison:县发展和改革局/张伟", "percent": 60, "text": "方案已起草"}
    said = describe_record("ReformTask.ProgressReported", {**data, "files": files})
    assert said.endswith("；附件：征求意见稿.pdf（1.2 MB）")
    assert "附件" not in describe_record("ReformTask.ProgressReported", data)  # older events
    entry = {
        "type": "ReformTask.ProgressReported",
        "tasks": ["2024-01"],
        "data": {**data, "files": files},
    }
    (shown,) = timeline([entry], ZoneInfo("Asia/Shanghai"))
    assert shown.files == [("征求意见稿.pdf（1.2 MB）", f"/tasks/2024-01/files/{'a' * 64}")]
    assert ("附件", "征求意见稿.pdf（1.2 MB）") in shown.details
