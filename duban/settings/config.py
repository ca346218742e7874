"""The admin's TOML config, validated by pydantic: every problem is named at start, all at once.

`Config` validates itself completely when parsed, whoever imports it: besides each section's
field rules (`duban.settings.sections`) it checks what the running system would trip over, with
the code that will use it: the channels the sections name, the ladder (`domain.ladder`), every
schedule (`scheduler.triggers`) and the admin's digest templates (`notifiers.render`). Each problem
names its key path as the admin wrote it, then says in Chinese what is wrong (pydantic's messages
translated by `duban.settings.validation_messages`): 「[[units]] 第1项 channel：……」,
「[ladder] rungs 第3项：……」, 「[schedules] sweep：……」, 「templates：……」.
"""

from __future__ import annotations

import os
import re
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
    Web,
    WorkingHours,
)
from duban.settings.validation_messages import translate

__all__ = [
    "SCHEDULE_NAMES",
    "Assessment",
    "Channel",
    "Config",
    "ConfigError",
    "LadderConfig",
    "RungConfig",
    "Schedules",
    "key_path",
    "load_config",
    "parse_config",
    "resolve_config_path",
]


class ConfigError(Exception):
    """The config file cannot be used; `problems` names every offending key, in Chinese
    (「[[units]] 第3项 channel：没有名为「czj」的群」: the key path as the admin wrote it)."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "".join(f"\n  配置错误：{problem}" for problem in problems)
        named = f" {path} " if path else ""
        super().__init__(f"配置文件{named}无法使用（{len(problems)}处错误）：{lines}")


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
    web: Web = Web()
    assessment: Assessment = Assessment()
    documents: Documents = Documents()
    imports: ImportRules = Field(default=ImportRules(), alias="import")  # [import]

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"未知的时区「{value}」（如 Asia/Shanghai）") from exc
        return value

    @field_validator("store")
    @classmethod
    def _store(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("存储地址应以 sqlite:/// 或 postgresql:// 开头")
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
            *self._user_problems(),
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
            (("channels",), f"群名称「{n}」重复") for n in _duplicates(names)
        ]
        problems += [
            (("units",), f"单位名称「{n}」重复") for n in _duplicates([u.name for u in self.units])
        ]
        refs: list[tuple[Loc, str]] = [
            (("office", "channel"), self.office.channel),
            (("office", "leaders_channel"), self.office.leaders_channel),
        ]
        refs += [(("units", i, "channel"), u.channel) for i, u in enumerate(self.units)]
        refs += [(("officials", i, "channel"), o.channel) for i, o in enumerate(self.officials)]
        problems += [
            (key, f"没有名为「{name}」的群（[[channels]] 中未定义）")
            for key, name in refs
            if name not in names
        ]
        return problems

    def _user_problems(self) -> list[Problem]:
        """A platform user id (`users`) bound to two people: a reply could not say who wrote it."""
        bound: dict[str, str] = {}
        problems: list[Problem] = []
        people: list[tuple[Loc, str, tuple[str, ...]]] = [
            (("units", i, "liaisons", j, "users"), f"{unit.name} {x.name}", x.users)
            for i, unit in enumerate(self.units)
            for j, x in enumerate(unit.liaisons)
        ]
        people += [
            (("officials", i, "users"), f"领衔领导 {o.name}", o.users)
            for i, o in enumerate(self.officials)
        ]
        for key, person, users in people:
            for user in users:
                first = bound.setdefault(user, person)
                if first != person:
                    problems.append((key, f"用户号「{user}」已绑定{first}，不能再绑定{person}"))
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
    except OSError:
        return [(("templates",), f"模板目录「{templates}」不存在或无法读取")]
    except TemplateError as exc:
        return [(("templates",), _template_message(exc, templates))]
    return []


def _template_message(exc: Exception, templates: str) -> str:
    """A template that does not compile: which file and line (jinja's own text is English)."""
    name = getattr(exc, "name", None) or getattr(exc, "filename", None)
    line = getattr(exc, "lineno", None)
    where = f"「{name}」" if name else f"目录「{templates}」中的模板"
    at = f"第{line}行" if line else ""
    return f"模板{where}{at}有语法错误，无法编译"


def resolve_config_path(explicit: str | None) -> Path:
    """--config PATH, else $DUBAN_CONFIG, else ./duban.toml."""
    return Path(explicit or os.environ.get("DUBAN_CONFIG") or "duban.toml")


def load_config(path: Path) -> Config:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(str(path), ["找不到配置文件"]) from exc
    except OSError as exc:
        raise ConfigError(str(path), [f"无法读取配置文件（{exc.strerror or '读取失败'}）"]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), ["配置文件不是 UTF-8 编码，请另存为 UTF-8 后重试"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [_toml_message(exc)]) from exc
    return parse_config(raw, str(path))


_AT = re.compile(r"\(at line (?P<line>\d+), column (?P<column>\d+)\)")


def _toml_message(exc: tomllib.TOMLDecodeError) -> str:
    """Where the TOML syntax is broken (tomllib says why in English: not shown)."""
    found = _AT.search(str(exc))
    at = f"第{found['line']}行第{found['column']}列附近" if found else ""
    return f"不是有效的 TOML 格式：{at}有语法错误（检查引号、等号和方括号是否成对）"


def parse_config(raw: dict[str, Any], source: str = "") -> Config:
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems = translate(exc.errors(), {}, codes=True)
        raise ConfigError(source, [_describe(p["loc"], p["message"]) for p in problems]) from None


def _describe(loc: Loc, message: str) -> str:
    """「[[units]] 第3项 channel：……」: the key path as the admin wrote it, then what is wrong."""
    return f"{key_path(loc)}：{message}"


_ARRAYS = frozenset({"channels", "units", "officials"})


def key_path(loc: Loc) -> str:
    """A pydantic loc as the TOML the admin wrote: `[[units]] 第3项 channel`, `[schedules]
    sweep`, `[ladder] rungs 第2项 offset`, `timezone` (「配置文件整体」 for the file itself)."""
    parts = [p for p in loc if isinstance(p, int) or _KEY.match(p)]
    if not parts:
        return "配置文件整体"
    head, *rest = parts
    words: list[str] = []
    if head in _ARRAYS:
        words.append(f"[[{head}]]")
    elif head in _TABLES:
        words.append(f"[{head}]")
    else:
        words.append(str(head))
    words += [f"第{p + 1}项" if isinstance(p, int) else p for p in rest]
    return " ".join(words)


_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


_TABLES = frozenset(
    (field.alias or name)
    for name, field in Config.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, Section)
)
"""The config's `[table]` sections (their TOML names: `[import]`)."""
