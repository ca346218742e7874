"""The directory reconciled from the config: units and their liaisons, officials, chat channels,
and the calendar overrides (`[calendar] extra_holidays / extra_workdays`).

`duban init` records what the config says about who is told what (`domain.directory`), so that
the audit trail shows when a liaison, an official or a channel changed. Part of the `Ledger`.

The config's directory is also the source of truth for access tokens (`token_directory`): a
unit or an official that left the config is recorded as removed, and every token still bound
to it (or to a liaison no longer listed) is revoked in the same transaction, with the reason,
so the audit shows who lost access and when.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any
from urllib.parse import urlsplit

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from domain.directory import ChannelRecord, Official, Unit
from domain.holiday_notice import CalendarOverrides
from domain.roles import Identity, authorize
from domain.token import AccessToken, TokenDirectory, token_aggregate_id
from duban.app.ledger_base import LedgerBase
from duban.settings.config import Config

__all__ = ["DirectoryRecords", "channel_settings", "token_directory"]


class DirectoryRecords(LedgerBase):
    """The ledger's directory commands."""

    def reconcile_directory(self, config: Config, who: Identity) -> int:
        """Record config changes that affect who is told what; returns the number of events."""
        authorize(who, "admin")
        at = self.clock()
        aggregates: list[Aggregate] = []
        for unit in config.units:
            liaisons = [{"name": x.name, "mobile": x.mobile} for x in unit.liaisons]
            aggregates.append(self._unit(unit.name, unit.channel, liaisons, who, at))
        for o in config.officials:
            aggregates.append(self._official(o.name, o.title, o.mobile, o.channel, who, at))
        for channel in config.channels:
            aggregates.append(self._channel(channel.name, channel_settings(channel), who, at))
        aggregates += self._removed(config, who, at)
        aggregates += self._unbound_tokens(token_directory(config), who, at)
        overrides = self._calendar_overrides(config, who, at)
        if overrides is not None:
            aggregates.append(overrides)
        pending = [a for a in aggregates if a.pending_events]
        count = sum(len(a.pending_events) for a in pending)
        if pending:
            self.save(*pending)
        return count

    def _removed(self, config: Config, who: Identity, at: dt.datetime) -> list[Aggregate]:
        """The recorded units and officials the config no longer lists, marked removed."""
        found: list[Aggregate] = []
        units = {u.name for u in config.units}
        officials = {o.name for o in config.officials}
        for cls, keep in ((Unit, units), (Official, officials)):
            names = dict.fromkeys(e.name for _, e in self.events_of(cls.Registered))
            for name in names:
                if name not in keep:
                    record: Unit | Official = self.repository.get(cls.create_id(name))
                    record.remove(who.actor, at)
                    found.append(record)
        return found

    def _unbound_tokens(
        self, directory: TokenDirectory, who: Identity, at: dt.datetime
    ) -> list[Aggregate]:
        """Every unrevoked token the directory no longer backs, revoked with the reason."""
        found: list[Aggregate] = []
        for _, issued in self.events_of(AccessToken.Issued):
            token: AccessToken = self.repository.get(token_aggregate_id(issued.token_id))
            refusal = directory.refusal(token.role, token.name, token.unit)
            if refusal is not None and not token.revoked:
                token.revoke(f"名录变更：{refusal}，令牌随之失效", who.actor, at)
                found.append(token)
        return found

    def _calendar_overrides(
        self, config: Config, who: Identity, at: dt.datetime
    ) -> CalendarOverrides | None:
        """The config's `[calendar]` extra days, recorded when first set and on every change
        (nothing is recorded while a store has never had any)."""
        holidays = sorted(d.isoformat() for d in config.calendar.extra_holidays)
        workdays = sorted(d.isoformat() for d in config.calendar.extra_workdays)
        try:
            record: CalendarOverrides = self.repository.get(CalendarOverrides.create_id())
        except AggregateNotFoundError:
            if not holidays and not workdays:
                return None
            return CalendarOverrides(
                extra_holidays=holidays, extra_workdays=workdays, actor=who.actor, at=at
            )
        record.reconcile(holidays, workdays, who.actor, at)
        return record

    def _unit(
        self,
        name: str,
        channel: str,
        liaisons: list[dict[str, str]],
        who: Identity,
        at: dt.datetime,
    ) -> Unit:
        try:
            unit: Unit = self.repository.get(Unit.create_id(name))
        except AggregateNotFoundError:
            return Unit(name=name, channel=channel, liaisons=liaisons, actor=who.actor, at=at)
        unit.reconcile(channel, liaisons, who.actor, at)
        return unit

    def _official(
        self, name: str, title: str, mobile: str, channel: str, who: Identity, at: dt.datetime
    ) -> Official:
        try:
            official: Official = self.repository.get(Official.create_id(name))
        except AggregateNotFoundError:
            return Official(
                name=name, title=title, mobile=mobile, channel=channel, actor=who.actor, at=at
            )
        official.reconcile(title, mobile, channel, who.actor, at)
        return official

    def _channel(
        self, name: str, settings: dict[str, Any], who: Identity, at: dt.datetime
    ) -> ChannelRecord:
        try:
            record: ChannelRecord = self.repository.get(ChannelRecord.create_id(name))
        except AggregateNotFoundError:
            return ChannelRecord(name=name, settings=settings, actor=who.actor, at=at)
        record.reconcile(settings, who.actor, at)
        return record


def token_directory(config: Config) -> TokenDirectory:
    """Whom tokens may be bound to, as the config says: its units' liaisons, its officials."""
    return TokenDirectory(
        units={u.name: frozenset(x.name for x in u.liaisons) for u in config.units},
        officials=frozenset(o.name for o in config.officials),
    )


def channel_settings(channel: Any) -> dict[str, Any]:
    """What the audit may know about a channel: never the key, token or secret."""
    hooks: list[str] = channel.webhooks()
    return {
        "platform": channel.platform,
        "hosts": sorted({urlsplit(h).netloc for h in hooks}),
        "robots": [hashlib.sha256(h.encode()).hexdigest()[:12] for h in hooks],
        "signed": channel.secret is not None or channel.secret_env is not None,
        # A fingerprint, so that rotating only the signing secret is recorded too.
        "secret": _fingerprint(channel.secret_value()),
        "keyword": channel.keyword,
    }


def _fingerprint(secret: str | None) -> str | None:
    return None if secret is None else hashlib.sha256(secret.encode()).hexdigest()[:12]
