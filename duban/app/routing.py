"""Routing: who is told through which chat, from the config.

A rung names its audience (the lead unit, the co-units, the official, the office, the leaders);
the `Directory` turns each into the chat to post in and whom to @-mention there. The sweep
routes reminders with it and the report rounds the units that still owe their reports.

Messages name a chat by who reads it, never by its code name (`chat_names`): the channel's
configured `display_name`, else 「县委改革办」 / 「县领导」 for the office's and the leaders' chats,
else the names of the units routed to it (config order, joined with 「、」), else its officials
with their titles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import structlog

from domain.ladder import Rung
from domain.vocabulary import AUDIENCE_LABELS
from duban.settings.config import Config
from projections.audit_text import UNKNOWN_CHAT
from projections.due import DueTask

__all__ = [
    "SOME_UNITS",
    "UNKNOWN_CHAT",
    "Directory",
    "Route",
    "chat_names",
    "chat_titles",
    "one_per_chat",
]

log = structlog.get_logger(__name__)

SOME_UNITS = "有关单位"
"""A chat's name when nothing in the config says whose it is."""


def chat_names(config: Config) -> dict[str, str]:
    """Every configured chat's name as messages print it (see the module's docstring)."""
    units: dict[str, list[str]] = {}
    for unit in config.units:
        units.setdefault(unit.channel, []).append(unit.name)
    officials: dict[str, list[str]] = {}
    for official in config.officials:
        officials.setdefault(official.channel, []).append(f"{official.title}{official.name}")
    fixed = {
        config.office.leaders_channel: AUDIENCE_LABELS["leaders"],
        config.office.channel: config.office.name,
    }
    names: dict[str, str] = {}
    for channel in config.channels:
        readers = units.get(channel.name) or officials.get(channel.name) or [SOME_UNITS]
        names[channel.name] = (
            channel.display_name.strip() or fixed.get(channel.name) or "、".join(readers)
        )
    return names


@dataclass(frozen=True)
class Route:
    """One chat to tell, with whom to @ there (their mobiles and names)."""

    channel: str
    mobiles: tuple[str, ...] = ()
    names: tuple[str, ...] = ()


class Directory:
    """Who is told through which chat, from the config (built once per sweep or round)."""

    def __init__(self, config: Config) -> None:
        self.office = config.office
        self.units = {u.name: u for u in config.units}
        self.officials = {o.name: o for o in config.officials}
        self.platforms = {c.name: c.platform for c in config.channels}
        self.names = chat_names(config)

    def unit_route(self, unit: str, mention: bool) -> Route:
        found = self.units.get(unit)
        if found is None:
            # A unit the config does not know still must not be forgotten: the office hears.
            log.warning("unit_without_channel", unit=unit, routed_to=self.office.channel)
            return Route(self.office.channel)
        if not mention:
            return Route(found.channel)
        mobiles = tuple(x.mobile for x in found.liaisons)
        return Route(found.channel, mobiles, tuple(x.name for x in found.liaisons))

    def official_route(self, name: str | None, mention: bool) -> Route | None:
        official = self.officials.get(name) if name else None
        if official is None:
            return None
        if mention and official.mobile:
            return Route(official.channel, (official.mobile,), (official.name,))
        return Route(official.channel)

    def routes(self, task: DueTask, rung: Rung) -> list[Route]:
        """The chats of the rung's audience for `task`, in audience order."""
        found: list[Route | None] = []
        if "lead_unit" in rung.audience:
            found.append(self.unit_route(task.lead_unit, rung.mention))
        if "co_units" in rung.audience:
            found += [self.unit_route(u, False) for u in task.co_units]
        if "official" in rung.audience:
            found.append(self.official_route(task.official, rung.mention))
        if "office" in rung.audience:
            found.append(Route(self.office.channel))
        if "leaders" in rung.audience:
            found.append(Route(self.office.leaders_channel))
        return [r for r in found if r is not None]

    def platform(self, channel: str) -> str:
        return self.platforms.get(channel, "wecom")

    def chat_name(self, channel: str) -> str:
        """Whom a message to `channel` addresses: 「县委编办」, never the code name ``bb``."""
        return self.names.get(channel, SOME_UNITS)


def chat_titles(config: Config) -> dict[str, str]:
    """Every configured chat as a line names the chat itself: 「县委编办群」 (`chat_names` + 群);
    a channel missing from it is shown as `UNKNOWN_CHAT`, 「工作群」."""
    return {c: n if n.endswith("群") else f"{n}群" for c, n in chat_names(config).items()}


def one_per_chat(routes: Iterable[Route]) -> tuple[Route, ...]:
    """One route per chat: a unit whose chat is also the office's is told once there."""
    by_chat: dict[str, Route] = {}
    for route in routes:
        seen = by_chat.get(route.channel, Route(route.channel))
        by_chat[route.channel] = Route(
            route.channel,
            tuple(dict.fromkeys((*seen.mobiles, *route.mobiles))),
            tuple(dict.fromkeys((*seen.names, *route.names))),
        )
    return tuple(by_chat.values())
