"""Who may do what: the one authorization rule that every entry point calls."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from domain.errors import Forbidden
from domain.vocabulary import ACTION_LABELS, ROLE_LABELS

__all__ = ["ROLES", "Action", "Forbidden", "Identity", "Role", "Via", "authorize"]

Role = Literal["office", "liaison", "official", "auditor", "system"]
ROLES: tuple[Role, ...] = ("office", "liaison", "official", "auditor", "system")

Action = Literal[
    "read",
    "read_details",
    "assign",
    "claim",
    "report",
    "request_extension",
    "decide_extension",
    "submit",
    "accept",
    "return",
    "cancel",
    "recognise",
    "escalate",
    "review_plan",
    "submit_plan",
    "close_milestone",
    "admin",
]

_OFFICE_ONLY = frozenset(
    {"assign", "decide_extension", "accept", "return", "cancel", "recognise", "close_milestone"}
)  # close_milestone: the office's (the lead unit closes a 阶段节点 by naming it in its report)
_LEAD_ONLY = frozenset({"claim", "request_extension", "submit"})


# A web session (its public id), an API token (its token_id), a message from a group chat (the
# id of its `domain.inbound.InboundMessage`).
Via = Literal["session", "token", "chat"]


@dataclass(frozen=True)
class Identity:
    """The acting person or process; `actor` is what events record, and `via` what they record
    beside it: the door the person came through, ``session:<public id>`` for a web session,
    ``token:<token_id>`` for an API token, ``chat:<inbound message id>`` for a reply written to
    the robot in a group chat, None for the command line and the system. Never a
    secret: only the public half of a cookie or token. Two identities of one person are equal
    whatever door they came through (`via` is not compared)."""

    role: Role
    name: str
    unit: str | None = None
    via: str | None = field(default=None, compare=False)

    @property
    def actor(self) -> str:
        if self.role == "liaison":
            return f"liaison:{self.unit}/{self.name}"
        return f"{self.role}:{self.name}"

    def through(self, kind: Via, public_id: str) -> Identity:
        """The same person, acting through the web session or API token `public_id`."""
        return replace(self, via=f"{kind}:{public_id}")


def authorize(
    who: Identity,
    action: Action,
    lead_unit: str | None = None,
    co_units: tuple[str, ...] | list[str] = (),
    official: str | None = None,
) -> None:
    """Raise `Forbidden` unless `who` may perform `action` on a task with these units."""
    if who.role == "office":
        return
    if action == "read":  # the board: lights, titles, units, dates
        if who.role in ("auditor", "system", "liaison", "official"):
            return
    elif action == "read_details":  # one task's reports, reasons, files and trail
        if who.role in ("auditor", "system", "official"):
            return
        if (
            who.role == "liaison"
            and who.unit is not None
            and (who.unit == lead_unit or who.unit in co_units)
        ):
            return
    elif (
        (who.role == "system" and action in ("escalate",))
        or (who.role == "liaison" and _liaison_may(who, action, lead_unit, co_units))
        or (who.role == "official" and action == "report" and official == who.name)
    ):
        return
    raise Forbidden(_refusal(who, action))


def _liaison_may(
    who: Identity, action: Action, lead_unit: str | None, co_units: tuple[str, ...] | list[str]
) -> bool:
    if action in _OFFICE_ONLY or who.unit is None:
        return False
    if action in _LEAD_ONLY:
        return who.unit == lead_unit
    if action == "report":
        return who.unit == lead_unit or who.unit in co_units
    return action == "submit_plan"


def _refusal(who: Identity, action: Action) -> str:
    """Why `who` may not: in Chinese, the action and the role by their labels."""
    what = ACTION_LABELS.get(action, "该操作")
    if who.role == "auditor":
        return "审计（督查）角色只能查看，不能办理"
    if who.role == "liaison":
        if action in _OFFICE_ONLY or action == "admin":
            return f"联络员（{who.unit}）无权{what}：该操作由县委改革办办理"
        if action == "read_details":
            return f"联络员（{who.unit}）只能查看本单位牵头或配合的任务"
        if action in _LEAD_ONLY:
            return f"联络员（{who.unit}）无权对该任务执行{what}：只有牵头单位可以{what}"
        return f"联络员（{who.unit}）无权对该任务执行{what}：只能办理本单位牵头或配合的任务"
    return f"{ROLE_LABELS.get(who.role, '该角色')}无权{what}"
