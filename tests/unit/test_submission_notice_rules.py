"""The office's messages of unit steps, as pure rules over in-memory tasks: who is named, what
is never told, and that nothing a liaison types can become a link or a mention."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.task import ReformTask
from duban.app.services import calendar_from_config
from duban.app.submission_notices import actor_of, submission_events, submission_notices
from duban.settings.config import Config, parse_config
from tests.conftest import TZ
from tests.fakes.chat_markup import markup

URL = "https://duban.example.gov.cn"
AT = dt.datetime(2026, 7, 6, 10, 0, tzinfo=TZ)
LIAISON = "liaison:县发展和改革局/张伟"


def config_of(**office: bool) -> Config:
    channels = [{"name": n, "platform": "console"} for n in ("office", "leaders")]
    return parse_config({"channels": channels, "office": office, "web": {"public_url": URL}})


CONFIG = config_of()
CALENDAR = calendar_from_config(CONFIG)


def claimed_task() -> ReformTask:
    task = ReformTask(
        code="2026-07",
        title="深化“放管服”改革",
        lead_unit="县发展和改革局",
        co_units=[],
        official=None,
        group=None,
        area=None,
        deadline=dt.date(2026, 8, 31),
        deadline_text="",
        milestones=[],
        notes="",
        actor="office:改革办",
        at=AT,
    )
    task.claim(LIAISON, AT)
    return task


def told(task: ReformTask, config: Config = CONFIG) -> list[str]:
    """The bodies of the messages the task's new events make (the task read as it is now)."""

    def task_at(_id: UUID, _version: int) -> Any:
        return task

    events = task.collect_events()
    return [n.body for n in submission_notices(events, task_at, config, CALENDAR)]


@pytest.mark.parametrize(
    ("actor", "shown"),
    [
        (LIAISON, "**县发展和改革局**（张伟）"),
        ("official:王建国", "领衔领导**王建国**"),
    ],
)
def test_the_liaison_and_the_official_are_named(actor: str, shown: str) -> None:
    found = actor_of(actor)
    assert found is not None
    assert found.shown == shown


@pytest.mark.parametrize("actor", ["office:改革办", "office", "system:duban", "auditor:审计"])
def test_the_office_and_the_system_are_not_told_of_their_own_steps(actor: str) -> None:
    assert actor_of(actor) is None


def test_the_switches_choose_what_is_read() -> None:
    assert [e.__name__ for e in submission_events(CONFIG)] == [
        "ExtensionRequested",
        "CompletionSubmitted",
    ]
    both = config_of(tell_receipts=True)
    assert len(submission_events(both)) == 4
    assert submission_events(config_of(tell_requests=False)) == ()


def test_a_claim_is_not_told_unless_receipts_are() -> None:
    assert told(claimed_task()) == []
    task = claimed_task()
    (claim,) = told(task, config_of(tell_receipts=True))
    assert "**县发展和改革局**（张伟）已签收" in claim


@settings(max_examples=150, deadline=None)
@given(reason=st.text(min_size=1, max_size=600))
def test_a_typed_reason_never_becomes_a_link_or_a_mention(reason: str) -> None:
    task = claimed_task()
    task.collect_events()
    task.request_extension(dt.date(2026, 10, 31), reason, LIAISON, AT)
    (body,) = told(task)
    tokens = markup(body)
    links = [t for kind, t in tokens if kind == "link"]
    assert links == ["[查看任务](https://duban.example.gov.cn/tasks/2026-07)", "https://"]
    assert not [t for kind, t in tokens if kind == "mention"]
    assert "请在工作台审批。" in body
