"""The board's templates with every shown value masked: no page prints a mobile number.

`masked_templates` is Jinja2Templates whose `finalize` passes each `{{ … }}` value through the
one masking rule (`duban.app.masking.mask_mobiles`) before autoescaping: titles, notes,
progress texts, reasons, who did what, every recorded field of the timeline, and whatever a
template shows tomorrow. Values that are not text (numbers, dates as objects) are unchanged.

Two kinds of value are shown as they are: `Unmasked` text (a generated value such as a digest
in a link, and a refused form's own input, `as_typed`: a person's typed mobile number given
back masked would be input lost; still autoescaped) and `UnmaskedMarkup` (HTML we generated
around such a value, the CSRF field: a token with an 11-digit run must reach the form whole).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from duban.app.masking import mask_mobiles

__all__ = ["Unmasked", "UnmaskedMarkup", "as_typed", "masked_templates", "shown"]


class Unmasked(str):
    """A value shown as it is (a digest in a link, a form's input as typed): masking it would
    break it. Still autoescaped."""


class UnmaskedMarkup(Markup):
    """Safe HTML we generated whose values must not be masked (the CSRF field's token).
    Markup's operations (`%`, `+`, `format`) keep this class."""


def as_typed(values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> dict[str, Unmasked]:
    """A refused form's text fields as the person typed them (files and the like left out),
    for the page that shows the form again."""
    pairs = values.items() if isinstance(values, Mapping) else values
    return {name: Unmasked(value) for name, value in pairs if isinstance(value, str)}


def shown(value: Any) -> Any:
    """`value` as a page may show it: text with its mobile numbers masked."""
    if isinstance(value, Unmasked):
        return str(value)
    if isinstance(value, UnmaskedMarkup):
        return Markup(value)  # noqa: S704 (already safe HTML)
    if isinstance(value, Markup):  # safe HTML already: replacing digits keeps it safe
        return Markup(mask_mobiles(str(value)))  # noqa: S704
    if isinstance(value, str):
        return mask_mobiles(value)
    return value


def masked_templates(directory: Path) -> Jinja2Templates:
    templates = Jinja2Templates(directory=directory)
    templates.env.finalize = shown
    return templates
