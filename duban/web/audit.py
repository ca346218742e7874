"""`/audit` 审计: the auditor's (and the office's) read-only pages.

- `/audit`: the trail filtered by task, unit (lead or co-operating), type of event (its
  Chinese label) and a range of days, a page at a time (`ReadModels.audit_page`: keyed by
  position, so a page costs the same however long the history is);
- `/audit/board?as_of=YYYY-MM-DD` (or `position=N`): the board as it stood then;
- `/audit/verify`: the hash chain recomputed from the stored rows, its head, and every
  evidence file re-hashed;
- `/audit/export.jsonl?…`: the filtered trail as JSON lines (identifiers kept, like
  `duban audit log --format jsonl`), streamed page by page.

Nothing here changes anything: the only forms are GET filters. Secret material (a token's
digest, fingerprints of robots) is left out as the API leaves it out (`audit_for`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from duban.app.audit_view import audit_for
from duban.app.errors import Forbidden
from duban.app.evidence import EvidenceFiles
from duban.app.reads import BoardQuery, TrailQuery, unit_summaries
from duban.app.roles import Identity, authorize
from duban.app.vocabulary import EVENT_LABELS, event_label
from duban.web.auth import Viewer, forbidden_page, render
from duban.web.charts import unit_bars
from duban.web.context import Ctx, WebContext
from duban.web.masked import Unmasked

__all__ = ["AUDIT_LABELS", "TrailFilters", "router"]

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
EXPORT_CHUNK = 1000
READERS = frozenset({"auditor", "office"})
NOT_AN_AUDITOR = "「审计」页面只供审计人员和县委改革办使用"
TASKS_SHOWN = 3
_FIELDS = ("task", "unit", "kind", "since", "until")

# The words of these pages that are not the vocabulary's (listed for the report).
AUDIT_LABELS: Mapping[str, str] = {
    "bad_day": "日期须写成 2024-03-31 的形式",
    "bad_position": "事件序号须是正整数",
    "range": "起始日期不能晚于截止日期",
}
_BREACH_KINDS = {"altered": "被修改", "deleted": "被删除", "inserted": "被插入",
                 "reordered": "被调换顺序"}  # fmt: skip

# One option per label: 「领导批示」 stands for every stored type it names.
TYPE_CHOICES: dict[str, tuple[str, ...]] = {}
for _type, _label in EVENT_LABELS.items():
    TYPE_CHOICES[_label] = (*TYPE_CHOICES.get(_label, ()), _type)


def _reader(who: Identity) -> None:
    """Auditors and the office read everything (`read_details` on any task); others: 403."""
    if who.role not in READERS:
        raise Forbidden(NOT_AN_AUDITOR)
    authorize(who, "read_details")


def _refused(request: Request, who: Identity) -> Response | None:
    """The 403 page for anyone but auditors and the office; None for them."""
    try:
        _reader(who)
    except Forbidden as exc:
        return forbidden_page(request, str(exc))
    return None


# ---- the filters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TrailFilters:
    """The trail's GET filters as typed, and what they mean (a bad value is named, not used)."""

    task: str = ""
    unit: str = ""
    kind: str = ""
    since: str = ""
    until: str = ""
    after: int = 0
    errors: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, params: Mapping[str, str]) -> TrailFilters:
        task, unit, kind, since, until = ((params.get(k) or "").strip() for k in _FIELDS)
        after, errors = _position(params.get("after") or "")
        found = cls(task, unit, kind, since, until, after)
        return replace(found, errors=(*errors, *found.day_errors()))

    def day_errors(self) -> tuple[str, ...]:
        since, until = self.day(self.since), self.day(self.until)
        if (self.since and since is None) or (self.until and until is None):
            return (AUDIT_LABELS["bad_day"],)
        if since and until and since > until:
            return (AUDIT_LABELS["range"],)
        return ()

    @staticmethod
    def day(text: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(text) if text else None
        except ValueError:
            return None

    def query(self, ctx: WebContext) -> TrailQuery:
        """The trail query: a unit stands for the tasks it leads or co-operates on."""
        tasks: tuple[str, ...] | None = None
        if self.unit:
            tasks = tuple(r["code"] for r in ctx.reads.board(BoardQuery(unit=self.unit)))
        if self.task:
            tasks = (self.task,) if tasks is None or self.task in tasks else ()
        since, until = self.day(self.since), self.day(self.until)
        if since and until and since > until:
            since = until = None
        return TrailQuery(
            tasks=tasks, types=TYPE_CHOICES.get(self.kind, ()), since=since, until=until,
            after=self.after,
        )  # fmt: skip

    def params(self, **changes: Any) -> str:
        """These filters as a query string (empty ones left out), with `changes`."""
        values: dict[str, Any] = {k: getattr(self, k) for k in _FIELDS}
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v})


def _position(text: str) -> tuple[int, tuple[str, ...]]:
    if not text:
        return 0, ()
    if text.isdigit():
        return int(text), ()
    return 0, (AUDIT_LABELS["bad_position"],)


# ---- the trail -----------------------------------------------------------------------------


def _shown(entry: dict[str, Any], tz: dt.tzinfo) -> dict[str, Any]:
    """One entry as the page shows it: office time, who, what, the tasks it belongs to."""
    codes: list[str] = entry["tasks"]
    return {
        "position": entry["position"],
        "at": _local(entry["at"], tz),
        "who": entry["who"],
        "label": event_label(entry["type"]),
        "summary": entry["summary"],
        "tasks": codes[:TASKS_SHOWN],
        "more": max(0, len(codes) - TASKS_SHOWN),
    }


def _local(moment: str | None, tz: dt.tzinfo) -> str:
    try:
        when = dt.datetime.fromisoformat(moment) if moment else None
    except ValueError:
        return moment or ""
    if when is None:
        return "（未记录）"
    return f"{when.astimezone(tz) if when.tzinfo else when:%Y-%m-%d %H:%M:%S}"


def _entries(ctx: WebContext, who: Identity, query: TrailQuery, limit: int) -> list[dict[str, Any]]:
    """A page of the trail as `who` may read it (no secret material)."""
    return audit_for(who, ctx.reads.audit_page(query, limit), frozenset)


@router.get("/audit")
def audit_page(request: Request, ctx: Ctx, who: Viewer) -> Response:
    if (refused := _refused(request, who)) is not None:
        return refused
    filters = TrailFilters.of(request.query_params)
    found = _entries(ctx, who, filters.query(ctx), PAGE_SIZE + 1)
    page, more = found[:PAGE_SIZE], len(found) > PAGE_SIZE
    context = {
        "filters": filters,
        "entries": [_shown(e, ctx.config.tz) for e in page],
        "next_link": f"/audit?{filters.params(after=page[-1]['position'])}" if more else "",
        "first_link": f"/audit?{filters.params()}" if filters.after else "",
        "export_link": f"/audit/export.jsonl?{filters.params()}",
        "units": [u.name for u in ctx.config.units],
        "kinds": list(TYPE_CHOICES),
        "here": "trail",
    }
    return render(request, "audit.html", context, status_code=400 if filters.errors else 200)


@router.get("/audit/export.jsonl")
def audit_export(request: Request, ctx: Ctx, who: Viewer) -> Response:
    """The filtered trail, every entry, oldest first, as JSON lines (a download)."""
    if (refused := _refused(request, who)) is not None:
        return refused
    query = TrailFilters.of(request.query_params).query(ctx)
    stamp = ctx.reads.today().isoformat()
    headers = {"Content-Disposition": f'attachment; filename="audit-{stamp}.jsonl"'}
    return StreamingResponse(
        _lines(ctx, who, query), media_type="application/x-ndjson; charset=utf-8", headers=headers
    )


def _lines(ctx: WebContext, who: Identity, query: TrailQuery) -> Iterator[bytes]:
    """Page after page (`EXPORT_CHUNK` entries each) until the trail is exhausted."""
    while True:
        chunk = _entries(ctx, who, query, EXPORT_CHUNK)
        yield b"".join(json.dumps(e, ensure_ascii=False).encode() + b"\n" for e in chunk)
        if len(chunk) < EXPORT_CHUNK:
            return
        query = replace(query, after=chunk[-1]["position"])


# ---- the board as it stood -------------------------------------------------------------------


@router.get("/audit/board")
def audit_board(request: Request, ctx: Ctx, who: Viewer) -> Response:
    """The board on a past day (`as_of`) or after an event (`position`), from the events."""
    if (refused := _refused(request, who)) is not None:
        return refused
    as_of = (request.query_params.get("as_of") or "").strip()
    position = (request.query_params.get("position") or "").strip()
    error, rows = "", None
    if position:
        if position.isdigit() and int(position) > 0:
            rows = ctx.reads.board_as_of(BoardQuery(), position=int(position))
        else:
            error = AUDIT_LABELS["bad_position"]
    elif as_of:
        day = TrailFilters.day(as_of)
        if day is None:
            error = AUDIT_LABELS["bad_day"]
        else:
            rows = ctx.reads.board_as_of(BoardQuery(), on=day)
    context = {
        "as_of": as_of or ("" if position else ctx.reads.today().isoformat()),
        "position": position,
        "error": error,
        "rows": rows,
        "bars": unit_bars(unit_summaries(rows or [], [u.name for u in ctx.config.units])),
        "here": "board",
    }
    return render(request, "audit_board.html", context, status_code=400 if error else 200)


# ---- verification ------------------------------------------------------------------------------


@router.get("/audit/verify")
def audit_verify(request: Request, ctx: Ctx, who: Viewer) -> Response:
    """The chain recomputed from the stored rows, its head, and every evidence file re-hashed."""
    if (refused := _refused(request, who)) is not None:
        return refused
    result = ctx.reads.verify_chain()
    head = ctx.reads.chain_head() if result.intact else None
    # a broken chain: the events cannot be trusted (a forged one may not even decode)
    files_checked = result.intact and ctx.ledger.evidence is not None
    problems = EvidenceFiles(ctx.ledger).problems() if files_checked else []
    breach = result.breach
    context = {
        "intact": result.intact and not problems,
        "checked": result.checked,
        "unchained": result.unchained,
        "breach": _breach_text(breach) if breach else "",
        "head": {"hash": Unmasked(head.hash), "position": head.position, "events": head.events}
        if head
        else None,
        "problems": [p.message for p in problems],
        "files_checked": ctx.ledger.evidence is not None,
        "here": "verify",
    }
    return render(request, "audit_verify.html", context)


def _breach_text(breach: Any) -> str:
    what = _BREACH_KINDS.get(breach.kind, "与写入时不一致")
    return f"第 {breach.notification_id} 号事件{what}：{breach.detail}"
