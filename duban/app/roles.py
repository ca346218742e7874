"""Who may do what, for the entry points: the domain's one authorization rule (`domain.roles`).

The CLI, the API and the web board name identities, roles and actions through this module, so
that they import the application layer only.
"""

from __future__ import annotations

from domain.roles import ROLES, Action, Identity, Role, authorize

__all__ = ["ROLES", "Action", "Identity", "Role", "authorize"]
