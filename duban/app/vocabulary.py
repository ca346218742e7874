"""The one vocabulary (`domain.vocabulary`), for the entry points: the Chinese label of every
code a person may read, and the Chinese names of fields.

The CLI, the API and the web board take their words through this module, so that they import
the application layer only.
"""

from __future__ import annotations

from domain.vocabulary import (
    ACTION_LABELS,
    AUDIENCE_LABELS,
    EVENT_LABELS,
    FIELD_LABELS,
    LIGHT_LABELS,
    MEASURE_LABELS,
    MILESTONE_VIA_LABELS,
    PERSON_STATE_LABELS,
    PLATFORM_LABELS,
    RECOGNITION_KIND_LABELS,
    RECOGNITION_LABELS,
    ROLE_LABELS,
    RUNG_LABELS,
    SESSION_STATE_LABELS,
    SIGNIN_HOW_LABELS,
    TARGET_LABELS,
    TASK_STATUS_LABELS,
    UNKNOWN,
    actor_text,
    date_text,
    event_label,
    field_label,
    label,
    moment_text,
)

__all__ = [
    "ACTION_LABELS",
    "AUDIENCE_LABELS",
    "EVENT_LABELS",
    "FIELD_LABELS",
    "LIGHT_LABELS",
    "MEASURE_LABELS",
    "MILESTONE_VIA_LABELS",
    "PERSON_STATE_LABELS",
    "PLATFORM_LABELS",
    "RECOGNITION_KIND_LABELS",
    "RECOGNITION_LABELS",
    "ROLE_LABELS",
    "RUNG_LABELS",
    "SESSION_STATE_LABELS",
    "SIGNIN_HOW_LABELS",
    "TARGET_LABELS",
    "TASK_STATUS_LABELS",
    "UNKNOWN",
    "actor_text",
    "date_text",
    "event_label",
    "field_label",
    "label",
    "moment_text",
]
