"""`duban serve` tells the office once at start when `[web] public_url` is not set, so chat
messages carry no task links (issue 15); with it set, it says nothing of the kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_scheduler_calendar import example_config
from tests.support.server import start_serve

NOTICE = "未设置 [web] public_url：群消息中不附任务链接"


@pytest.mark.parametrize(
    ("extra", "times"),
    [("", 1), ('\n[web]\npublic_url = "https://duban.example.gov.cn"\n', 0)],
    ids=["without", "with"],
)
def test_serve_says_once_that_messages_carry_no_links(
    tmp_path: Path, extra: str, times: int
) -> None:
    served = start_serve(example_config(tmp_path, extra), tmp_path / "logs", "--no-scheduler")
    try:
        output = served.output()
    finally:
        served.stop()

    assert output.count(NOTICE) == times
