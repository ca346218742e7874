"""Config checks the pydantic models cannot express: the ladder and every schedule's crontab.

Both are validated by the code that will use them (``domain.ladder``, ``scheduler.cron``), so
the config is refused at start for exactly the reasons the running system would trip over,
with the offending key named (``ladder.rungs[2]: …``, ``schedules.sweep: …``). The checks are
registered with ``duban.settings.config.register_check`` when this module is imported; the scheduler
imports it, and so should the composition root, so that every command sees them.
"""

from __future__ import annotations

from pathlib import Path

from domain.ladder import DEFAULT_LADDER, Ladder, LadderError, Rung
from domain.rungs import rung_label
from duban.settings.config import Config, RungConfig, Schedules, register_check
from scheduler.cron import CronError, parse_cron

__all__ = [
    "SCHEDULE_NAMES",
    "build_ladder",
    "ladder_problems",
    "schedule_problems",
    "template_problems",
]

SCHEDULE_NAMES: tuple[str, ...] = tuple(Schedules.model_fields)
"""Every schedule key, in the order the config declares them (also the job names)."""


def build_ladder(config: Config) -> Ladder:
    """The ladder the config asks for: the default one unless ``ladder.rungs`` is given.

    Severity is not configurable: it follows the offset order, which is what ``Ladder``
    requires anyway. Raises ``LadderError`` (a ``ValueError``) for an invalid ladder.
    """
    rungs_config = config.ladder.rungs
    if rungs_config is None:
        return Ladder(rungs=DEFAULT_LADDER.rungs, repeat_every=config.ladder.repeat_every)
    return Ladder(rungs=_rungs(rungs_config), repeat_every=config.ladder.repeat_every)


def _rungs(rungs_config: tuple[RungConfig, ...]) -> tuple[Rung, ...]:
    by_offset = sorted(range(len(rungs_config)), key=lambda i: rungs_config[i].offset)
    severity = {index: rank + 1 for rank, index in enumerate(by_offset)}
    return tuple(_rung(rc, severity[i]) for i, rc in enumerate(rungs_config))


def _rung(rc: RungConfig, severity: int) -> Rung:
    return Rung(
        name=rc.name,
        offset=rc.offset,
        audience=frozenset(rc.audience),
        mention=rc.mention,
        marks_assessment=rc.marks_assessment,
        severity=severity,
        label=rung_label(rc.name),
    )


def ladder_problems(config: Config) -> list[str]:
    """``ladder.rungs[i]: …`` (or ``ladder.repeat_every: …``) if the ladder is invalid."""
    try:
        build_ladder(config)
    except LadderError as exc:
        return [f"{_ladder_key(config, exc.rung)}: {exc.message}"]
    return []


def _ladder_key(config: Config, rung_name: str | None) -> str:
    """The config key of the rung a ``LadderError`` names; a repeated name is its last use."""
    rungs = config.ladder.rungs or ()
    indexes = [i for i, rc in enumerate(rungs) if rc.name == rung_name]
    if indexes:
        return f"ladder.rungs[{indexes[-1]}]"
    if rung_name is not None and rung_name == DEFAULT_LADDER.repeat_rung:
        return "ladder.repeat_every"
    return "ladder.rungs"


def schedule_problems(config: Config) -> list[str]:
    """``schedules.<name>: …`` for every cron expression that does not parse."""
    problems: list[str] = []
    for name in SCHEDULE_NAMES:
        try:
            parse_cron(getattr(config.schedules, name), config.tz)
        except CronError as exc:
            problems.append(f"schedules.{name}: {exc.message}")
    return problems


def template_problems(config: Config) -> list[str]:
    """``templates: …`` when the admin's digest templates are missing or do not compile."""
    if config.templates is None:
        return []
    from jinja2 import TemplateError

    from notifiers.render import Renderer

    try:
        Renderer(Path(config.templates))
    except (OSError, TemplateError) as exc:
        return [f"templates: {exc}"]
    return []


register_check(ladder_problems)
register_check(template_problems)
register_check(schedule_problems)
