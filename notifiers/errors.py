"""The notifiers' exception tree, written out once.

Sending never raises: a refused or failed delivery is a `DeliveryAnswer`. These errors are for
mistakes a person must fix before anything can be sent: a webhook pointing somewhere it must not,
a byte budget too small to hold a message, a platform nobody implemented.
"""

from __future__ import annotations

__all__ = [
    "BudgetTooSmall",
    "NotifierError",
    "UnknownPlatform",
    "WebhookNotAllowed",
]


class NotifierError(Exception):
    """Base of every error raised by `notifiers`. Messages never carry a key, token or secret."""


class WebhookNotAllowed(NotifierError, ValueError):
    """The webhook URL is not the platform's own host over https, nor in the allow-list."""


class UnknownPlatform(NotifierError, ValueError):
    """No notifier exists for the named platform."""


class BudgetTooSmall(NotifierError, ValueError):
    """A byte budget cannot hold the part numbering plus one character."""
