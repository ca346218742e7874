"""Deterministic aggregate ids from natural keys: creating the same thing twice collides."""

from __future__ import annotations

from uuid import UUID, uuid5

__all__ = ["NAMESPACE", "natural_id"]

NAMESPACE = UUID("6f1c9a52-2b9e-4c1e-9d0e-3d2a7c5b8e01")


def natural_id(kind: str, *parts: str) -> UUID:
    """The id of the aggregate of `kind` named by `parts` (e.g. a task by its code)."""
    return uuid5(NAMESPACE, "|".join((kind, *parts)))
