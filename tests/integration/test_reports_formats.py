"""The reports as files: the Excel 台账 (openpyxl and LibreOffice), Markdown split to each
platform's limit, JSON, HTML with inline SVG, and the `duban report` command line."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from duban.app.report_docs import (
    LEDGER_COLUMNS,
    markdown_parts,
    render_html,
    render_json,
    render_markdown,
    write_xlsx,
)
from notifiers.limits import BODY_LIMITS
from notifiers.split import strip_numbering, utf8_len
from projections.report_annual import annual_assessment
from projections.report_monthly import monthly_analysis
from projections.report_quarterly import quarterly_dispatch
from tests.integration.test_reports_year import Year, context, year
from tests.support.cli_zygote import run_cli
from tests.support.clock import FIXED_NOW, NOW_ENV

# `year`: the scripted year, shared with test_reports_year; the LibreOffice helper, with
# test_export_formulas.
__all__ = ["CSV_EVERY_SHEET", "libreoffice_convert", "needs_libreoffice", "year"]

HEADERS = ["序号", "编号", "改革任务", "牵头单位", "配合单位", "领衔领导", "完成时限",
           "阶段节点", "进展情况", "进度", "最近报送日期", "当前状态", "红黄绿灯",
           "逾期工作日"]  # fmt: skip


def test_the_monthly_ledger_has_chinese_headers_and_one_row_per_task(
    year: Year, tmp_path: Path
) -> None:
    report = monthly_analysis(context(year.ledger), "2024-07")
    path = tmp_path / "2024-07.xlsx"
    write_xlsx(report, path)
    book = load_workbook(path)
    assert book.sheetnames[:2] == ["台账", "汇总"]
    sheet = book["台账"]
    assert [c.value for c in sheet[3]] == HEADERS == [c[0] for c in LEDGER_COLUMNS]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 35
    assert [r[1] for r in rows] == [f"2024-{n:02d}" for n in range(1, 36)]
    overdue = {r[1]: r[13] for r in rows if r[13]}
    # due 06-30, open at 07-31: 23 working days (the board's count), not 31 calendar days
    assert overdue == {"2024-06": 23, "2024-19": 23, "2024-32": 23}
    summary = list(book["汇总"].iter_rows(min_row=4, values_only=True))
    assert summary[-1][:2] == ("合计", 35)


needs_libreoffice = pytest.mark.skipif(
    shutil.which("soffice") is None,
    reason="LibreOffice (soffice) is not installed; `make test` installs it "
    "through scripts/ensure-system-deps.sh",
)

# LibreOffice's CSV filter: comma, double quote, UTF-8, …, the last token -1 = every sheet,
# each to `<file>-<sheet>.csv`.
CSV_EVERY_SHEET = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def libreoffice_convert(files: list[Path], target: str, outdir: Path, home: Path) -> None:
    """Open `files` in headless LibreOffice and save them as `target` (pdf, CSV_EVERY_SHEET)."""
    profile = home / "lo-profile"
    env = {**os.environ, "HOME": str(home)}
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
         "--convert-to", target, "--outdir", str(outdir), *map(str, files)],
        check=True, env=env, capture_output=True, timeout=240,
    )  # fmt: skip


@needs_libreoffice
def test_libreoffice_opens_the_excel_files(year: Year, tmp_path: Path) -> None:
    ctx = context(year.ledger)
    files = []
    for name, report in [
        ("monthly", monthly_analysis(ctx, "2024-07")),
        ("quarterly", quarterly_dispatch(ctx, 2024, 3)),
        ("assessment", annual_assessment(ctx, 2024, dt.date(2024, 12, 31))),
    ]:
        files.append(tmp_path / f"{name}.xlsx")
        write_xlsx(report, files[-1])
    libreoffice_convert(files, "pdf", tmp_path / "pdf", tmp_path)
    for file in files:
        pdf = tmp_path / "pdf" / f"{file.stem}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("platform", ["dingtalk", "feishu", "wecom"])
def test_the_markdown_fits_each_platform_after_splitting(year: Year, platform: str) -> None:
    ctx = context(year.ledger)
    for report in [
        monthly_analysis(ctx, "2024-07"),
        quarterly_dispatch(ctx, 2024, 3),
        annual_assessment(ctx, 2024, dt.date(2024, 12, 31)),
    ]:
        parts = markdown_parts(report, platform)
        assert all(utf8_len(p) <= BODY_LIMITS[platform] for p in parts)
        whole = "".join(strip_numbering(p) for p in parts)
        assert "县人力资源和社会保障局" in whole
    assert len(markdown_parts(monthly_analysis(ctx, "2024-07"), "wecom")) > 1


def test_the_console_has_no_limit_so_the_markdown_comes_whole(year: Year) -> None:
    ctx = context(year.ledger)
    report = monthly_analysis(ctx, "2024-07")  # more than one part on WeCom
    assert markdown_parts(report, "console") == [render_markdown(report)]
    with pytest.raises(ValueError, match="unknown platform 'telegram'"):
        markdown_parts(report, "telegram")


def test_json_and_html(year: Year) -> None:
    report = annual_assessment(context(year.ledger), 2024, dt.date(2024, 12, 31))
    assert json.loads(render_json(report)) == report
    page = render_html(report)
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 1
    assert "县农业农村局" in page
    monthly = render_html(monthly_analysis(context(year.ledger), "2024-07"))
    assert monthly.count("<svg") == 2
    assert "<script" not in monthly


def _duban(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(["--config", str(config), *args])


def test_the_command_line_writes_each_format(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "duban.toml"
    config.write_text(
        f'store = "{sqlite_url}"\n'
        '[[channels]]\nname = "office"\nplatform = "console"\n'
        '[[channels]]\nname = "leaders"\nplatform = "console"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv(NOW_ENV, FIXED_NOW.isoformat())  # every command runs at this moment
    today = FIXED_NOW.date()
    sample = Path(__file__).resolve().parents[2] / "examples" / "tasks-2024.csv"
    assert _duban(config, "import", str(sample)).returncode == 0
    result = _duban(config, "report", "assessment", str(today.year), "--format", "json")
    assert result.returncode == 0, result.stderr
    units = json.loads(result.stdout)["units"]
    assert len(units) > 30
    # Imported now, a 2024 list is past every deadline it names: only overdue-unfinished
    # points, e.g. 县农业农村局: lead 2024-09 and 2024-10 (due 2024-12-31) −5 each, co 2024-31
    # (due 2024-12-31) −2.5; its co-unit tasks 2024-07 and 2024-12 have no date.
    assert {p["kind"] for u in units for p in u["points"]} == {"lead_overdue", "co_overdue"}
    assert {u["unit"]: u["score"] for u in units}["县农业农村局"] == 100 - 5 - 5 - 2.5
    out = tmp_path / "m.xlsx"
    month = today.isoformat()[:7]
    done = _duban(config, "report", "monthly", month, "--format", "xlsx", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert load_workbook(out)["台账"].max_row == 3 + 35
    html = tmp_path / "q.html"
    quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    done = _duban(config, "report", "quarterly", quarter, "--format", "html", "--output", str(html))
    assert done.returncode == 0, done.stderr
    assert "<svg" in html.read_text(encoding="utf-8")
    assert _duban(config, "report", "quarterly", "2024Q5").returncode == 2
