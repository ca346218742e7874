"""Who is told what: units (牵头/配合单位) with their liaisons, leading officials, chat channels.

They come from the admin's config file, but each change is recorded as an event so that an
auditor can prove which liaison and which chat a reminder went to at the time it was sent.
Channel events never hold a webhook key or secret: only a fingerprint and the public host.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent, event

from domain.ids import natural_id

__all__ = ["ChannelRecord", "Official", "Unit", "in_config_order"]


def in_config_order(names: Iterable[str], order: Sequence[str]) -> list[str]:
    """`names` (each once) in the office's order: those the config lists (units in their 机构序列,
    officials by rank) in the config's order, then any others in the order first given (the
    task list's order, e.g. for 专责小组, which the config does not list). Never by code point."""
    position = {name: i for i, name in enumerate(order)}
    given = list(dict.fromkeys(names))
    listed = sorted((n for n in given if n in position), key=position.__getitem__)
    return listed + [n for n in given if n not in position]


class Unit(Aggregate):
    """A 单位 with its chat channel and its liaisons (联络员)."""

    # The event classes the @event decorators below create (typed for dispatch and scans).
    Registered: ClassVar[type[DomainEvent]]
    ChannelChanged: ClassVar[type[DomainEvent]]
    LiaisonsChanged: ClassVar[type[DomainEvent]]
    Removed: ClassVar[type[DomainEvent]]
    Restored: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(name: str) -> UUID:
        return natural_id("unit", name)

    @event("Registered")
    def __init__(
        self, name: str, channel: str, liaisons: list[dict[str, str]], actor: str, at: dt.datetime
    ) -> None:
        self.name = name
        self.channel = channel
        self.liaisons = [dict(x) for x in liaisons]
        self.removed = False

    def reconcile(
        self, channel: str, liaisons: list[dict[str, str]], actor: str, at: dt.datetime
    ) -> None:
        if self.removed:
            self._restored(name=self.name, actor=actor, at=at)
        if channel != self.channel:
            self._channel_changed(channel=channel, previous=self.channel, actor=actor, at=at)
        wanted = [dict(x) for x in liaisons]
        if wanted != self.liaisons:
            self._liaisons_changed(liaisons=wanted, previous=self.liaisons, actor=actor, at=at)

    @event("ChannelChanged")
    def _channel_changed(self, channel: str, previous: str, actor: str, at: dt.datetime) -> None:
        self.channel = channel

    @event("LiaisonsChanged")
    def _liaisons_changed(
        self,
        liaisons: list[dict[str, str]],
        previous: list[dict[str, str]],
        actor: str,
        at: dt.datetime,
    ) -> None:
        self.liaisons = [dict(x) for x in liaisons]

    def remove(self, actor: str, at: dt.datetime) -> None:
        """The unit is no longer in the config's directory (recorded once)."""
        if not self.removed:
            self._removed(name=self.name, liaisons=self.liaisons, actor=actor, at=at)

    @event("Removed")
    def _removed(
        self, name: str, liaisons: list[dict[str, str]], actor: str, at: dt.datetime
    ) -> None:
        self.removed = True

    @event("Restored")
    def _restored(self, name: str, actor: str, at: dt.datetime) -> None:
        self.removed = False


class Official(Aggregate):
    """A 领衔领导: escalations of the tasks they lead reach them."""

    # The event classes the @event decorators below create (typed for dispatch and scans).
    Registered: ClassVar[type[DomainEvent]]
    Changed: ClassVar[type[DomainEvent]]
    Removed: ClassVar[type[DomainEvent]]
    Restored: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(name: str) -> UUID:
        return natural_id("official", name)

    @event("Registered")
    def __init__(
        self, name: str, title: str, mobile: str, channel: str, actor: str, at: dt.datetime
    ) -> None:
        self.name = name
        self.title = title
        self.mobile = mobile
        self.channel = channel
        self.removed = False

    def reconcile(self, title: str, mobile: str, channel: str, actor: str, at: dt.datetime) -> None:
        if self.removed:
            self._restored(name=self.name, actor=actor, at=at)
        wanted = {"title": title, "mobile": mobile, "channel": channel}
        current = {"title": self.title, "mobile": self.mobile, "channel": self.channel}
        if wanted != current:
            self._changed(changes=wanted, previous=current, actor=actor, at=at)

    @event("Changed")
    def _changed(
        self, changes: dict[str, str], previous: dict[str, str], actor: str, at: dt.datetime
    ) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    def remove(self, actor: str, at: dt.datetime) -> None:
        """The official is no longer in the config's directory (recorded once)."""
        if not self.removed:
            self._removed(name=self.name, actor=actor, at=at)

    @event("Removed")
    def _removed(self, name: str, actor: str, at: dt.datetime) -> None:
        self.removed = True

    @event("Restored")
    def _restored(self, name: str, actor: str, at: dt.datetime) -> None:
        self.removed = False


class ChannelRecord(Aggregate):
    """A chat channel as far as the audit needs it: platform, public host, key fingerprint."""

    # The event classes the @event decorators below create (typed for dispatch and scans).
    Configured: ClassVar[type[DomainEvent]]
    Reconfigured: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(name: str) -> UUID:
        return natural_id("channel", name)

    @event("Configured")
    def __init__(self, name: str, settings: dict[str, Any], actor: str, at: dt.datetime) -> None:
        self.name = name
        self.settings = dict(settings)

    def reconcile(self, settings: dict[str, Any], actor: str, at: dt.datetime) -> None:
        if dict(settings) != self.settings:
            self._reconfigured(settings=dict(settings), previous=self.settings, actor=actor, at=at)

    @event("Reconfigured")
    def _reconfigured(
        self, settings: dict[str, Any], previous: dict[str, Any], actor: str, at: dt.datetime
    ) -> None:
        self.settings = dict(settings)
