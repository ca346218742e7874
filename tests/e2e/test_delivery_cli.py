"""`duban deliver` and `duban notify test` as an operator runs them, against the fake platforms:
a full run at DEBUG with JSON logs, then every log line, every output and every stored byte
searched for every configured secret (webhook keys, tokens, hook ids, robot secrets)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from duban.app.services import Services
from tests.fakes.platforms import FakeClock, FakePlatforms
from tests.integration.test_delivery_flow import (
    KEYWORD,
    SECRET,
    channel,
    county_config,
    digest_lines,
    message_state,
    queue_digest,
    services_for,
)
from tests.support.clock import FIXED_NOW, NOW_ENV

WRONG_SECRET = "SECthisisnotthesecretofthatrobot0"


def toml(raw: dict[str, Any]) -> str:
    """The config as TOML (strings, numbers, lists of strings, tables, arrays of tables)."""
    lines = [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in raw.items() if _plain(v)]
    for key, value in raw.items():
        if isinstance(value, dict):
            lines.append(f"[{key}]")
            lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in value.items()]
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                lines.append(f"[[{key}]]")
                lines += [f"{k} = {_inline(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> bool:
    return not isinstance(value, dict) and not (
        isinstance(value, list) and value and isinstance(value[0], dict)
    )


def _inline(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        items = ", ".join(
            "{"
            + ", ".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in d.items())
            + "}"
            for d in value
        )
        return f"[{items}]"
    return json.dumps(value, ensure_ascii=False)


def write_config(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / "duban.toml"
    path.write_text(toml(raw), encoding="utf-8")
    return path


def duban(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "duban.cli", "--config", str(config), *args],
        capture_output=True, text=True, cwd=config.parent, timeout=timeout, check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


def stored_bytes(db: Path) -> bytes:
    """Every byte of the store (and its rate-limit file), plus each event's state decoded."""
    found = b""
    for path in db.parent.iterdir():
        if path.name.startswith(db.name):
            found += path.read_bytes()
    with closing(sqlite3.connect(db)) as conn:
        for (state,) in conn.execute("SELECT state FROM stored_events"):
            found += bytes(state)
    return found


def _pinned_clock_services(config: dict[str, Any]) -> Services:
    """Services on the moment `$DUBAN_NOW` pins every command to (`tests.support.clock`)."""
    return services_for(config, FakeClock(FIXED_NOW.timestamp()))


def test_a_full_run_at_debug_leaks_no_key_token_hook_id_or_secret(
    tmp_path: Path, fake_platforms: FakePlatforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(NOW_ENV, FIXED_NOW.isoformat())  # the office's clock, in every command
    fake = fake_platforms
    wecom_key, ding_token, feishu_hook = "wk" + "7" * 30, "dt" + "8" * 62, "fh" + "9" * 34
    office_key, bad_token = "ok" + "6" * 30, "bt" + "5" * 62
    hooks = {
        "wecom": fake.add_wecom(wecom_key),
        "dingtalk": fake.add_dingtalk(ding_token, secret=SECRET, keyword=KEYWORD),
        "feishu": fake.add_feishu(feishu_hook, secret=SECRET, keyword=KEYWORD),
        "office": fake.add_wecom(office_key),
        "bad": fake.add_dingtalk(bad_token, secret=SECRET, keyword=KEYWORD),
    }
    db = tmp_path / "duban.db"
    raw = county_config(f"sqlite:///{db}", fake, channel("fgj", "wecom", [hooks["wecom"]]),
                        channel("office", "wecom", [hooks["office"]]))  # fmt: skip
    raw["channels"] += [
        channel("ding", "dingtalk", [hooks["dingtalk"]]),
        channel("fei", "feishu", [hooks["feishu"]]),
        channel("bad", "dingtalk", [hooks["bad"]], secret=WRONG_SECRET),
    ]
    config = write_config(tmp_path, raw)
    services = _pinned_clock_services(raw)
    keys = {name: queue_digest(services, name, digest_lines(40), "dingtalk")
            for name in ("fgj", "ding", "fei", "bad")}  # fmt: skip
    fake.fail_next(times=1, status=502)  # one retry, so the logs carry an error answer too

    # messages go in working time only: both passes at working moments after the queueing
    queued = FIXED_NOW + dt.timedelta(seconds=1)
    first_at = services.calendar.next_working_time(queued)
    second_at = services.calendar.next_working_time(first_at + dt.timedelta(hours=1))
    first = duban(config, "--log-level", "DEBUG", "deliver", "--now",
                  first_at.strftime("%Y-%m-%dT%H:%M:%S"))  # fmt: skip
    second = duban(config, "--log-level", "DEBUG", "deliver", "--now",
                   second_at.strftime("%Y-%m-%dT%H:%M:%S"), "--format", "json")  # fmt: skip
    test = duban(config, "--log-level", "DEBUG", "notify", "test", "ding")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert test.returncode == 0, test.stderr
    logs = [json.loads(line) for r in (first, second, test) for line in r.stderr.splitlines()]
    assert any(e["event"] == "delivery.attempt" for e in logs)
    assert any(e["event"] == "delivery.failed" for e in logs)
    assert "已送达" in test.stdout
    assert "钉钉机器人" in test.stdout
    assert "：成功（状态码200）" in test.stdout
    for name in ("fgj", "ding", "fei"):
        assert message_state(services, keys[name]).status == "delivered"
    assert message_state(services, keys["bad"]).status == "failed"

    secrets = [wecom_key, ding_token, feishu_hook, office_key, bad_token, SECRET, WRONG_SECRET]
    secrets += list(hooks.values())
    outputs = "".join(r.stdout + r.stderr for r in (first, second, test))
    stored = stored_bytes(db)
    for secret in secrets:
        assert secret not in outputs, f"{secret[:6]}… printed or logged"
        assert secret.encode() not in stored, f"{secret[:6]}… stored"
