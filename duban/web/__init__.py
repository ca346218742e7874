"""The web board at `/`: Chinese, server-rendered, usable on a phone.

It needs sign-in (`duban.web.auth`, `duban.web.signin`) unless `config.web.public_board`: the
public board shows lights, titles, units and dates only (no person, mobile, report text, reason
or message body, and no task pages). A task page checks `read_details` (a liaison reads only the
tasks their unit leads or co-operates on). `/healthz` and `/static` stay open.

Every piece of user text goes through Jinja2's autoescaping; charts are inline SVG computed on
the server; there is no JavaScript at all.

An entry point below `duban.api` (which mounts it): imports `duban.app` only, never the API
nor the lower layers directly.

An entry point below the API (which mounts it): imports the application layer (`duban.app`)
and the settings only, never `duban.api`, `domain`, `projections`, `notifiers` or `scheduler`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from duban.app.calendar_watch import calendar_banner
from duban.app.instructions import open_counts
from duban.app.reads import LIGHT_LABELS, BoardQuery, unit_summaries
from duban.settings.config import Config
from duban.web import audit, files, liaison, office, official, signin, task_forms, task_page
from duban.web.auth import MaybeViewer, SignInRequired, install_auth, render
from duban.web.charts import unit_bars
from duban.web.context import Ctx

__all__ = ["mount_web"]

HERE = Path(__file__).parent
router = APIRouter(include_in_schema=False)


def _choices(rows: list[dict[str, Any]], config: Config) -> dict[str, list[str]]:
    """The filters' options: units and officials in the config's order (the office's 机构序列
    and leadership rank), any the config does not list after them."""
    units = {r["lead_unit"] for r in rows} | {u for r in rows for u in r["co_units"]}
    officials = {r["official"] for r in rows if r["official"]}
    return {
        "unit": _in_order(units, (u.name for u in config.units)),
        "group": sorted({r["group"] for r in rows if r["group"]}),
        "official": _in_order(officials, (o.name for o in config.officials)),
    }


def _in_order(names: set[str], order: Iterable[str]) -> list[str]:
    listed = [name for name in dict.fromkeys(order) if name in names]
    return [*listed, *sorted(names - set(listed))]


def _here(request: Request) -> str:
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


def _query(request: Request, public: bool = False) -> BoardQuery:
    """The board's filters; the public board does not filter by person (领衔领导)."""
    params = request.query_params
    light = params.get("light") or None
    return BoardQuery(
        unit=params.get("unit") or None,
        group=params.get("group") or None,
        official=None if public else params.get("official") or None,
        light=light if light in LIGHT_LABELS else None,
    )


def _light_link(query: BoardQuery, light: str | None) -> str:
    params = {k: v for k, v in vars(query).items() if v and k != "light"}
    if light:
        params["light"] = light
    return "/?" + urlencode(params) if params else "/"


def _banner(ctx: Ctx) -> dict[str, str] | None:
    """Next year's holidays not imported yet (from 1 December): what the office must run."""
    return calendar_banner(ctx.reads.services, ctx.ledger.clock())


@router.get("/", response_class=HTMLResponse)
def board_page(request: Request, ctx: Ctx, who: MaybeViewer) -> HTMLResponse:
    public = who is None
    if public and not ctx.config.web.public_board:
        raise SignInRequired(_here(request))
    everything = ctx.reads.board()
    query = _query(request, public)
    rows = everything if query == BoardQuery() else ctx.reads.board(query)
    counts = {light: sum(1 for r in rows if r["light"] == light) for light in LIGHT_LABELS}
    waiting = {} if public else open_counts(ctx.ledger)  # 批示 not yet answered, per task
    context = {
        "public": public,
        "rows": [_public_row(r) for r in rows] if public else rows,
        "waiting": {r["code"]: waiting[r["code"]] for r in rows if waiting.get(r["code"])},
        "query": query,
        "choices": _choices(everything, ctx.config),
        "counts": counts,
        "light_labels": LIGHT_LABELS,
        "light_links": {light: _light_link(query, light) for light in LIGHT_LABELS},
        "all_link": _light_link(query, None),
        "bars": unit_bars(unit_summaries(rows)),
        "today": ctx.reads.today(),
        "banner": None if public else _banner(ctx),
    }
    return render(request, "board.html", context)


PUBLIC_FIELDS = ("code", "title", "lead_unit", "co_units", "deadline", "light", "light_label",
                 "status_label", "group")  # fmt: skip


def _public_row(row: dict[str, Any]) -> dict[str, Any]:
    """What the public board may show of a task: lights, titles, units and dates only."""
    return {key: row.get(key) for key in PUBLIC_FIELDS}


@router.get("/healthz", include_in_schema=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


def mount_web(app: FastAPI) -> None:
    install_auth(app)
    app.include_router(signin.router)
    app.include_router(router)
    app.include_router(audit.router)  # /audit, the auditor's read-only pages (H7)
    app.include_router(task_page.router)  # /tasks/{code}, its forms, its files (H5)
    app.include_router(task_forms.router)
    app.include_router(files.router)
    app.include_router(liaison.router)
    app.include_router(official.router)
    app.include_router(office.router)  # /office, the office's queues and pages (H6)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
