"""`/tasks/{code}/files/{sha256}`: an evidence file of a task, downloaded from the workspace.

A thin wrapper on `EvidenceFiles.download` (which asks `read_details` of the task and re-hashes
the file before serving it): a download always (`attachment`, its UTF-8 name beside an ASCII
fallback), never rendered by the browser (the app's `SecurityHeaders` add `nosniff` and
the CSP to every answer). A file that is not
the task's, went missing or changed answers a Chinese page (404, 403, 409), never the bytes.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from duban.app.errors import ApplicationError, DomainError, Forbidden, TaskNotFound
from duban.app.evidence import EvidenceFiles, content_disposition
from duban.web.auth import Viewer, forbidden_page, render
from duban.web.context import Ctx

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/tasks/{code}/files/{sha256}")
def download(request: Request, code: str, sha256: str, ctx: Ctx, who: Viewer) -> Response:
    try:
        ref, chunks = EvidenceFiles(ctx.ledger).download(code, sha256.lower(), who)
    except TaskNotFound as exc:
        return render(request, "not_found.html", {"message": exc.message}, status_code=404)
    except Forbidden as exc:
        return forbidden_page(request, str(exc))
    except (DomainError, ApplicationError) as exc:  # changed since it was reported
        return render(request, "not_found.html", {"message": exc.message}, status_code=409)
    headers = {
        "Content-Disposition": content_disposition(ref.name),
        "Content-Length": str(ref.size),
    }
    return StreamingResponse(chunks, media_type=ref.type, headers=headers)
