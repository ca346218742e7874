"""The door an action came through (web session, API token), in words, for the entry points:
the audit trail's one rule (`projections.audit_via`), so that `duban task history` says
「张伟（网页登录）」 exactly as the audit text does."""

from __future__ import annotations

from projections.audit_via import via_of, via_text

__all__ = ["via_of", "via_text"]
