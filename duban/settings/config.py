"""The admin's TOML config, validated by pydantic: every problem is named at start, all at once.

`Config` validates itself completely when parsed, whoever imports it: besides each section's
field rules (`duban.settings.sections`) it checks what the running system would trip over, with
the code that will use it: the channels the sections name, the ladder (`domain.ladder`), every
schedule (`scheduler.triggers`) and the admin's digest templates (`notifiers.render`). Each problem
names its key: `units[0].channel: …`, `ladder.rungs[2]: …`, `schedules.sweep: …`, `templates: …`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from duban.settings.documents import Documents
from duban.settings.imports import ImportRules
from duban.settings.sections import (
    SCHEDULE_NAMES,
    Assessment,
    CalendarOverrides,
    Channel,
    Delivery,
    Http,
    LadderConfig,
    Lights,
    Loc,
    Office,
    Official,
    Problem,
    ReportRound,
    RungConfig,
    Schedules,
    Section,
    Unit,
    WorkingHours,
)

__all__ = [
    "SCHEDULE_NAMES",
    "Assessment",
    "Channel",
    "Config",
    "ConfigError",
    "LadderConfig",
    "RungConfig",
    "Schedules",
    "load_config",
    "parse_config",
    "resolve_config_path",
]


class ConfigError(Exception):
    """The config file cannot be used; `problems` names every offending key."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"invalid config {path}:\n  " + "\n  ".join(problems))


class Config(Section):
    timezone: str = "Asia/Shanghai"
    store: str = "sqlite:///var/duban.db"
    allowed_webhook_hosts: tuple[str, ...] = ()
    templates: str | None = None
    office: Office = Office()
    channels: tuple[Channel, ...] = ()
    units: tuple[Unit, ...] = ()
    officials: tuple[Official, ...] = ()
    working_hours: WorkingHours = WorkingHours()
    calendar: CalendarOverrides = CalendarOverrides()
    ladder: LadderConfig = LadderConfig()
    schedules: Schedules = Schedules()
    report_round: ReportRound = ReportRound()
    lights: Lights = Lights()
    delivery: Delivery = Delivery()
    http: Http = Http()
    assessment: Assessment = Assessment()
    documents: Documents = Documents()
    imports: ImportRules = Field(default=ImportRules(), alias="import")  # [import]

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("store")
    @classmethod
    def _store(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("store must be sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def channel(self, name: str) -> Channel:
        return next(c for c in self.channels if c.name == name)

    @model_validator(mode="after")
    def _usable(self) -> Config:
        """What the field rules cannot see: cross-references, the ladder, crons, templates."""
        problems = [
            *self._reference_problems(),
            *[(("ladder", *loc), why) for loc, why in self.ladder.problems()],
            *_template_problems(self.templates),
            *[(("schedules", *loc), why) for loc, why in self.schedules.problems(self.tz)],
        ]
        if problems:
            details = [
                InitErrorDetails(type=PydanticCustomError("config", message), loc=loc, input=None)
                for loc, message in problems
            ]
            raise ValidationError.from_exception_data(type(self).__name__, details)
        return self

    def _reference_problems(self) -> list[Problem]:
        """Channels named but not defined, duplicate names."""
        names = [c.name for c in self.channels]
        problems: list[Problem] = [
            (("channels",), f"duplicate name {n!r}") for n in _duplicates(names)
        ]
        problems += [
            (("units",), f"duplicate name {n!r}") for n in _duplicates([u.name for u in self.units])
        ]
        refs: list[tuple[Loc, str]] = [
            (("office", "channel"), self.office.channel),
            (("office", "leaders_channel"), self.office.leaders_channel),
        ]
        refs += [(("units", i, "channel"), u.channel) for i, u in enumerate(self.units)]
        refs += [(("officials", i, "channel"), o.channel) for i, o in enumerate(self.officials)]
        problems += [(key, f"no channel named {name!r}") for key, name in refs if name not in names]
        return problems


def _duplicates(values: list[str]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


def _template_problems(templates: str | None) -> list[Problem]:
    """`templates` and why when the admin's digest templates are missing or do not compile."""
    if templates is None:
        return []
    from jinja2 import TemplateError  # only when the admin has templates: keeps start-up fast

    from notifiers.render import Renderer

    try:
        Renderer(Path(templates))
    except (OSError, TemplateError) as exc:
        return [(("templates",), str(exc))]
    return []


def resolve_config_path(explicit: str | None) -> Path:
    """--config PATH, else $DUBAN_CONFIG, else ./duban.toml."""
    return Path(explicit or os.environ.get("DUBAN_CONFIG") or "duban.toml")


def load_config(path: Path) -> Config:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(str(path), ["file not found"]) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from exc
    return parse_config(raw, str(path))


def parse_config(raw: dict[str, Any], source: str = "<config>") -> Config:
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(source, [_describe(e) for e in exc.errors()]) from None


def _describe(error: Any) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
    return f"{where or '(top)'}: {error['msg']}"
