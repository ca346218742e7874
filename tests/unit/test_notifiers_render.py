"""The Chinese digest: most urgent first, grouped by rung, hostile titles kept harmless."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifiers import DigestItem, Renderer, escape_markdown, render_digest

NOW = datetime(2024, 5, 20, 9, 0)


def _item(code: str, rung: str = "notice", days: int = -5, **overrides: object) -> DigestItem:
    labels = {"notice": "提醒", "reminder": "临期提醒", "urge": "催办", "supervise": "督办"}
    labels["bulletin"] = "通报"
    fields: dict[str, object] = {
        "task_code": code,
        "title": f"任务{code}",
        "rung": rung,
        "rung_label": labels[rung],
        "deadline": date(2024, 6, 30),
        "days": days,
        "last_report": None,
        "lead_unit": "县发改局",
        "mention_names": (),
    }
    fields.update(overrides)
    return DigestItem(**fields)  # type: ignore[arg-type]


def test_rungs_appear_most_urgent_first_with_headings() -> None:
    items = [
        _item("A", "notice"),
        _item("B", "bulletin", 12),
        _item("C", "urge", 2),
        _item("D", "supervise", 6),
        _item("E", "reminder", -1),
    ]
    _, body = render_digest("县发改局群", items, NOW)
    headings = re.findall(r"^#### (\S+)（(\d+)项）$", body, flags=re.M)
    assert headings == [
        ("通报", "1"),
        ("督办", "1"),
        ("催办", "1"),
        ("临期提醒", "1"),
        ("提醒", "1"),
    ]


def test_within_a_rung_the_most_overdue_comes_first_and_ongoing_tasks_last() -> None:
    items = [
        _item("2024-01", "urge", 1),
        _item("2024-02", "urge", 4),
        _item("2024-03", "urge", 0, deadline=None),
    ]
    _, body = render_digest("群", items, NOW)
    assert list(re.findall(r"\*\*(2024-0\d)\*\*", body)) == ["2024-02", "2024-01", "2024-03"]


def test_each_line_has_code_title_unit_deadline_days_report_and_mentions() -> None:
    item = _item(
        "2024-07",
        "urge",
        3,
        title="深化营商环境改革",
        last_report="2024-05-10 40%",
        mention_names=("张三", "李四"),
    )
    _, body = render_digest("县发改局群", [item], NOW)
    line = next(line for line in body.splitlines() if "2024-07" in line)
    assert line == (
        "- **2024-07** 深化营商环境改革｜牵头：县发改局｜时限：2024年6月30日（逾期3个工作日）"
        "｜最近报送：2024年5月10日 40%｜提醒：@张三 @李四"
    )


@pytest.mark.parametrize(
    ("days", "deadline", "shown"),
    [
        (-5, date(2024, 6, 30), "2024年6月30日（剩余5个工作日）"),
        (0, date(2024, 6, 30), "2024年6月30日（今日到期）"),
        (7, date(2024, 6, 30), "2024年6月30日（逾期7个工作日）"),
        (0, None, "持续推进"),
    ],
)
def test_deadline_and_working_days(days: int, deadline: date | None, shown: str) -> None:
    _, body = render_digest("群", [_item("X", days=days, deadline=deadline)], NOW)
    assert f"时限：{shown}｜" in body


def test_missing_report_says_none() -> None:
    _, body = render_digest("群", [_item("X")], NOW)
    assert "最近报送：无" in body


def test_title_names_the_chat_and_the_day() -> None:
    title, body = render_digest("县发改局", [_item("X")], NOW)
    assert title == "改革任务到期预告｜县发改局｜2024年5月20日"
    assert body.startswith("截至2024年5月20日 09:00，县发改局共有1项改革任务需要关注")


def test_the_title_is_the_most_urgent_rung_of_the_digest() -> None:
    expected = {
        "notice": "到期预告",
        "reminder": "到期提醒",
        "urge": "催办通知",
        "supervise": "督办通知",
        "bulletin": "通报",
    }
    for rung, word in expected.items():
        items = [_item("X", "notice"), _item("Y", rung)]
        title, _ = render_digest("群", items, NOW)
        assert title == f"改革任务{word}｜群｜2024年5月20日"
    empty, _ = render_digest("群", [], NOW)
    assert empty.startswith("改革任务督办提醒")


def test_an_empty_digest_says_so() -> None:
    _, body = render_digest("群", [], NOW)
    assert "没有需要提醒的改革任务" in body


HOSTILE = (
    '[点我](http://evil.example) <@all> <font color="warning">**假通知**</font>'
    "\n# 标题 `x` _y_ ~z~ @13800000000"
)


def test_a_hostile_title_cannot_link_mention_format_or_break_the_line() -> None:
    item = _item("2024-07", "urge", 3, title=HOSTILE, lead_unit="<b>县*局</b>", last_report="](x)")
    _, body = render_digest("群", [item], NOW)
    lines = [line for line in body.splitlines() if "2024-07" in line]
    assert len(lines) == 1  # the newline in the title did not start a heading
    line = lines[0]
    rest = line.removeprefix("- **2024-07** ")
    for char in "[]<>*_#`~@()":
        assert char not in rest, char
    assert "点我" in rest
    assert "假通知" in rest


def test_hostile_chat_name_is_escaped_in_title_too() -> None:
    title, _ = render_digest("**群**\n<@all>", [_item("X")], NOW)
    assert "*" not in title
    assert "<" not in title
    assert "\n" not in title


@given(st.text())
def test_escaping_is_idempotent_and_leaves_no_markup(text: str) -> None:
    once = escape_markdown(text)
    assert escape_markdown(once) == once
    assert not set(once) & set("[]<>*_#`~|\\&@!()\n\r")


def test_admin_templates_override_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "digest.md.j2").write_text(
        "{% for g in groups %}{% for i in g.items %}* {{ i.title }}\n{% endfor %}{% endfor %}",
        encoding="utf-8",
    )
    renderer = Renderer(tmp_path)
    title, body = renderer.render_digest("群", [_item("X", title="a*b")], NOW)
    assert body == "* a＊b"  # the admin's markup kept, the data still escaped
    assert title.startswith("改革任务到期预告")  # title template not overridden: the default


def test_a_broken_admin_template_fails_when_loaded(tmp_path: Path) -> None:
    (tmp_path / "digest_title.j2").write_text("{% if %}", encoding="utf-8")
    with pytest.raises(jinja2.TemplateSyntaxError):
        Renderer(tmp_path)


def test_a_missing_template_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Renderer(tmp_path / "nope")


def test_templates_cannot_reach_python_internals(tmp_path: Path) -> None:
    (tmp_path / "digest.md.j2").write_text("{{ now.__class__.__mro__ }}", encoding="utf-8")
    with pytest.raises(jinja2.exceptions.SecurityError):
        Renderer(tmp_path).render_digest("群", [], NOW)


def test_a_claim_rung_keeps_its_own_heading_beside_the_rung_it_shares() -> None:
    # 逾期未签收 is escalated like 催办 (same rung) but is a different matter for the reader.
    items = [
        _item("2024-01", "urge", 3),
        _item("2024-02", "urge", 9, rung_label="逾期未签收"),
        _item("2024-03", "urge", 1),
    ]
    _, body = render_digest("县发改局群", items, NOW)
    headings = re.findall(r"^#### (\S+)（(\d+)项）$", body, flags=re.M)
    assert headings == [("逾期未签收", "1"), ("催办", "2")]
    section = body.split("#### 逾期未签收（1项）", 1)[1].split("#### 催办", 1)[0]
    assert "2024-02" in section
    assert "2024-01" not in section
