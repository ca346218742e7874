"""Evidence files over the API: upload (multipart) and download through the task.

`POST /api/v1/files` keeps one or more `file` parts and answers their references; a report, an
extension request or a completion then attaches them by `sha256` (`files: [{"sha256", "name"}]`).
`GET /api/v1/tasks/{code}/files/{sha256}` serves a file of that task to whoever may read the
task's details, as a download (never rendered: `attachment`, and `nosniff` on every answer).
The upload route is mounted without the JSON body checks, which would read the whole body
into memory; its size limit is `[web]`'s (`duban.api.limits`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, UploadFile
from fastapi.responses import StreamingResponse

from duban.api.deps import Caller, Code, ConfirmingRoute, Ctx
from duban.api.schemas import FileView
from duban.app.evidence import EvidenceFiles, content_disposition

__all__ = ["router"]

router = APIRouter(tags=["files"], route_class=ConfirmingRoute)

Digest = Annotated[
    str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the file (64 hex digits)")
]


@router.post("/files", status_code=201, summary="上传佐证材料 upload evidence files (multipart)")
def upload(
    file: Annotated[list[UploadFile], File(description="one or more files (PDF, images, Office)")],
    ctx: Ctx,
    who: Caller,
) -> list[FileView]:
    desk = EvidenceFiles(ctx.ledger, ctx.config.web.max_files)
    refs = desk.upload([(part.file, part.filename or "附件") for part in file], who)
    return [FileView(**ref.record()) for ref in refs]


@router.get(
    "/tasks/{code}/files/{sha256}",
    summary="下载佐证材料 download a file of the task",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download(code: Code, sha256: Digest, ctx: Ctx, who: Caller) -> StreamingResponse:
    ref, chunks = EvidenceFiles(ctx.ledger).download(code, sha256, who)
    headers = {
        "Content-Disposition": content_disposition(ref.name),
        "Content-Length": str(ref.size),
    }
    return StreamingResponse(chunks, media_type=ref.type, headers=headers)
