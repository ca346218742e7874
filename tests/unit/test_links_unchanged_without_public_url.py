"""Without `[web] public_url` every message is exactly what it was before task links existed:
the digest, a 交办 notice, and the wire payloads of the three robots, compared with the golden
JSON that the code before the change wrote for the same input (issue 15)."""

from __future__ import annotations

import json

from tests.unit.links_golden_input import GOLDEN, golden


def test_messages_and_payloads_are_as_before_without_a_public_address() -> None:
    expected = json.loads(GOLDEN.read_text("utf-8"))

    assert golden() == expected


def test_with_a_public_address_the_same_input_differs_only_by_links() -> None:
    """The golden test can fail: the same input with a public address is not the golden one."""
    from notifiers.render import Renderer

    linked = golden(
        Renderer(public_url="https://duban.example.gov.cn"), "https://duban.example.gov.cn"
    )

    assert linked != json.loads(GOLDEN.read_text("utf-8"))
    assert "https://duban.example.gov.cn/tasks/2026-001" in linked["digest"]["body"]
    assert "https://duban.example.gov.cn/tasks/2026-007" in linked["assignment"]["body"]
