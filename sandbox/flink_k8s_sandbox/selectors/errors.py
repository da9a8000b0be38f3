"""The one error a selector raises."""

from __future__ import annotations

__all__ = ["SelectorError"]


class SelectorError(ValueError):
    """Raised when a selector is refused; the message is the API server's (a 400)."""
