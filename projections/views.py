"""All the read models of one store together: open them, catch them up, rebuild them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application

from domain.calendar import WorkingCalendar
from projections import runner
from projections.assessment import ReportStore, open_reports
from projections.audit import AuditTrail, open_audit
from projections.board import DEFAULT_RULES, Board, LightRules, open_board
from projections.chain import ChainProjection, open_chain

__all__ = ["NAMES", "Views", "open_views"]

NAMES = ("board", "audit", "chain", "reports")


@dataclass
class Views:
    board: Board
    audit: AuditTrail
    chain: ChainProjection
    reports: ReportStore

    def projections(self, names: Sequence[str] = NAMES) -> list[runner.Projection]:
        chosen: dict[str, runner.Projection] = {
            "board": self.board.projection,
            "audit": self.audit.projection,
            "chain": self.chain,
            "reports": self.reports.projection,
        }
        return [chosen[name] for name in names]

    def catch_up(
        self,
        app: Application[Any],
        names: Sequence[str] = NAMES,
        progress: runner.Progress | None = None,
    ) -> dict[str, int]:
        """Bring the named views up to the last stored event; their positions."""
        return {p.name: runner.catch_up(app, p, progress=progress) for p in self.projections(names)}

    def rebuild(
        self,
        app: Application[Any],
        names: Sequence[str] = NAMES,
        progress: runner.Progress | None = None,
    ) -> dict[str, int]:
        """Drop the named views and process every event again."""
        return {p.name: runner.rebuild(app, p, progress=progress) for p in self.projections(names)}


def open_views(
    app: Application[Any],
    calendar: WorkingCalendar | None = None,
    rules: LightRules = DEFAULT_RULES,
    chats: Mapping[str, str] | None = None,
) -> Views:
    """The views stored beside `app`'s events (same SQLite file / same PostgreSQL database);
    `chats`: the config's names of the chats, which the audit trail's texts use."""
    datastore = app.recorder.datastore  # type: ignore[attr-defined]
    return Views(
        open_board(datastore, calendar, rules),
        open_audit(datastore, chats),
        open_chain(datastore),
        open_reports(datastore),
    )
