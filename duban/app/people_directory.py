"""Finding people: the config's directory (liaisons, officials) and the stored records.

`PeopleRecords` is the read side `PeopleRegistry` is built on: who a name, mobile or login
means, and the one small read of a person, a session or an invitation by its id. Liaisons and
officials come from the directory (a `Person` is recorded when they are first invited); the
office adds its own staff and auditors.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.person import Invitation, Person, PersonError, WebSession
from domain.roles import Identity
from domain.token import TokenDirectory
from duban.app.ledger import Ledger
from duban.app.reconcile import token_directory
from duban.settings.config import Config

__all__ = ["PeopleRecords"]


class PeopleRecords:
    """Lookups by name, mobile, login or id; nothing here writes."""

    def __init__(self, ledger: Ledger, config: Config) -> None:
        self.ledger = ledger
        self.config = config
        self.directory: TokenDirectory = token_directory(config)

    def _refusal(self, who: Identity) -> str | None:
        """Why the directory no longer lets `who` in (a liaison or an official), or None."""
        if who.role in ("liaison", "official"):
            return self.directory.refusal(who.role, who.name, who.unit)
        return None

    def _person_for(self, spec: str, who: Identity) -> Person:
        """The person `spec` names; a directory entry invited for the first time is created."""
        found = self._find(spec)
        if found is not None:
            return found
        entry = self._directory_entry(spec)
        if entry is None:
            raise PersonError(
                f"名录中没有「{spec}」：请写联络员的姓名或手机号、领衔领导的姓名，"
                "或用 duban person add 添加的登录名"
            )
        identity, login = entry
        return self._new_person(identity, login, who, "首次邀请，来自名录")

    def _find(self, spec: str) -> Person | None:
        entry = self._directory_entry(spec)
        if entry is not None:
            return self._get(entry[0].actor)
        return self._by_login(spec)

    def _directory_entry(self, spec: str) -> tuple[Identity, str] | None:
        """(identity, login) of the liaison or official `spec` names; a name two units share
        must be given as the mobile."""
        spec = spec.strip()
        found: list[tuple[Identity, str]] = []
        for unit in self.config.units:
            for liaison in unit.liaisons:
                if spec in (liaison.name, liaison.mobile):
                    who = Identity(role="liaison", name=liaison.name, unit=unit.name)
                    found.append((who, liaison.mobile))
        for official in self.config.officials:
            if spec == official.name or (official.mobile and spec == official.mobile):
                found.append(
                    (
                        Identity(role="official", name=official.name),
                        official.mobile or official.name,
                    )
                )
        if len(found) > 1:
            units = "、".join(who.unit or "领衔领导" for who, _ in found)
            raise PersonError(f"名录中有多位「{spec}」（{units}），请改用手机号")
        return found[0] if found else None

    def _directory_login(self, login: str) -> Identity | None:
        try:
            entry = self._directory_entry(login)
        except PersonError:
            return None
        return entry[0] if entry else None

    def _new_person(self, identity: Identity, login: str, who: Identity, reason: str) -> Person:
        return Person(
            actor_key=identity.actor, role=identity.role, name=identity.name, unit=identity.unit,
            login=login, actor=who.actor, at=self.ledger.clock(), reason=reason,
        )  # fmt: skip

    def _by_login(self, login: str) -> Person | None:
        entry = self._directory_login(login)
        if entry is not None:
            return self._get(entry.actor)
        for person in self._people():
            if person.login == login:
                return person
        return None

    def _people(self) -> list[Person]:
        keys = dict.fromkeys(added.actor_key for _, added in self.ledger.events_of(Person.Added))
        return [p for p in (self._get(key) for key in keys) if p is not None]

    def _sessions(self) -> list[WebSession]:
        ids = [opened.session_id for _, opened in self.ledger.events_of(WebSession.Opened)]
        return [s for s in (self._session(i) for i in ids) if s is not None]

    def _get(self, actor_key: str) -> Person | None:
        found = self._read(Person.create_id(actor_key))
        return found if isinstance(found, Person) else None

    def _session(self, session_id: str) -> WebSession | None:
        found = self._read(WebSession.create_id(session_id))
        return found if isinstance(found, WebSession) else None

    def _invitation(self, invitation_id: str) -> Invitation | None:
        found = self._read(Invitation.create_id(invitation_id))
        return found if isinstance(found, Invitation) else None

    def _read(self, aggregate_id: UUID) -> object:
        try:
            found: object = self.ledger.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found
