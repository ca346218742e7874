"""The audit trail as each audience may read it over the API.

- The office and auditors read every entry, without secret material: a token's digest and
  the fingerprints of signing secrets and webhooks (`projections.audit.SECRET_FIELDS`) are
  never returned to anyone; auditors verify the chain from the store (`duban audit verify`).
- Liaisons and leading officials read only the entries of the tasks they may see (their unit
  leads or co-operates them; the official leads them), with mobile numbers masked and nothing
  about tokens, channels or the directory (those entries belong to no task).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from domain.roles import Identity
from duban.app.masking import mask_mobiles
from projections.audit import SECRET_FIELDS

__all__ = ["audit_for", "codes_visible_to"]

_EVERYTHING = frozenset({"office", "auditor", "system"})
# `name=value` in a summary (the generic description of an event type, a channel's settings
# as older versions described them), for the secret fields.
_SECRET_IN_SUMMARY = re.compile(
    rf"(?<=[：；，])(?:{'|'.join(sorted(SECRET_FIELDS))})=[^；，]*(?:[；，]|$)"
)


def codes_visible_to(who: Identity, rows: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The codes of the board rows (tasks) whose trail `who` may read."""
    if who.role == "liaison":
        return frozenset(
            r["code"] for r in rows if who.unit in (r["lead_unit"], *(r["co_units"] or ()))
        )
    if who.role == "official":
        return frozenset(r["code"] for r in rows if r["official"] == who.name)
    return frozenset()


def audit_for(
    who: Identity,
    entries: Iterable[dict[str, Any]],
    visible: Callable[[], frozenset[str]],
) -> list[dict[str, Any]]:
    """The entries `who` may read, as they may read them. `visible` gives the codes of the
    tasks a liaison or official may see (asked only for them: `codes_visible_to`)."""
    if who.role in _EVERYTHING:
        return [_without_secrets_entry(e) for e in entries]
    codes = visible()
    return [_masked(_without_secrets_entry(e)) for e in entries if codes.intersection(e["tasks"])]


def _without_secrets_entry(entry: dict[str, Any]) -> dict[str, Any]:
    summary = _SECRET_IN_SUMMARY.sub("", entry["summary"]).rstrip("；，：")
    data = _without_secrets(entry["data"])
    if entry.get("type") == "WebSecret.Made":  # the CSRF key itself
        data = {k: v for k, v in data.items() if k != "key"}
    return {**entry, "summary": summary, "data": data}


def _without_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items() if k not in SECRET_FIELDS}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def _masked(entry: dict[str, Any]) -> dict[str, Any]:
    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return mask_mobiles(value)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return {k: walk(v) if k in ("actor", "who", "summary", "data") else v for k, v in entry.items()}
