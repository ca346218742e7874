"""What every form handler of the workspace reads and answers with: a text field as sent, and a
refused command's reason in Chinese (the field named as the form labels it)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError
from starlette.datastructures import FormData

from duban.app.validation_messages import translate

__all__ = ["FORM_FIELD_NAMES", "field", "refusal"]

# How the office's and the units' forms name their fields in a refusal.
FORM_FIELD_NAMES: Mapping[str, str] = {
    "reason": "理由",
    "new_deadline": "新的完成时限",
    "text": "审核意见",
    "title": "名称",
    "kind": "类别",
    "level": "级别",
    "name": "姓名",
}


def field(form: FormData, name: str) -> str:
    """A text field as sent ("" when missing, or when a file was sent in its place)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def refusal(exc: Exception, names: Mapping[str, str] = FORM_FIELD_NAMES) -> str:
    """A refused command's reason in Chinese (a domain/application error or bad input)."""
    if isinstance(exc, ValidationError):
        return "；".join(p["message"] for p in translate(exc.errors(), dict(names)))
    return str(getattr(exc, "message", exc))
