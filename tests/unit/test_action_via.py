"""Every action records the person and the door they came through (`Identity.via`): a web
session or an API token by its public id, nothing from the command line; events stored before
`via` existed still replay and read as they did."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from domain.instruction import Instruction
from domain.plan_review import PlanReview
from domain.roles import Identity
from domain.task import ReformTask
from duban.web.timeline import timeline
from projections.audit_text import describe, describe_record
from projections.audit_via import via_of, via_text

AT = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
LIAISON = Identity("liaison", "李静", "县财政局")
SESSION = LIAISON.through("session", "s3ss10n1d")
TOKEN = LIAISON.through("token", "ab12cd34ef56")
PUBLIC_ID = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)


def _task() -> ReformTask:
    return ReformTask(
        code="2024-01", title="推进财政体制改革", lead_unit="县财政局", co_units=[],
        official=None, group=None, area=None, deadline=dt.date(2024, 6, 30),
        deadline_text="2024年6月底", milestones=[{"name": "方案制定", "due": None}], notes="",
        actor="office:改革办", at=AT, via=None,
    )  # fmt: skip


# ---- the identity ---------------------------------------------------------------------------


def test_an_identity_names_its_door_and_stays_the_same_person() -> None:
    assert SESSION.via == "session:s3ss10n1d"
    assert TOKEN.via == "token:ab12cd34ef56"
    assert LIAISON.via is None
    assert SESSION == TOKEN == LIAISON
    assert len({SESSION, TOKEN, LIAISON}) == 1
    assert SESSION.actor == LIAISON.actor == "liaison:县财政局/李静"


# ---- the events -----------------------------------------------------------------------------


def test_each_task_command_records_the_door_with_the_person() -> None:
    task = _task()
    via = SESSION.via
    task.claim(SESSION.actor, AT, via)
    task.report_progress("方案已起草", 30, [], SESSION.actor, AT, milestone="方案制定", via=via)
    task.request_extension(dt.date(2024, 9, 30), "资金未到位", SESSION.actor, AT, via=via)
    task.grant_extension("同意", "office:改革办", AT, via="token:0ff1ce0ff1ce")
    task.submit_completion("已完成", [], SESSION.actor, AT, via=via)
    task.return_completion("材料不全", "office:改革办", AT, via="token:0ff1ce0ff1ce")
    recorded = {type(e).__name__: e.__dict__ for e in task.collect_events()}
    assert recorded["Assigned"]["via"] is None  # from the command line
    for kind in ("Claimed", "ProgressReported", "ExtensionRequested", "CompletionSubmitted"):
        assert recorded[kind]["via"] == "session:s3ss10n1d", kind
    for kind in ("ExtensionGranted", "CompletionReturned"):
        assert recorded[kind]["via"] == "token:0ff1ce0ff1ce", kind
    # how the milestone was confirmed stays `via`; the door is `through`
    assert recorded["MilestoneClosed"]["via"] == "report"
    assert recorded["MilestoneClosed"]["through"] == "session:s3ss10n1d"


def test_instructions_and_plan_reviews_record_the_door() -> None:
    issued = Instruction(task_code="2024-01", unit="县财政局", text="请加快推进",
                         answer_by=None, actor="official:王建国", at=AT, number=1,
                         via="session:0ff1c1a1")  # fmt: skip
    issued.answer("已部署", TOKEN.actor, AT, TOKEN.via)
    plan = PlanReview(plan_code="P1", title="方案", unit="县财政局", task_code=None,
                      actor=SESSION.actor, at=AT, via=SESSION.via)  # fmt: skip
    plan.approve("同意", "office:改革办", AT, "token:0ff1ce0ff1ce")
    vias = [e.__dict__["via"] for e in [*issued.collect_events(), *plan.collect_events()]]
    assert vias == ["session:0ff1c1a1", "token:ab12cd34ef56", "session:s3ss10n1d",
                    "token:0ff1ce0ff1ce"]  # fmt: skip


def _stored_before_via(event: Any) -> Any:
    """The event as a store written before the door was recorded decodes it: no such attribute
    (a milestone's own `via`, how it was confirmed, is older and stays)."""
    door = "through" if type(event).__name__ == "MilestoneClosed" else "via"
    old = object.__new__(type(event))
    fields = {k: v for k, v in event.__dict__.items() if k != door}
    object.__setattr__(old, "__dict__", fields)
    return old


def test_events_stored_before_the_door_was_recorded_still_replay() -> None:
    task = _task()
    task.claim(LIAISON.actor, AT)
    task.report_progress("方案已起草", 30, [], LIAISON.actor, AT, milestone="方案制定")
    events = [_stored_before_via(e) for e in task.collect_events()]
    assert [sorted({"via", "through"} & e.__dict__.keys()) for e in events[1:]] == [[], [], ["via"]]
    replayed: Any = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed.status == "claimed"
    assert replayed.percent == 30
    assert replayed.closed_milestones == ["方案制定"]
    # and they read as they always did: the person, no door
    assert [describe(e).split(" ")[0] for e in events[1:]] == ["县财政局"] * 3
    assert "（" not in describe(events[1])


# ---- the words ------------------------------------------------------------------------------


def test_the_trail_names_the_door_after_the_person() -> None:
    base = {"actor": LIAISON.actor, "at": AT.isoformat(), "text": "方案已起草", "percent": 30,
            "evidence": []}  # fmt: skip
    web = describe_record("ReformTask.ProgressReported", {**base, "via": SESSION.via})
    api = describe_record("ReformTask.ProgressReported", {**base, "via": TOKEN.via})
    cli = describe_record("ReformTask.ProgressReported", {**base, "via": None})
    assert web == "县财政局 李静（网页登录） 报送进展：30%，方案已起草"
    assert api == "县财政局 李静（接口令牌 ab12cd34ef56） 报送进展：30%，方案已起草"
    assert cli == "县财政局 李静 报送进展：30%，方案已起草"
    assert "s3ss10n1d" not in web  # a session's id means nothing to a reader: the JSON keeps it


def test_a_milestone_names_how_it_was_confirmed_and_the_door() -> None:
    data = {"actor": "office:改革办", "name": "方案制定", "reason": "", "via": "office",
            "through": "session:0ff1c1a1"}  # fmt: skip
    text = describe_record("ReformTask.MilestoneClosed", data)
    assert text.startswith("改革办（网页登录） 确认阶段节点「方案制定」完成（")
    assert via_of(data) == "session:0ff1c1a1"
    assert via_of({"via": "office"}) is None  # the old milestone field is not a door


@given(kind=st.sampled_from(["session", "token"]), public_id=PUBLIC_ID)
def test_a_door_is_told_in_chinese_and_only_a_token_by_its_id(kind: str, public_id: str) -> None:
    via = f"{kind}:{public_id}"
    text = via_text(via_of({"via": via}))
    assert text in ("（网页登录）", f"（接口令牌 {public_id}）")
    assert (public_id in text) == (kind == "token")  # a session's id is never shown


@given(st.text(max_size=80))
def test_anything_else_recorded_as_a_door_is_never_shown(value: str) -> None:
    if re.fullmatch(r"(session|token):[A-Za-z0-9_-]{1,64}", value):
        return
    assert via_of({"via": value}) is None
    assert via_text(value) == ""


def test_the_task_page_tells_the_door_with_the_person_not_as_a_field() -> None:
    entry = {
        "type": "ReformTask.ProgressReported", "at": AT.isoformat(), "tasks": ["2024-01"],
        "who": "县财政局 李静（网页登录）", "summary": "县财政局 李静（网页登录） 报送进展",
        "data": {"actor": LIAISON.actor, "text": "方案已起草", "percent": 30, "via": SESSION.via},
    }  # fmt: skip
    milestone = {
        "type": "ReformTask.MilestoneClosed", "at": AT.isoformat(), "tasks": ["2024-01"],
        "who": "改革办", "summary": "…",
        "data": {"name": "方案制定", "via": "office", "through": SESSION.via},
    }  # fmt: skip
    shown = timeline([entry, milestone], ZoneInfo("Asia/Shanghai"))
    by_type = {e.type: e for e in shown}
    report = by_type["ReformTask.ProgressReported"]
    assert report.who == "县财政局 李静（网页登录）"
    assert all("session" not in text for _, text in report.details)
    assert "确认方式" not in [label for label, _ in report.details]
    assert ("确认方式", "其他") not in by_type["ReformTask.MilestoneClosed"].details
    assert any(label == "确认方式" for label, _ in by_type["ReformTask.MilestoneClosed"].details)
