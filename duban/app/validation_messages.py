"""pydantic's validation errors in Chinese (the module is `duban.settings.validation_messages`,
below the application so that the config uses it too): the API and the importer take it here."""

from __future__ import annotations

from duban.settings.validation_messages import (
    ASCII_WORD,
    GENERIC,
    VALUE_LABELS,
    has_chinese,
    label_of,
    problem_message,
    translate,
)

__all__ = [
    "ASCII_WORD",
    "GENERIC",
    "VALUE_LABELS",
    "has_chinese",
    "label_of",
    "problem_message",
    "translate",
]
