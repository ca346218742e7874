"""What every endpoint receives: the services of the running app and the caller's Identity."""

from __future__ import annotations

import functools
import inspect
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from duban.api.limits import IDENTITY_STATE, UNCONFIRMED
from duban.app.access import TokenRegistry
from duban.app.roles import Identity
from duban.web.context import WebContext

__all__ = [
    "Caller",
    "Code",
    "ConfirmingRoute",
    "Ctx",
    "ServiceContext",
    "TaskLocks",
    "checked_request",
    "unstorable_text_at",
]


class TaskLocks:
    """Writers of one task inside this process take turns instead of racing.

    The ledger's optimistic concurrency already makes racing safe (the loser reloads and
    retries), but under load the retries are wasted work: every lost race reloads the whole
    task. Other processes on the same store still race and are still handled by the ledger.
    """

    def __init__(self, stripes: int = 64) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]

    def hold(self, code: str) -> threading.Lock:
        return self._locks[hash(code) % len(self._locks)]


@dataclass(frozen=True)
class ServiceContext(WebContext):
    """The web board's context (config, ledger, read models) and the API's own parts."""

    tokens: TokenRegistry
    writes: TaskLocks = field(default_factory=TaskLocks)


async def _context(request: Request) -> ServiceContext:
    """`async`: nothing to wait for, so no hop to a worker thread (a plain `def` takes one)."""
    context: ServiceContext = request.app.state.duban
    return context


Ctx = Annotated[ServiceContext, Depends(_context)]

_bearer = HTTPBearer(
    auto_error=False,
    description="`duban token issue --role office|liaison|official|auditor` 签发的访问令牌",
)


async def _caller(
    request: Request,
    ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Identity:
    """The caller `RequestLimits` found for this request's token (it checks every API
    request's token before the body is read), else the registry's answer.

    A token the middleware let through unconfirmed (known to the registry, not re-checked:
    `UNCONFIRMED`) is confirmed in the endpoint's worker thread when the endpoint is a
    `ConfirmingRoute`'s (one hop to a thread per request instead of two), else here."""
    found = request.scope.get("state", {}).get(IDENTITY_STATE)
    if isinstance(found, Identity):
        return found
    unconfirmed = UNCONFIRMED.get()
    if unconfirmed is not None and _confirms(request):
        return unconfirmed[2]
    if unconfirmed is not None:
        presented: str | None = unconfirmed[1]
    else:
        presented = credentials.credentials if credentials else None
    who: Identity = await run_in_threadpool(ctx.tokens.identify, presented)
    if unconfirmed is not None:
        UNCONFIRMED.set(None)  # confirmed
    return who


_CONFIRMS = "__duban_confirms_caller__"


def _confirms(request: Request) -> bool:
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    return bool(getattr(endpoint, _CONFIRMS, False))


class ConfirmingRoute(APIRoute):
    """An API route whose plain-`def` endpoint first confirms, in its worker thread, a token
    the middleware let through unconfirmed (`TokenRegistry.identify`: a revoked
    token or a disabled person is refused 401 there, before the endpoint reads or acts)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _confirming(endpoint)
        super().__init__(path, endpoint, **kwargs)


def _confirming(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def confirmed(*args: Any, **kwargs: Any) -> Any:
        unconfirmed = UNCONFIRMED.get()  # the request's context, copied into this thread
        if unconfirmed is not None:
            tokens, presented, known = unconfirmed
            who = tokens.identify(presented)  # raises Unauthenticated: 401
            if who != known:  # worked out again since: the endpoint acts as the store says
                kwargs = {k: who if v is known else v for k, v in kwargs.items()}
        return endpoint(*args, **kwargs)

    setattr(confirmed, _CONFIRMS, True)
    return confirmed


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


async def checked_request(request: Request) -> None:
    """Refuse what the lenient parsing lets through: unknown query parameters, text no store
    can keep, and JSON values that only a lenient reading turns into the declared type.

    A misspelt filter (`?unti=…`) would otherwise silently answer for everything; and JSON
    allows lone UTF-16 surrogates (`\\ud800`) that Python decodes but UTF-8 cannot encode.
    """
    problems = _unknown_query(request) + await _unstorable_text(request)
    if not problems:
        problems = _strictly_invalid_body(request, await request.body())
    if problems:
        raise RequestValidationError(problems)


def _strictly_invalid_body(request: Request, body: bytes) -> list[dict[str, Any]]:
    """JSON means what it says: `0` is not a day (1970-01-01), `"5"` and `true` are not 5.

    FastAPI validates bodies leniently; the same model is checked here again, strictly, on
    the JSON as sent, so a request that the schema rejects is rejected.
    """
    dependant = getattr(request.scope.get("route"), "dependant", None)
    params = dependant.body_params if dependant else []
    model = params[0].field_info.annotation if len(params) == 1 else None
    if not body or not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    try:
        model.model_validate_json(body, strict=True)
    except ValidationError as exc:
        return [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
    return []


def _unknown_query(request: Request) -> list[dict[str, Any]]:
    dependant = getattr(request.scope.get("route"), "dependant", None)
    declared = {f.alias for f in dependant.query_params} if dependant else set()
    return [
        {"type": "extra_forbidden", "loc": ("query", name), "msg": "未知的查询参数", "input": v}
        for name, v in request.query_params.multi_items()
        if name not in declared
    ]


async def _unstorable_text(request: Request) -> list[dict[str, Any]]:
    where = unstorable_text_at(await request.body())
    if where is None:
        return []
    message = "文本含有无法保存的字符（NUL 控制字符或孤立的 UTF-16 代理项）"
    return [{"type": "string_unicode", "loc": where, "msg": message, "input": None}]


def unstorable_text_at(body: bytes) -> tuple[str, ...] | None:
    """Where a JSON body holds text no store can keep (NUL, a lone UTF-16 surrogate), if
    anywhere: only an escape sequence can put either in (raw, the body is not UTF-8 JSON)."""
    if b"\\u" not in body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None  # FastAPI answers for malformed JSON itself
    return _unencodable(data, ("body",))


def _unencodable(value: Any, where: tuple[str, ...]) -> tuple[str, ...] | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where
        return where if "\x00" in value else None
    if isinstance(value, dict):
        items: list[tuple[str, Any]] = [(str(k), v) for k, v in value.items()]
        items += [(repr(k), k) for k in value]
    elif isinstance(value, list):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        return None
    for key, item in items:
        found = _unencodable(item, (*where, key))
        if found:
            return found
    return None
