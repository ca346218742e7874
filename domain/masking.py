"""Mobile numbers masked for readers who must not see them: `mask_mobiles`.

A mainland mobile number is eleven digits, `1[3-9]` then nine more. People type it in many
ways, and every one of them is masked: `13812345678`, `+8613812345678`, `0086 138…`,
`+86 138 1234 5678`, `138-1234-5678`, `138.1234.5678`, full-width digits (`１３８…`), and with
zero-width characters slipped between the digits. What is shown is `138****5678` (ASCII digits,
any `+86` prefix kept as typed). A longer run of digits (an id number, a hash) is not a mobile
and is left alone: the number must not touch another digit.

The one masking rule of the project: the web board applies it to every value it shows, and
the application re-exports it (`duban.app.masking`) for the other entry points.
"""

from __future__ import annotations

import re

__all__ = ["MOBILE_SEPARATORS", "mask_mobiles"]

_DIGIT = "0-9\uff10-\uff19"  # ASCII and full-width
MOBILE_SEPARATORS = (
    " -.\u00a0\u3000\uff0d\uff0e\u2010\u2011\u2012\u2013\u2014\u2015\u200b\u200c\u200d\u2060\ufeff"
)
"""What may stand between the digits of one number: spaces, hyphens, dashes, dots, zero-width."""
_SEP = "[" + re.escape(MOBILE_SEPARATORS) + "]{0,2}"
_MOBILE = re.compile(
    rf"(?<![{_DIGIT}])"
    rf"(?P<prefix>(?:[+\uff0b]|00|\uff10\uff10)?[8\uff18]{_SEP}[6\uff16]{_SEP})?"
    rf"(?P<number>[1\uff11]{_SEP}[3-9\uff13-\uff19](?:{_SEP}[{_DIGIT}]){{9}})"
    rf"(?![{_DIGIT}])"
)
_ASCII = str.maketrans("０１２３４５６７８９", "0123456789")


def mask_mobiles(text: str) -> str:
    """Every mobile number in `text` as `138****5678`. Idempotent."""
    return _MOBILE.sub(_masked, text)


def _masked(match: re.Match[str]) -> str:
    digits = "".join(ch for ch in match["number"].translate(_ASCII) if ch.isdigit())
    return f"{match['prefix'] or ''}{digits[:3]}****{digits[-4:]}"
