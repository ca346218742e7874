"""A 督办单 or 通报 as a PDF in the layout of a 公文: the red header (发文机关标志 in red over a red
rule), the number, the title, the task's facts, its escalation history, the reason and the date.

The Chinese text is set in a CJK TrueType font embedded in the file (the config's
`[documents] font`, else the first of `FONT_CANDIDATES` present, e.g. Debian's
fonts-wqy-zenhei); with none installed, reportlab's built-in 宋体 (not embedded) is used, so a
document can always be printed.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from xml.sax.saxutils import escape

import structlog
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, HRFlowable, Paragraph, SimpleDocTemplate, Spacer, Table

from domain.dates import chinese_date
from duban.app.documents import Document, target_name
from duban.settings.config import Config

__all__ = ["FONT_CANDIDATES", "document_pdf"]

log = structlog.get_logger(__name__)

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
RED = colors.HexColor("#D40000")


@functools.cache
def _font(configured: str | None) -> str:
    """The registered name of the font to set the document in."""
    for path in (configured, *FONT_CANDIDATES):
        if path and Path(path).is_file():
            name = f"duban-cjk-{Path(path).stem}"
            index = 0 if path.lower().endswith(".ttc") else None
            font = (
                TTFont(name, path, subfontIndex=index) if index is not None else TTFont(name, path)
            )
            pdfmetrics.registerFont(font)
            return name
    log.warning("document_font_missing", tried=[configured, *FONT_CANDIDATES])
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=12, leading=20, wordWrap="CJK")
    return {
        "header": ParagraphStyle(
            "header", parent=base, fontSize=24, leading=34, alignment=TA_CENTER, textColor=RED
        ),
        "number": ParagraphStyle("number", parent=base, fontSize=13, alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=28, alignment=TA_CENTER),
        "heading": ParagraphStyle("heading", parent=base, fontSize=13, spaceBefore=8),
        "body": base,
        "para": ParagraphStyle("para", parent=base, firstLineIndent=24),
        "cell": ParagraphStyle("cell", parent=base, fontSize=11, leading=16),
        "sign": ParagraphStyle("sign", parent=base, alignment=TA_RIGHT),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _facts(doc: Document, s: dict[str, ParagraphStyle]) -> Table:
    deadline = doc.deadline or doc.due
    rows = [
        ("任务编号", doc.task_code),
        ("改革任务", doc.title),
        ("牵头单位", doc.unit),
        ("配合单位", "、".join(doc.co_units) or "无"),
        ("领衔领导", doc.official or "无"),
        ("完成时限", chinese_date(deadline, numerals=True)),
    ]
    if doc.target != "deadline":
        rows.append(
            ("督办事项", f"{target_name(doc.target)}（{chinese_date(doc.due, numerals=True)}）")
        )
    table = Table(
        [[_p(k, s["cell"]), _p(v, s["cell"])] for k, v in rows],
        colWidths=[32 * mm, 128 * mm],
    )
    table.setStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F2F2F2")),
        ]
    )
    return table


def _history(doc: Document, s: dict[str, ParagraphStyle]) -> Flowable:
    if not doc.history:
        return _p("（无）", s["body"])
    rows = [[_p("日期", s["cell"]), _p("督办措施", s["cell"]), _p("事项", s["cell"])]]
    for h in doc.history:
        rows.append(
            [
                _p(h["at"].strftime("%Y-%m-%d %H:%M"), s["cell"]),
                _p(str(h["label"]), s["cell"]),
                _p(f"{target_name(str(h['target']))}（{h['due'].isoformat()}）", s["cell"]),
            ]
        )
    table = Table(rows, colWidths=[42 * mm, 40 * mm, 78 * mm], repeatRows=1)
    table.setStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)])
    return table


def document_pdf(doc: Document, config: Config) -> bytes:
    """The document as the bytes of a PDF file."""
    s = _styles(_font(config.documents.font))
    header = config.documents.header or config.office.name
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=25 * mm,
        title=f"{doc.number} {doc.kind_title}",
        author=header,
        subject=doc.title,
        invariant=True,
    )
    story: list[Flowable] = [
        _p(header, s["header"]),
        Spacer(1, 4 * mm),
        _p(doc.number, s["number"]),
        HRFlowable(width="100%", thickness=2, color=RED, spaceBefore=2 * mm, spaceAfter=6 * mm),
        _p(f"{doc.kind_title}", s["title"]),
        _p(f"关于{doc.task_code}「{doc.title}」", s["number"]),
        Spacer(1, 6 * mm),
        _p(f"{doc.unit}：", s["body"]),
        _p(doc.reason, s["para"]),
        Spacer(1, 4 * mm),
        _p("一、任务基本情况", s["heading"]),
        _facts(doc, s),
        _p("二、督办历程", s["heading"]),
        _history(doc, s),
        Spacer(1, 14 * mm),
        _p(header, s["sign"]),
        _p(chinese_date(doc.at, numerals=True), s["sign"]),  # 二〇二六年十二月二日
    ]
    pdf.build(story)
    return buffer.getvalue()
