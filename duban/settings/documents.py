"""`[documents]`: how the office's 督办单 and 通报 are numbered and headed (PRODUCT.md rule 13).

[documents]
office_short = "县改办"                       # 县改办督〔2026〕12号
header = "中共某某县委全面深化改革委员会办公室"  # the red header (default: [office] name)
font = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"  # a CJK TrueType font (default: found)
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints, field_validator

from duban.settings.sections import Section

__all__ = ["Documents"]

_FORBIDDEN = "〔〕[]［］()（）"


class Documents(Section):
    office_short: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)
    ] = "县改办"
    header: str = ""
    font: str | None = None

    @field_validator("office_short")
    @classmethod
    def _short(cls, value: str) -> str:
        if any(c in value for c in _FORBIDDEN) or any(c.isspace() for c in value):
            raise ValueError("机关简称不能含括号或空格（如 县改办）")
        return value
