"""The board's templates with every shown value masked: no page prints a mobile number.

`masked_templates` is Jinja2Templates whose `finalize` passes each `{{ … }}` value through the
one masking rule (`duban.app.masking.mask_mobiles`) before autoescaping: titles, notes,
progress texts, reasons, who did what, every recorded field of the timeline, and whatever a
template shows tomorrow. Values that are not text (numbers, dates as objects) are unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from duban.app.masking import mask_mobiles

__all__ = ["Unmasked", "masked_templates", "shown"]


class Unmasked(str):
    """A generated value shown as it is (a digest in a link): masking it would break it."""


def shown(value: Any) -> Any:
    """`value` as a page may show it: text with its mobile numbers masked."""
    if isinstance(value, Unmasked):
        return str(value)
    if isinstance(value, Markup):  # safe HTML already: replacing digits keeps it safe
        return Markup(mask_mobiles(str(value)))  # noqa: S704
    if isinstance(value, str):
        return mask_mobiles(value)
    return value


def masked_templates(directory: Path) -> Jinja2Templates:
    templates = Jinja2Templates(directory=directory)
    templates.env.finalize = shown
    return templates
