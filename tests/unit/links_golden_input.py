"""A fixed input for the "no public_url: messages unchanged" golden test: digest items, a 交办
assignment and the robots that turn them into wire payloads. `golden()` is what today's code
makes of it; `tests/data/links/no_public_url.json` was written by the code before task links
existed (`python -m tests.unit.links_golden_input` rewrites it: do so only on purpose)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from domain.reminder import ChatMessage
from duban.app.assignment_notices import Assignment, assignment_notices
from duban.app.services import calendar_from_config
from duban.settings.config import parse_config
from notifiers import DingTalkNotifier, FeishuNotifier, WeComNotifier
from notifiers._webhook import WebhookNotifier
from notifiers.messages import wire_parts
from notifiers.render import DigestItem, Renderer
from tests.conftest import TZ

GOLDEN = Path(__file__).parent.parent / "data" / "links" / "no_public_url.json"
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
CLOCK = 1_764_468_000.0
HOOKS = {
    "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=golden-key",
    "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=golden-token",
    "feishu": "https://open.feishu.cn/open-apis/bot/v2/hook/golden-hook",
}
ROBOTS: dict[str, Callable[..., WebhookNotifier]] = {
    "wecom": WeComNotifier,
    "dingtalk": DingTalkNotifier,
    "feishu": FeishuNotifier,
}


def items(count: int = 3) -> list[DigestItem]:
    """Tasks on three rungs, one with a title that tries to be a link."""
    rungs = [("bulletin", "通报"), ("urge", "催办"), ("remind", "到期提醒")]
    found = []
    for i in range(count):
        rung, label = rungs[i % 3]
        found.append(
            DigestItem(
                task_code=f"2026-{i + 1:03d}",
                title="[点我](http://evil.example)" if i == 1 else f"推进第{i + 1}项改革任务",
                rung=rung,  # type: ignore[arg-type]
                rung_label=label,
                deadline=dt.date(2026, 12, 1 + i % 20),
                days=(i % 7) - 3,
                last_report="2026-11-20" if i % 2 else None,
                lead_unit="县发展和改革局",
                mention_names=("李静",) if i % 2 else (),
                document_no="县改办督〔2026〕12号" if rung == "bulletin" else None,
            )
        )
    return found


def config(public_url: str | None = None) -> Any:
    raw: dict[str, Any] = {
        "channels": [{"name": n, "platform": "console"} for n in ("office", "leaders")],
    }
    if public_url:
        raw["web"] = {"public_url": public_url}
    return parse_config(raw)


def assignment() -> Assignment:
    return Assignment(
        event_id="e:1", actor="office:李主任", at=NOW, code="2026-007",
        title="优化营商环境**专项**", lead_unit="县发展和改革局",
        deadline=dt.date(2026, 12, 31), deadline_text="", units=(("县发展和改革局", True),),
    )  # fmt: skip


def payloads(platform: str, title: str, body: str, mobiles: list[str]) -> list[dict[str, Any]]:
    """The JSON bodies `platform`'s robot posts for one queued message."""
    sent: list[dict[str, Any]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok", "code": 0})

    client = httpx.Client(transport=httpx.MockTransport(handle))
    robot = ROBOTS[platform](HOOKS[platform], client=client, clock=lambda: CLOCK)
    message = ChatMessage(
        message_key="golden", channel="c", kind="digest", title=title, parts=[body],
        mention_mobiles=mobiles, reminder_keys=[], task_codes=["2026-001"],
        actor="system:duban", at=NOW,
    )  # fmt: skip
    for part in wire_parts(message, robot):
        robot.send(part)
    return sent


def golden(renderer: Renderer | None = None, public_url: str | None = None) -> dict[str, Any]:
    renderer = renderer or Renderer()
    title, body = renderer.render_digest("县发展和改革局", items(), NOW)
    cfg = config(public_url)
    calendar = calendar_from_config(cfg)
    notice = assignment_notices([assignment()], cfg, calendar)[0]
    return {
        "digest": {"title": title, "body": body},
        "assignment": {"title": notice.title, "body": notice.body},
        "wire": {
            p: payloads(p, title, body, ["13800000001"] if p == "dingtalk" else []) for p in ROBOTS
        },
        "wire_notice": {p: payloads(p, notice.title, notice.body, []) for p in ROBOTS},
    }


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(golden(), ensure_ascii=False, indent=1) + "\n", "utf-8")
