"""The sections of the admin's config, each a pydantic model with its field rules.

The whole file (`duban.settings.config.Config`) checks what spans sections; the ladder and the
schedules say here what is wrong with them (`LadderConfig.problems`, `Schedules.problems`),
with the code that will use them (`domain.ladder`, `scheduler.triggers`).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from domain.dates import in_range, out_of_range_message
from domain.ladder import DEFAULT_LADDER, Audience, Ladder, LadderError, Rung
from domain.rungs import rung_label
from duban.settings.channels import Channel, Inbound
from duban.settings.section_base import Name, Section, UserId
from scheduler.cron import CronError
from scheduler.triggers import check_schedule

__all__ = [
    "SCHEDULE_NAMES",
    "Assessment",
    "CalendarOverrides",
    "Channel",
    "Delivery",
    "Http",
    "Inbound",
    "LadderConfig",
    "Liaison",
    "Lights",
    "Loc",
    "Name",
    "Office",
    "Official",
    "Problem",
    "ReportRound",
    "RungConfig",
    "Schedules",
    "Section",
    "Unit",
    "Web",
    "WorkingHours",
]

_MOBILE = re.compile(r"^1\d{10}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]
"""What the field rules cannot see: the key it is about (within the section) and what is wrong."""


class Liaison(Section):
    name: Name
    mobile: str
    users: tuple[UserId, ...] = ()  # DingTalk/Feishu user ids: replies from the group (issue 17)

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str) -> str:
        if not _MOBILE.match(value):
            raise ValueError("手机号应为以1开头的11位数字")
        return value


class Unit(Section):
    name: Name
    channel: Name
    liaisons: tuple[Liaison, ...] = ()


class Official(Section):
    name: Name
    title: str = ""
    mobile: str = ""
    channel: Name
    users: tuple[UserId, ...] = ()  # DingTalk/Feishu user ids, like a liaison's


class Office(Section):
    name: Name = "县委改革办"
    channel: Name = "office"
    leaders_channel: Name = "leaders"
    # What the units do, told to the office's chat (duban.app.submission_notices): extension
    # requests and completion submissions (they wait for the office), and claims and progress
    # reports (off by default: monthly reports of every task would crowd the chat).
    tell_requests: bool = True
    tell_receipts: bool = False


class WorkingHours(Section):
    start: str = "09:00"
    end: str = "18:00"

    @model_validator(mode="after")
    def _order(self) -> WorkingHours:
        for value in (self.start, self.end):
            if not _HHMM.match(value):
                raise ValueError(f"「{value}」不是有效时刻（应为 09:00 格式）")
        if self.start >= self.end:
            raise ValueError(f"上班时间 {self.start} 应早于下班时间 {self.end}")
        return self

    def times(self) -> tuple[dt.time, dt.time]:
        return dt.time.fromisoformat(self.start), dt.time.fromisoformat(self.end)


class CalendarOverrides(Section):
    extra_holidays: tuple[dt.date, ...] = ()
    extra_workdays: tuple[dt.date, ...] = ()

    @field_validator("extra_holidays", "extra_workdays")
    @classmethod
    def _in_range(cls, days: tuple[dt.date, ...]) -> tuple[dt.date, ...]:
        """Each date within the product's range (`domain.dates`), like every date input."""
        for day in days:
            if not in_range(day):
                raise PydanticCustomError("date_out_of_range", out_of_range_message(day))
        return days

    # How often a running `serve` / `scheduler run` looks for holiday notices imported since.
    follow_seconds: int = Field(default=60, ge=1, le=3600)


class RungConfig(Section):
    name: Name
    offset: int = Field(ge=-60, le=120)
    audience: tuple[Audience, ...]
    mention: bool = False
    marks_assessment: bool = False

    def rung(self, severity: int) -> Rung:
        """The ladder's rung; its Chinese label is the one of `domain.rungs` (else its name)."""
        return Rung(
            name=self.name,
            offset=self.offset,
            audience=frozenset(self.audience),
            mention=self.mention,
            marks_assessment=self.marks_assessment,
            severity=severity,
            label=rung_label(self.name),
        )


def _ordered(configured: tuple[RungConfig, ...]) -> tuple[Rung, ...]:
    """Rungs with severities 1, 2, … in offset order (severity is not configurable)."""
    by_offset = sorted(range(len(configured)), key=lambda i: configured[i].offset)
    severity = {index: rank + 1 for rank, index in enumerate(by_offset)}
    return tuple(rc.rung(severity[i]) for i, rc in enumerate(configured))


class LadderConfig(Section):
    repeat_every: int = Field(default=3, ge=0, le=60)
    rungs: tuple[RungConfig, ...] | None = None  # None: the default ladder of PRODUCT rule 3
    # A rung after the deadline waits this long after the one below reached the unit's chat.
    min_gap_working_days: int = Field(default=1, ge=1, le=60)
    # 签收: an assigned task must be claimed within this many working days (交办 says so too).
    claim_within_working_days: int = Field(default=3, ge=0, le=60)
    claim_rungs: tuple[RungConfig, ...] | None = None  # None: the default 签收 rungs

    def build(self) -> Ladder:
        """The ladder the config asks for: the default one unless `rungs` is given.

        Severity is not configurable: it follows the offset order, which is what `Ladder`
        requires anyway. Raises `LadderError` (a `ValueError`) for an invalid ladder, which
        a parsed config never holds.
        """
        rungs = DEFAULT_LADDER.rungs if self.rungs is None else _ordered(self.rungs)
        claim = (
            DEFAULT_LADDER.claim_rungs if self.claim_rungs is None else _ordered(self.claim_rungs)
        )
        return Ladder(
            rungs=rungs,
            repeat_every=self.repeat_every,
            min_gap=self.min_gap_working_days,
            claim_rungs=claim,
            claim_within=self.claim_within_working_days,
        )

    def problems(self) -> list[Problem]:
        """`rungs[i]` / `claim_rungs[i]` (or `repeat_every`) and why, if the ladder is invalid."""
        try:
            self.build()
        except LadderError as exc:
            return [(self._key(exc.rung), exc.message)]
        return []

    def _key(self, rung_name: str | None) -> Loc:
        """The key of the rung a `LadderError` names; a repeated name is its last use."""
        for section in ("claim_rungs", "rungs"):
            configured: tuple[RungConfig, ...] = getattr(self, section) or ()
            indexes = [i for i, rc in enumerate(configured) if rc.name == rung_name]
            if indexes:
                return (section, indexes[-1])
        if rung_name is None:
            return ("repeat_every",)
        return ("rungs",)


class Schedules(Section):
    """When each job runs: a working-day rule read against the office calendar (`every workday
    09:00`, `workday 1 of month 09:00`; see `scheduler.triggers`) or a plain crontab in
    standard numbering (0 and 7 are Sunday). The defaults follow the calendar: 调休 working
    weekend days are served, holidays are not."""

    sweep: str = "every workday 09:00-17:45/15m"
    deliver: str = "every workday 09:00-18:59/1m"
    report_round: str = "workday 1 of month 09:00"
    monthly_report: str = "workday 3 of month 10:00"
    quarterly_report: str = "workday 5 of quarter 10:00"
    annual_assessment: str = "workday 10 of year 10:00"
    chain_head: str = "every workday 17:30"
    calendar_watch: str = "every workday 10:00"

    def problems(self, tz: ZoneInfo) -> list[Problem]:
        """`<name>` and why for every schedule the scheduler could not run."""
        found: list[Problem] = []
        for name in SCHEDULE_NAMES:
            try:
                check_schedule(getattr(self, name), tz)
            except CronError as exc:
                found.append(((name,), exc.message))
        return found


SCHEDULE_NAMES: tuple[str, ...] = tuple(Schedules.model_fields)
"""Every schedule key, in the order the config declares them (also the job names)."""


class ReportRound(Section):
    """月度报送轮次: opens on the schedule above, due this many working days later."""

    due_working_days: int = Field(default=5, ge=1, le=20)
    remind_before: int = Field(default=1, ge=0, le=10)


class Delivery(Section):
    max_attempts: int = Field(default=8, ge=1, le=50)
    backoff_base_s: float = Field(default=30.0, gt=0)
    backoff_max_s: float = Field(default=3600.0, gt=0)
    timeout_s: float = Field(default=10.0, gt=0)


MIB = 1024 * 1024


class Http(Section):
    """`duban serve`'s limits on what a client may send, and how slowly (PRODUCT: bad input is
    refused, never a 500 or an exhausted server). Each value and its bounds below."""

    max_body_bytes: int = MIB  # a request body, except the task-list import
    max_import_bytes: int = 16 * MIB  # POST /api/v1/tasks/import (up to 5000 rows as JSON)
    body_timeout_s: float = 30.0  # the whole body must have arrived by then (else 408)
    header_timeout_s: float = 10.0  # a new connection's request headers, likewise (closed)
    keep_alive_s: int = 5  # an idle kept-alive connection is closed after this
    max_connections: int = 200  # beyond this, new requests get 503

    @field_validator("*")
    @classmethod
    def _within(cls, value: float, info: ValidationInfo) -> float:
        low, high = _HTTP_BOUNDS[str(info.field_name)]
        if not low <= value <= high:
            raise ValueError(f"须在 {_shown(low)} 到 {_shown(high)} 之间（当前为 {_shown(value)}）")
        return value

    @model_validator(mode="after")
    def _import_at_least_body(self) -> Http:
        if self.max_import_bytes < self.max_body_bytes:
            raise ValueError("max_import_bytes 不能小于 max_body_bytes（导入请求比普通请求大）")
        return self


def _shown(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


_HTTP_BOUNDS: dict[str, tuple[float, float]] = {
    "max_body_bytes": (1024, 64 * MIB),
    "max_import_bytes": (1024, 256 * MIB),
    "body_timeout_s": (0.1, 600),
    "header_timeout_s": (0.1, 600),
    "keep_alive_s": (1, 300),
    "max_connections": (1, 10000),
}


class Web(Section):
    """The web workspace (`duban serve`): where its links point, who may see the board, how long
    a sign-in lasts, and what an evidence upload may be."""

    public_url: str | None = None  # e.g. https://duban.example.gov.cn: links in every message
    public_board: bool = False  # true: the board (lights, titles, units, dates only) is open
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    invitation_hours: int = Field(default=72, ge=1, le=24 * 30)
    signin_attempts: int = Field(default=5, ge=1, le=1000)  # per person and address, per window
    signin_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    max_upload_bytes: int = Field(default=20 * MIB, ge=1024, le=512 * MIB)  # one file
    max_files: int = Field(default=10, ge=1, le=100)  # files on one form
    evidence_dir: str | None = None  # SQLite: where files are kept (default: beside the store)

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", value):
            raise ValueError(
                "须是 http:// 或 https:// 开头的网址（如 https://duban.example.gov.cn）"
            )
        return value

    @property
    def max_request_bytes(self) -> int:
        """A multipart form may carry `max_files` files of the largest size, and its fields."""
        return self.max_upload_bytes * self.max_files + MIB


class Lights(Section):
    """红黄绿灯 thresholds (the rules are in projections/board.py and the README)."""

    due_within_working_days: int = Field(default=5, ge=0, le=60)
    report_gap_days: int = Field(default=30, ge=1, le=366)
    red_rungs: tuple[str, ...] = ("supervise", "bulletin")


class Assessment(Section):
    base: float = 100.0
    lead_on_time: float = 2.0
    co_on_time: float = 1.0
    lead_late: float = -5.0
    co_late: float = -2.5
    lead_overdue: float = -5.0
    co_overdue: float = -2.5
    report_late: float = -0.1
    report_missing: float = -0.5
    supervise: float = -1.0
    bulletin: float = -2.0
    instruction_unanswered: float = -1.0
    measure_interview: float = -2.0
    measure_criticism: float = -3.0
    measure_accountability: float = -5.0
    recognition_national: float = 3.0
    recognition_provincial: float = 2.0
    recognition_municipal: float = 1.0
    recognition_county: float = 0.0
