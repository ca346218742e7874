"""What every page of the web board receives: the config, the ledger, the read models and the
people registry (sign-in and sessions).

The app that mounts the board (`duban.api.create_app`) keeps a `WebContext` (or a subclass of
it) in `app.state.duban`; the board takes nothing else from the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from duban.app.ledger import Ledger
from duban.app.people import PeopleRegistry
from duban.app.reads import ReadModels
from duban.settings.config import Config

__all__ = ["Ctx", "WebContext"]


@dataclass(frozen=True)
class WebContext:
    config: Config
    ledger: Ledger
    reads: ReadModels
    people: PeopleRegistry


async def _context(request: Request) -> WebContext:  # async: no hop to a worker thread
    context: WebContext = request.app.state.duban
    return context


Ctx = Annotated[WebContext, Depends(_context)]
