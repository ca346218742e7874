"""What every config section stands on: the strict, frozen model and the shared field types
(`duban.settings.sections` re-exports them; `duban.settings.channels` uses them too)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

__all__ = ["Name", "Platform", "Section", "UserId"]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Platform = Literal["wecom", "dingtalk", "feishu", "console"]
# An organisation user id on DingTalk (userid, e.g. "manager4523") or Feishu (user_id / open_id).
UserId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.@]+$"
    ),
]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
