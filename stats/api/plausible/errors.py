"""Plausible's error answer, raised anywhere in its API and answered by its views."""

from __future__ import annotations


class PlausibleError(ValueError):
    """Plausible's error answer: ``{"error": message}`` with ``status``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status
