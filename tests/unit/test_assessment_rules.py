"""The assessment's pure rules: overdue unfinished tasks, 无任务 units, the co-unit credit,
the ranking, and the config's ``[assessment]`` keys (properties, then a few worked cases)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.scoring import ScoringRules
from duban.app.report_kinds import scoring_rules
from duban.settings.config import Assessment
from projections.assessment_rules import credited, overdue_facts, units_with_tasks
from projections.assessment_scores import RULE_OF_KIND, assess
from projections.report_facts import Fact

UNITS = ["甲局", "乙局", "丙局", "丁局"]
DAY = dt.date(2025, 12, 31)
days = st.dates(dt.date(2024, 1, 1), dt.date(2026, 6, 30))


@st.composite
def tasks(draw: st.DrawFn) -> dict[str, Any]:
    lead = draw(st.sampled_from(UNITS))
    assigned = draw(st.dates(dt.date(2024, 1, 1), DAY))
    deadline = draw(st.none() | days)
    closed = draw(st.none() | days.filter(lambda d: d >= assigned))
    return {
        "code": f"T{draw(st.integers(1, 10**6))}",
        "lead_unit": lead,
        "co_units": draw(st.lists(st.sampled_from(UNITS), max_size=4)),
        "assigned_at": f"{assigned.isoformat()}T09:00:00+08:00",
        "deadline": deadline.isoformat() if deadline else None,
        "closed_at": f"{closed.isoformat()}T10:00:00+08:00" if closed else None,
        "assigned_position": draw(st.integers(1, 10**6)),
    }


@given(
    st.lists(tasks(), max_size=12, unique_by=lambda t: t["code"]),
    st.dates(dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
)
def test_an_unfinished_task_past_its_deadline_costs_its_units_once(
    found: list[dict[str, Any]], day: dt.date
) -> None:
    facts = list(overdue_facts(found, day))
    for task in found:
        mine = [f for f in facts if f.task_code == task["code"]]
        closed = task["closed_at"] and task["closed_at"][:10] <= day.isoformat()
        due = task["deadline"] and task["deadline"] < day.isoformat()
        assigned = task["assigned_at"][:10] <= day.isoformat()
        if closed or not due or not assigned:
            assert mine == []
            continue
        assert [f.unit for f in mine if f.kind == "lead_overdue"] == [task["lead_unit"]]
        co = {u for u in task["co_units"] if u != task["lead_unit"]}
        assert sorted(f.unit for f in mine if f.kind == "co_overdue") == sorted(co)
        assert {f.position for f in mine} == {task["assigned_position"]}


def _fact(kind: str, unit: str, code: str = "T1", position: int = 1) -> Fact:
    return Fact(position, "2025-06-30", kind, unit, code, "ReformTask.CompletionAccepted", {})


scored_kinds = st.sampled_from(sorted(RULE_OF_KIND))


@given(
    st.lists(st.tuples(scored_kinds, st.sampled_from(UNITS)), max_size=20),
    st.sets(st.sampled_from(UNITS)),
)
def test_units_without_a_task_or_a_point_are_listed_unranked(
    lines: list[tuple[str, str]], assessed: set[str]
) -> None:
    rules = ScoringRules()
    facts = [_fact(kind, unit, position=i) for i, (kind, unit) in enumerate(lines)]
    scores = assess(facts, rules, UNITS, assessed)
    assert sorted(s.unit for s in scores) == sorted(UNITS)
    ranked = [s for s in scores if s.rank is not None]
    idle = [s for s in scores if s.rank is None]
    assert scores == ranked + idle  # 无任务 units come last
    for s in idle:
        assert s.unit not in assessed
        assert not s.lines
    for s in ranked:
        assert s.score == round(rules.base + math.fsum(p.points for p in s.lines), 4)
        assert s.rank == 1 + sum(1 for o in ranked if o.score > s.score)


@given(
    st.lists(st.tuples(st.sampled_from(UNITS), st.sampled_from(["T1", "T2"])), max_size=6),
    st.sets(st.tuples(st.sampled_from(UNITS), st.sampled_from(["T1", "T2"]))),
)
def test_a_co_unit_earns_its_credit_only_with_a_report(
    credits: list[tuple[str, str]], reporters: set[tuple[str, str]]
) -> None:
    facts = [_fact("co_on_time", u, c) for u, c in credits] + [_fact("co_late", "甲局")]
    kept = credited(facts, reporters)
    assert [f for f in kept if f.kind == "co_late"] == [facts[-1]]  # late: as the spec says
    assert [(f.unit, f.task_code) for f in kept if f.kind == "co_on_time"] == [
        pair for pair in credits if pair in reporters
    ]


def test_a_unit_with_no_task_no_longer_ranks_second() -> None:
    # 甲局 +2 (102), 乙局 −5 (95), 丙局 no task at all: 无任务, not 100 and second
    facts = [_fact("lead_on_time", "甲局"), _fact("lead_overdue", "乙局", "T2")]
    scores = assess(facts, ScoringRules(), ["甲局", "乙局", "丙局"], {"甲局", "乙局"})
    assert [(s.rank, s.unit, s.score) for s in scores] == [
        (1, "甲局", 102.0),
        (2, "乙局", 95.0),
        (None, "丙局", 100.0),
    ]


def test_units_with_tasks_are_those_of_tasks_open_in_the_year() -> None:
    old = {"lead_unit": "甲局", "co_units": ["乙局"], "assigned_at": "2024-01-02T09:00:00+08:00",
           "closed_at": "2024-12-30T09:00:00+08:00"}  # fmt: skip
    new = {"lead_unit": "丙局", "co_units": [], "assigned_at": "2026-01-02T09:00:00+08:00",
           "closed_at": None}  # fmt: skip
    kept = {"lead_unit": "丁局", "co_units": ["乙局"], "assigned_at": "2024-05-02T09:00:00+08:00",
            "closed_at": "2025-01-03T09:00:00+08:00"}  # fmt: skip
    assert units_with_tasks([old, new, kept], 2025, DAY) == {"丁局", "乙局"}


def test_every_scoring_rule_is_a_config_key_with_the_product_s_default() -> None:
    names = [f.name for f in dataclasses.fields(ScoringRules)]
    assert names == list(Assessment.model_fields)
    assert scoring_rules(Assessment()) == ScoringRules()
    defaults = ScoringRules()
    assert (defaults.lead_overdue, defaults.co_overdue) == (-5.0, -2.5)
    assert defaults.instruction_unanswered == -1.0
    assert (defaults.measure_interview, defaults.measure_criticism,
            defaults.measure_accountability) == (-2.0, -3.0, -5.0)  # fmt: skip
    custom = scoring_rules(Assessment(lead_overdue=-6, measure_interview=-1.5))
    assert (custom.lead_overdue, custom.measure_interview) == (-6.0, -1.5)
