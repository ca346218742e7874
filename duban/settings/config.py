"""The admin's TOML config, validated by pydantic: every problem is named at start, all at once."""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "Config",
    "ConfigError",
    "load_config",
    "parse_config",
    "register_check",
    "resolve_config_path",
]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Platform = Literal["wecom", "dingtalk", "feishu", "console"]
_MOBILE = re.compile(r"^1\d{10}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ConfigError(Exception):
    """The config file cannot be used; `problems` names every offending key."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"invalid config {path}:\n  " + "\n  ".join(problems))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Liaison(_Section):
    name: Name
    mobile: str

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str) -> str:
        if not _MOBILE.match(value):
            raise ValueError("mobile must be an 11-digit mainland number starting with 1")
        return value


class Channel(_Section):
    """A group chat and its robot(s). Several webhooks spread the platform's rate limit."""

    name: Name
    platform: Platform
    webhook: SecretStr | None = None
    extra_webhooks: tuple[SecretStr, ...] = ()
    secret: SecretStr | None = None
    secret_env: str | None = None
    keyword: str = ""

    @model_validator(mode="after")
    def _webhook_needed(self) -> Channel:
        if self.platform != "console" and self.webhook is None:
            raise ValueError(f"channel {self.name!r}: platform {self.platform} needs a webhook")
        if self.secret_env is not None and self.secret_env not in os.environ:
            raise ValueError(f"channel {self.name!r}: environment variable {self.secret_env} unset")
        return self

    def secret_value(self) -> str | None:
        if self.secret is not None:
            return self.secret.get_secret_value()
        if self.secret_env is not None:
            return os.environ[self.secret_env]
        return None

    def webhooks(self) -> list[str]:
        hooks = [self.webhook, *self.extra_webhooks] if self.webhook else []
        return [h.get_secret_value() for h in hooks if h is not None]


class Unit(_Section):
    name: Name
    channel: Name
    liaisons: tuple[Liaison, ...] = ()


class Official(_Section):
    name: Name
    title: str = ""
    mobile: str = ""
    channel: Name


class Office(_Section):
    name: Name = "县委改革办"
    channel: Name = "office"
    leaders_channel: Name = "leaders"


class WorkingHours(_Section):
    start: str = "09:00"
    end: str = "18:00"

    @model_validator(mode="after")
    def _order(self) -> WorkingHours:
        for value in (self.start, self.end):
            if not _HHMM.match(value):
                raise ValueError(f"{value!r} is not HH:MM")
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self

    def times(self) -> tuple[dt.time, dt.time]:
        return dt.time.fromisoformat(self.start), dt.time.fromisoformat(self.end)


class CalendarOverrides(_Section):
    extra_holidays: tuple[dt.date, ...] = ()
    extra_workdays: tuple[dt.date, ...] = ()


class RungConfig(_Section):
    name: Name
    offset: int = Field(ge=-60, le=120)
    audience: tuple[Literal["lead_unit", "co_units", "official", "office", "leaders"], ...]
    mention: bool = False
    marks_assessment: bool = False


class LadderConfig(_Section):
    repeat_every: int = Field(default=3, ge=0, le=60)
    rungs: tuple[RungConfig, ...] | None = None  # None: the default ladder of PRODUCT rule 3


class Schedules(_Section):
    """Cron expressions in standard crontab numbering (0 and 7 are Sunday)."""

    sweep: str = "*/15 9-17 * * 1-5"
    deliver: str = "* 9-18 * * 1-5"
    report_round: str = "0 9 1 * *"
    monthly_report: str = "0 10 3 * *"
    quarterly_report: str = "0 10 5 1,4,7,10 *"
    annual_assessment: str = "0 10 10 1 *"
    chain_head: str = "30 17 * * 1-5"


class ReportRound(_Section):
    """月度报送轮次: opens on the schedule above, due this many working days later."""

    due_working_days: int = Field(default=5, ge=1, le=20)
    remind_before: int = Field(default=1, ge=0, le=10)


class Delivery(_Section):
    max_attempts: int = Field(default=8, ge=1, le=50)
    backoff_base_s: float = Field(default=30.0, gt=0)
    backoff_max_s: float = Field(default=3600.0, gt=0)
    timeout_s: float = Field(default=10.0, gt=0)


class Lights(_Section):
    """红黄绿灯 thresholds (the rules are in projections/board.py and the README)."""

    due_within_working_days: int = Field(default=5, ge=0, le=60)
    report_gap_days: int = Field(default=30, ge=1, le=366)
    red_rungs: tuple[str, ...] = ("supervise", "bulletin")


class Assessment(_Section):
    base: float = 100.0
    lead_on_time: float = 2.0
    co_on_time: float = 1.0
    lead_late: float = -5.0
    co_late: float = -2.5
    report_late: float = -0.1
    report_missing: float = -0.5
    supervise: float = -1.0
    bulletin: float = -2.0
    recognition_national: float = 3.0
    recognition_provincial: float = 2.0
    recognition_municipal: float = 1.0
    recognition_county: float = 0.0


class Config(_Section):
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
    assessment: Assessment = Assessment()

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

    def unit(self, name: str) -> Unit | None:
        return next((u for u in self.units if u.name == name), None)

    def official(self, name: str) -> Official | None:
        return next((o for o in self.officials if o.name == name), None)

    def reference_problems(self) -> list[str]:
        """Cross-references pydantic cannot see: channels named but not defined, duplicates."""
        problems: list[str] = []
        names = [c.name for c in self.channels]
        problems += [f"channels: duplicate name {n!r}" for n in _duplicates(names)]
        problems += [
            f"units: duplicate name {n!r}" for n in _duplicates([u.name for u in self.units])
        ]
        refs = [
            ("office.channel", self.office.channel),
            ("office.leaders_channel", self.office.leaders_channel),
        ]
        refs += [(f"units[{i}].channel", u.channel) for i, u in enumerate(self.units)]
        refs += [(f"officials[{i}].channel", o.channel) for i, o in enumerate(self.officials)]
        problems += [f"{key}: no channel named {name!r}" for key, name in refs if name not in names]
        return problems


def _duplicates(values: list[str]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


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
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(source, [_describe(e) for e in exc.errors()]) from None
    problems = config.reference_problems() + _extra_problems(config)
    if problems:
        raise ConfigError(source, problems)
    return config


def _describe(error: Any) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
    return f"{where or '(top)'}: {error['msg']}"


# Checks contributed by other layers (ladder, cron) are registered here at import time so that
# the config stays the single place that says "this file is invalid, and why".
_EXTRA_CHECKS: list[Any] = []


def register_check(check: Any) -> None:
    _EXTRA_CHECKS.append(check)


def _extra_problems(config: Config) -> list[str]:
    problems: list[str] = []
    for check in _EXTRA_CHECKS:
        problems += check(config)
    return problems
