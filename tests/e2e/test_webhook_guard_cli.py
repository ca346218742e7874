"""Issue 16 item 11 through the CLI: a webhook whose path climbs out of the robot's path is
refused before anything is sent, on the platform's own host and on an allow-listed one.

Before the fix the guard checked the path as written (`/cgi-bin/webhook/send/../../../evil`
starts with the robot path) and httpx then requested `/evil`: the allow-listed fake below
would have received a request on a path that is not a robot's.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.platforms import FakePlatforms
from tests.support.api import write_config

CLIMBER = """
[[channels]]
name = "climber"
platform = "wecom"
webhook = "{webhook}"
"""


@pytest.fixture
def platforms() -> Iterator[FakePlatforms]:
    with FakePlatforms() as fake:
        yield fake


def notify_test(tmp_path: Path, webhook: str, host: str) -> subprocess.CompletedProcess[str]:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'd.db'}")  # the API tests' county
    county = config.read_text(encoding="utf-8")
    config.write_text(  # a top-level key goes before the tables, the robot after them
        f'allowed_webhook_hosts = ["{host}"]\n{county}{CLIMBER.format(webhook=webhook)}',
        encoding="utf-8",
    )
    return subprocess.run(
        [sys.executable, "-m", "duban.cli", "--config", str(config), "notify", "test", "climber"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "tail",
    [
        "/cgi-bin/webhook/send/../../../evil?key=K",
        "/cgi-bin/webhook/send/%2e%2e/%2e%2e/evil?key=K",
        "/cgi-bin/webhook/send/..%2F..%2Fevil?key=K",
        "/cgi-bin//webhook/send?key=K",
    ],
)
def test_a_climbing_path_is_refused_on_the_official_host(tmp_path: Path, tail: str) -> None:
    result = notify_test(tmp_path, f"https://qyapi.weixin.qq.com{tail}", "127.0.0.1:9")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "企业微信机器人地址" in result.stderr
    assert "路径" in result.stderr
    assert "Traceback" not in result.stderr
    assert "key=K" not in result.stderr  # the key is never shown


def test_a_climbing_path_on_an_allow_listed_host_sends_nothing(
    tmp_path: Path, platforms: FakePlatforms
) -> None:
    robot = platforms.add_wecom("K")
    assert robot.endswith("/cgi-bin/webhook/send?key=K")
    climbing = robot.replace("/cgi-bin/webhook/send", "/cgi-bin/webhook/send/../../../evil")
    result = notify_test(tmp_path, climbing, platforms.host)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "路径" in result.stderr
    assert platforms.accepted == []  # no request at all
    assert platforms.answered == []
    # The same robot with its plain path is delivered: the refusal is the path's alone.
    delivered = notify_test(tmp_path, robot, platforms.host)
    assert delivered.returncode == 0, delivered.stdout + delivered.stderr
    assert len(platforms.accepted) == 1
