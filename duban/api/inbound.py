"""The platforms' callbacks: a message written to the robot in a group chat (issue 17).

    POST /api/v1/inbound/dingtalk/{channel}   DingTalk enterprise robot (signed headers)
    POST /api/v1/inbound/feishu/{channel}     Feishu app bot event subscription

No bearer token: the platform's check (signature, timestamp, token, decryption) is the
authentication, with the channel's `[channels.inbound]` secrets. The raw body is read once and
checked as it arrived; a refused one gets the check's status (401/403, 400 for what is not a
text message) and a short JSON error, and is logged as `inbound_refused` with its length and
digest, never its content. A channel that does not receive is 404. A checked message is
recorded in one transaction (`duban.app.inbound`) before the answer goes out; its answer into
the group is sent after the HTTP response (a background task), so the platform gets its 200
within its deadline (Feishu: 3 s). A message id seen before (a replay, or the platform's
retry of a message already recorded) is answered 403 and changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, BackgroundTasks, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from duban.api.schemas import ErrorBody
from duban.app.inbound import (
    CallbackIgnored,
    CallbackRefused,
    FeishuChallenge,
    Handled,
    InboundDesk,
    NotReceiving,
    body_digest,
)

__all__ = ["router"]

router = APIRouter(tags=["inbound"], include_in_schema=True)
log = structlog.get_logger("duban.inbound")
ChannelName = Annotated[
    str, Path(min_length=1, max_length=100, description="群名称（channels.name）")
]
_REFUSED = {
    400: "回调内容无法识别",
    401: "回调签名或令牌校验失败",
    403: "回调已过期或无法解密",
    413: "回调内容过大",
    503: "接收群消息的密钥未配置",
}


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "已办理（钉钉：回复在应答体或会话 webhook 中；飞书：地址验证的 challenge）"
    },
    400: {"model": ErrorBody, "description": "回调内容无法识别"},
    401: {"model": ErrorBody, "description": "签名或令牌校验失败"},
    403: {"model": ErrorBody, "description": "时间戳超过一小时、无法解密，或该消息已办理过"},
    404: {"model": ErrorBody, "description": "该群不存在或未配置接收群消息"},
    413: {"model": ErrorBody, "description": "回调内容过大"},
    422: {"model": ErrorBody, "description": "群名称不合要求"},
    503: {"model": ErrorBody, "description": "接收群消息的密钥未配置"},
}


def _desk(request: Request) -> InboundDesk:
    """The app's inbound desk, built on first use from the app's services."""
    desk: InboundDesk | None = getattr(request.app.state, "inbound", None)
    if desk is None:
        context = request.app.state.duban
        desk = InboundDesk(context.reads.services, context.reads)
        request.app.state.inbound = desk
    return desk


async def _receive(
    platform: str, channel_name: str, request: Request, background: BackgroundTasks
) -> JSONResponse:
    desk = _desk(request)
    raw = await request.body()
    try:
        channel = desk.channel(platform, channel_name)
    except NotReceiving:
        return JSONResponse(
            {
                "error": "not_found",
                "message": f"没有接收{_LABEL[platform]}群消息的群「{channel_name}」",
            },
            status_code=404,
        )
    try:
        checked = await run_in_threadpool(desk.check, channel, dict(request.headers), raw)
    except CallbackIgnored as ignored:  # authentic, but not a text message: nothing to do
        log.info("inbound_ignored", platform=platform, channel=channel_name, reason=ignored.reason)
        return JSONResponse(_NOTHING[platform])
    except CallbackRefused as refused:
        log.warning(
            "inbound_refused",
            platform=platform,
            channel=channel_name,
            reason=refused.reason,
            status=refused.status,
            body_bytes=len(raw),
            body_sha256=body_digest(raw),
        )
        message = _REFUSED.get(refused.status, "回调被拒绝")
        return JSONResponse(
            {"error": "callback_refused", "message": message}, status_code=refused.status
        )
    if isinstance(checked, FeishuChallenge):
        return JSONResponse({"challenge": checked.challenge})
    handled: Handled = await run_in_threadpool(desk.handle, channel, checked, raw)
    log.info(
        "inbound_handled",
        platform=platform,
        channel=channel_name,
        outcome=handled.outcome,
        replay=handled.replay,
        message=str(handled.message_id),
    )
    if handled.replay:  # acceptance 2: a replayed msgId/event_id is refused, and changed nothing
        return JSONResponse(
            {"error": "replayed", "message": "该消息已办理过，不再重复办理"}, status_code=403
        )
    if handled.reply is not None:
        background.add_task(desk.reply, handled)
    return JSONResponse(_answer(platform, handled))


_LABEL = {"dingtalk": "钉钉", "feishu": "飞书"}


def _answer(platform: str, handled: Handled) -> dict[str, Any]:
    """The HTTP answer: DingTalk shows a text body in the group (used when its sessionWebhook
    cannot be), an empty one nothing; Feishu only wants 200."""
    if platform == "dingtalk" and handled.answer_in_body:
        return {"msgtype": "text", "text": {"content": handled.answer}}
    return _NOTHING[platform]


_NOTHING: dict[str, dict[str, Any]] = {"dingtalk": {"msgtype": "empty"}, "feishu": {}}


@router.post(
    "/inbound/dingtalk/{channel}",
    responses=_RESPONSES,
    summary="钉钉企业机器人回调 DingTalk robot callback",
)
async def dingtalk(
    channel: ChannelName, request: Request, background: BackgroundTasks
) -> JSONResponse:
    return await _receive("dingtalk", channel, request, background)


@router.post(
    "/inbound/feishu/{channel}",
    responses=_RESPONSES,
    summary="飞书应用机器人事件回调 Feishu event callback",
)
async def feishu(
    channel: ChannelName, request: Request, background: BackgroundTasks
) -> JSONResponse:
    return await _receive("feishu", channel, request, background)
