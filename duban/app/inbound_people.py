"""Who wrote a group message: the sender's organisation user id, bound in the config.

Each liaison and official may list `users` (DingTalk userid, Feishu user_id / open_id) beside
the mobile; the config refuses an id bound to two people, so an id names one person or nobody.
A liaison or official the directory no longer lists is nobody here either.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.roles import Identity
from duban.settings.config import Config

__all__ = ["SenderDirectory"]


class SenderDirectory:
    """User id → the liaison's or official's identity (built once per config)."""

    def __init__(self, config: Config) -> None:
        self._by_id: dict[str, Identity] = {}
        for unit in config.units:
            for liaison in unit.liaisons:
                for user in liaison.users:
                    self._by_id[user] = Identity(role="liaison", name=liaison.name, unit=unit.name)
        for official in config.officials:
            for user in official.users:
                self._by_id[user] = Identity(role="official", name=official.name)

    def identify(self, sender_ids: Iterable[str]) -> Identity | None:
        """The person the first bound id of the sender names, else None (a stranger)."""
        for sender in sender_ids:
            found = self._by_id.get(sender)
            if found is not None:
                return found
        return None
