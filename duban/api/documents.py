"""督办单 and 通报 (PRODUCT.md rule 13), read-only: `GET /documents?year=`,
`GET /documents/{number}` (JSON: the task's facts, escalation history, reason) and
`GET /documents/{number}/pdf`.

The documents are numbered by the sweep (`duban.app.documents`); these routes only translate HTTP.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from duban.api.deps import Caller, ConfirmingRoute, Ctx
from duban.app.documents import find_document, list_documents
from duban.app.roles import authorize

__all__ = ["router"]

router = APIRouter(tags=["documents"], route_class=ConfirmingRoute)

Number = Annotated[
    str, Path(min_length=1, max_length=60, description="文号，如 县改办督〔2026〕12号")
]
Year = Annotated[int, Query(ge=2000, le=2100, description="年度")]


class EscalationView(BaseModel):
    model_config = ConfigDict(frozen=True)

    rung: str
    target: str
    due: str
    at: str


class DocumentView(BaseModel):
    """One 督办单 (kind supervise) or 通报 (kind bulletin)."""

    model_config = ConfigDict(frozen=True)

    number: str
    kind: str
    seq: int
    year: int
    at: str
    task_code: str
    title: str
    unit: str
    rung: str
    target: str
    due: str
    deadline: str | None
    reason: str
    history: list[EscalationView]


@router.get("/documents", summary="督办单、通报列表 the year's numbered documents")
def documents(year: Year, ctx: Ctx, who: Caller) -> list[DocumentView]:
    authorize(who, "read")
    return [DocumentView.model_validate(d.as_dict()) for d in list_documents(ctx, year)]


@router.get("/documents/{number}", summary="督办单或通报 one document with the task's history")
def document(number: Number, ctx: Ctx, who: Caller) -> DocumentView:
    authorize(who, "read")
    return DocumentView.model_validate(find_document(ctx, number).as_dict())


PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "PDF（红头文件）"}
}


@router.get(
    "/documents/{number}/pdf",
    summary="督办单或通报 PDF with the office's red header",
    response_class=Response,
    responses=PDF,
)
def document_pdf(number: Number, ctx: Ctx, who: Caller) -> Response:
    from duban.app.document_pdf import document_pdf as render  # reportlab only when asked

    authorize(who, "read")
    doc = find_document(ctx, number)
    return Response(render(doc, ctx.config), media_type="application/pdf")
