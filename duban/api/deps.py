"""What every endpoint receives: the services of the running app and the caller's Identity."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.roles import Identity
from duban.api.errors import InvalidRequest
from duban.config import Config
from duban.ledger import Ledger
from duban.tokens import TokenRegistry

__all__ = ["Caller", "Code", "Ctx", "ServiceContext", "checked_text"]


@dataclass(frozen=True)
class ServiceContext:
    config: Config
    ledger: Ledger
    tokens: TokenRegistry


def _context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.duban
    return context


Ctx = Annotated[ServiceContext, Depends(_context)]

_bearer = HTTPBearer(
    auto_error=False,
    description="`duban token issue --role office|liaison|official|auditor` 签发的访问令牌",
)


def _caller(
    ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Identity:
    return ctx.tokens.identify(credentials.credentials if credentials else None)


Caller = Annotated[Identity, Depends(_caller)]

Code = Annotated[
    str,
    Path(
        min_length=1,
        max_length=40,
        pattern=r"^[0-9A-Za-z\-_.]+$",
        description="任务编号, e.g. 2024-07",
    ),
]


async def checked_text(request: Request) -> None:
    """Reject text that cannot be stored (lone UTF-16 surrogates from `\\ud800` escapes), by field.

    JSON allows them and Python decodes them, but no UTF-8 store can keep them.
    """
    body = await request.body()
    if b"\\u" not in body and b"\\U" not in body:
        return
    try:
        data = json.loads(body)
    except ValueError:
        return  # FastAPI has already answered for malformed JSON
    where = _unencodable(data, "body")
    if where:
        raise InvalidRequest(f"{where}：文本含有无法保存的字符（孤立的 UTF-16 代理项）")


def _unencodable(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where
        return None
    if isinstance(value, dict):
        items: list[tuple[str, Any]] = [(str(k), v) for k, v in value.items()]
        items += [(f"{k!r}", k) for k in value]
    elif isinstance(value, list):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        return None
    for key, item in items:
        found = _unencodable(item, f"{where}.{key}")
        if found:
            return found
    return None
