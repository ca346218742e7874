"""From exceptions to answers: every failure the caller can fix is a 4xx naming what is wrong.

Domain and application errors (`duban.app.errors`) keep their Chinese message and stable code;
their status is chosen by class (`STATUSES`, most specific first): 401 for who is nobody, 403
for `Forbidden`, 404 for what does not exist, 422 when the input itself cannot apply, 409 when
the task's state (or another writer) is in the way. A store that is momentarily overloaded is
a 503. Anything else is a bug: it is logged with its traceback and the caller gets a 500 that
reveals nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from eventsourcing.persistence import IntegrityError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from duban.api.schemas import FIELD_NAMES, MODEL_FIELD_NAMES, ErrorBody, FieldProblem
from duban.app.documents import DocumentNotFound
from duban.app.errors import (
    ApplicationError,
    Conflict,
    DomainError,
    ExtensionDateNotLater,
    Forbidden,
    InvalidRequest,
    InvalidTokenRequest,
    NoDeadline,
    PlanNotFound,
    TaskNotFound,
    TokenNotFound,
    Unauthenticated,
    UserError,
)
from duban.app.validation_messages import has_chinese, label_of, translate

__all__ = ["ERROR_RESPONSES", "STATUSES", "install_error_handlers", "status_of"]

log = structlog.get_logger("duban.api")

# The status of an error is that of the first class it is an instance of.
STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (Unauthenticated, 401),
    (Forbidden, 403),
    (TaskNotFound, 404),
    (TokenNotFound, 404),
    (PlanNotFound, 404),
    (DocumentNotFound, 404),
    (ExtensionDateNotLater, 422),
    (NoDeadline, 422),
    (InvalidTokenRequest, 422),
    (InvalidRequest, 422),
    (Conflict, 409),
    (DomainError, 409),  # the task's state does not allow it
    (ApplicationError, 409),
)
_CHALLENGE = {401: {"WWW-Authenticate": "Bearer"}}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "请求体无法解析（不是 UTF-8 编码的 JSON）"},
    401: {"model": ErrorBody, "description": "缺少、无效或已吊销的访问令牌"},
    403: {"model": ErrorBody, "description": "该角色无权执行此操作"},
    404: {"model": ErrorBody, "description": "任务、方案或令牌不存在"},
    409: {"model": ErrorBody, "description": "任务当前状态不允许此操作，或被同时修改"},
    422: {"model": ErrorBody, "description": "请求参数有误（fields 指明字段）"},
    503: {"model": ErrorBody, "description": "存储繁忙，请稍后重试"},
}


def status_of(error: UserError) -> int:
    return next(status for cls, status in STATUSES if isinstance(error, cls))


def _answer(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


async def _user_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError | ApplicationError)
    status = status_of(exc)
    body = ErrorBody(error=exc.code, message=_named(exc.message))
    return _answer(status, body, _CHALLENGE.get(status))


_LOC_PREFIX = re.compile(r"^(?P<loc>(?:body|query|path)(?:\.[A-Za-z_]\w*|\.\d+)+)：")


def _named(message: str) -> str:
    """A message naming its field by loc (「body.unit：请指明…」) names it in Chinese instead."""
    found = _LOC_PREFIX.match(message)
    if found is None:
        return message
    loc = [int(p) if p.isdigit() else p for p in found["loc"].split(".")]
    label = label_of(loc, FIELD_NAMES)
    return f"{label}：{message[found.end() :]}" if label else message[found.end() :]


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = _problems(exc.errors(), _names_for(request))
    named = "；".join(p.message for p in problems[:5])
    more = f"等{len(problems)}处" if len(problems) > 5 else ""
    body = ErrorBody(
        error="validation_error", message=f"请求参数有误：{named}{more}", fields=problems
    )
    return _answer(422, body)


def _problems(errors: Sequence[Any], names: Mapping[str, str]) -> list[FieldProblem]:
    """Each error in Chinese (`duban.app.validation_messages`), its field kept as an identifier."""
    return [
        FieldProblem(field=p["field"] or "body", message=p["message"], type=p["type"])
        for p in translate(errors, names)
    ]


def _names_for(request: Request) -> Mapping[str, str]:
    """The fields' Chinese names, with those of the route's request body first."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    params = dependant.body_params if dependant else []
    model = params[0].field_info.annotation if len(params) == 1 else None
    names = dict(FIELD_NAMES)
    for cls in reversed(getattr(model, "__mro__", ())):  # a subclass's names win
        names.update(MODEL_FIELD_NAMES.get(cls.__name__, {}))
    return names


_HTTP_ERRORS = {
    400: ("malformed_body", "请求体无法解析：必须是 UTF-8 编码的 JSON"),
    404: ("not_found", "没有这个地址"),
    405: ("method_not_allowed", "该地址不支持此请求方法"),
}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, message = _HTTP_ERRORS.get(exc.status_code, ("http_error", _http_message(exc)))
    body = ErrorBody(error=code, message=message)
    return _answer(exc.status_code, body, dict(exc.headers or {}))


def _http_message(exc: StarletteHTTPException) -> str:
    """Starlette's own detail is English ("Request Entity Too Large"): a Chinese sentence by
    status instead; a detail we wrote (Chinese) is kept."""
    detail = str(exc.detail)
    if has_chinese(detail):
        return detail
    return _HTTP_MESSAGES.get(exc.status_code, f"请求无法处理（状态码 {exc.status_code}）")


_HTTP_MESSAGES = {
    401: "缺少、无效或已吊销的访问令牌",
    403: "无权执行此操作",
    408: "请求超时：请求体未在规定时间内送达",
    409: "数据已被同时修改，请刷新后重试",
    411: "请求缺少内容长度",
    413: "请求体过大",
    415: "不支持的内容类型：请求体必须是 JSON",
    422: "请求参数有误",
    429: "请求过于频繁，请稍后重试",
    503: "服务繁忙，请稍后重试",
}


async def _race_lost(_request: Request, _exc: Exception) -> Response:
    body = ErrorBody(error="conflict", message="数据已被同时修改，请刷新后重试")
    return _answer(409, body)


async def _store_busy(request: Request, exc: Exception) -> Response:
    log.warning("store_busy", path=request.url.path, error=repr(exc))
    body = ErrorBody(error="store_busy", message="台账存储繁忙，请稍后重试")
    return _answer(503, body, {"Retry-After": "1"})


async def _bug(request: Request, exc: Exception) -> Response:
    log.error("unhandled_error", path=request.url.path, method=request.method, exc_info=exc)
    body = ErrorBody(error="internal_error", message="服务器内部错误，已记录日志")
    return _answer(500, body)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _user_error)
    app.add_exception_handler(ApplicationError, _user_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _race_lost)
    app.add_exception_handler(OperationalError, _store_busy)
    app.add_exception_handler(Exception, _bug)
