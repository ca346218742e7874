"""`tests.support.wording`: what counts as a leak in a text a person reads, and what does not."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from tests.support.wording import Collector, Text, html_text, leak_report, scan, xlsx_texts


def _words(text: str, surface: str = "CLI", codes: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [
        (leak.kind, leak.word) for leak in scan([Text(surface, "src", text)], channel_codes=codes)
    ]


def test_english_words_and_identifiers_are_leaks() -> None:
    assert _words("无权对该任务执行 claim") == [("english", "claim")]
    assert _words("通知 lead_unit，事件 ReformTask.Assigned") == [
        ("english", "lead_unit"),
        ("english", "ReformTask.Assigned"),
    ]
    assert _words("扣分 +0，进度 30%，2026-01 红灯，Q4") == []  # no word of three letters


def test_the_allow_list_takes_out_codes_an_office_writes() -> None:
    allowed = (
        "请运行 duban calendar import 通知.txt；见 https://example.org/a?b=c 与 /api/v1/tasks；"
        "用 --as-of 或环境变量 DUBAN_NOW，日期写成 YYYY-MM-DD；导出 Excel、PDF、CSV、JSON；"
        "链头 9f86d081884c7d659a2feaa0c55ad015；文件 2026年6月分析.xlsx"
    )
    assert _words(allowed) == []
    assert _words("duban store ready") == [("english", "store"), ("english", "ready")]


def test_python_reprs_are_named_as_such() -> None:
    found = _words("完成时限 datetime.date(2024, 4, 30)，值为None，co_units: ['县财政局']")
    assert ("repr", "datetime.date(") in found
    assert ("repr", "None") in found
    assert ("repr", "['县财政局']") in found
    assert ("english", "None") not in found  # named once, as a repr
    assert ("repr", "Traceback") in _words("Traceback (most recent call last):")


def test_channel_codes_are_looked_for_in_chat_messages_only() -> None:
    message = "月度进展报送｜bb｜2026-06-01"
    assert _words(message, "chat", ("bb", "office")) == [("channel", "bb")]
    assert _words("bbc 县委编办", "chat", ("bb",)) == [("english", "bbc")]  # not the code
    assert _words(message, "CLI", ("bb",)) == []  # two letters: no word, no channel check


def test_a_structured_log_line_is_one_leak_named_by_its_event() -> None:
    line = '{"year": 2027, "event": "calendar_year_not_covered", "level": "warning"}'
    assert _words(line) == [("log", "calendar_year_not_covered")]


def test_html_text_reads_what_a_reader_sees() -> None:
    page = (
        "<html><head><title>任务看板</title><style>.x{color:red}</style></head><body>"
        '<script>var board = "hidden";</script><p>牵头单位<b>县财政局</b></p>'
        '<a title="open the task" href="/tasks/2026-01">2026-01</a></body></html>'
    )
    assert html_text(page).splitlines() == [
        "任务看板",
        "牵头单位县财政局",
        "open the task",
        "2026-01",
    ]


def test_xlsx_texts_reads_sheet_names_strings_and_booleans(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "得分明细"
    sheet.append(["事件", "分值", "已办结"])
    sheet.append(["ReformTask.CompletionAccepted", 2, True])
    path = tmp_path / "book.xlsx"
    book.save(path)
    texts = [text for _, text in xlsx_texts(path)]
    assert texts == ["得分明细", "事件", "分值", "已办结", "ReformTask.CompletionAccepted", "True"]


def test_the_report_names_each_leak_once_with_its_places() -> None:
    texts = Collector()
    texts.add("CLI", "duban init", "store ready: 13 directory change(s) recorded")
    texts.add("CLI", "duban init --as office", "store ready")
    texts.add("chat", "钉钉 县委编办（bb）#1", "督办提醒｜bb")
    report = leak_report(scan(texts.texts, channel_codes=["bb"]))
    assert "## CLI: 5 distinct, 7 in all" in report  # store ×2, ready ×2, directory…
    assert "- [english] `store` ×2" in report
    assert "    duban init --as office: store ready" in report
    assert "- [channel] `bb` ×1" in report


def test_command_names_and_choices_are_allowed_in_help() -> None:
    assert _words("close-milestone    阶段节点完成", "CLI help") == []
    assert _words("--format <table|json|csv|xlsx>  输出格式", "CLI help") == []
    assert _words("close-milestone 阶段节点完成", "CLI") == [
        ("english", "close"),
        ("english", "milestone"),
    ]
