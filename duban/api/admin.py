"""Who am I, and the office's token administration (签发、吊销、查看访问令牌)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from duban.api.deps import Caller, ConfirmingRoute, Ctx
from duban.api.schemas import IssuedTokenView, IssueToken, Me, RevokeToken, TokenView

__all__ = ["router"]

router = APIRouter(tags=["tokens"], route_class=ConfirmingRoute)
TokenId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$", description="the token's public id")]


@router.get("/me", summary="当前身份 the identity the token speaks for")
def me(who: Caller) -> Me:
    return Me(role=who.role, name=who.name, unit=who.unit, actor=who.actor)


@router.get("/tokens", summary="令牌列表 every token issued (office)")
def tokens(ctx: Ctx, who: Caller) -> list[TokenView]:
    return [TokenView.model_validate(t) for t in ctx.tokens.tokens(who)]


@router.post("/tokens", status_code=201, summary="签发令牌 issue a token (office); shown once")
def issue(body: IssueToken, ctx: Ctx, who: Caller) -> IssuedTokenView:
    issued = ctx.tokens.issue(body.role, body.name, body.unit, who, body.reason)
    return IssuedTokenView(
        token_id=issued.token_id,
        token=issued.token,
        role=issued.role,
        name=issued.name,
        unit=issued.unit,
    )


@router.post("/tokens/{token_id}/revoke", summary="吊销令牌 revoke a token (office)")
def revoke(token_id: TokenId, body: RevokeToken, ctx: Ctx, who: Caller) -> TokenView:
    return TokenView.model_validate(ctx.tokens.revoke(token_id, who, body.reason))
