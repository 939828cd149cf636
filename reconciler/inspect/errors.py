"""The one error the inspection functions raise: a sentence for the user (exit status 1)."""

from __future__ import annotations

__all__ = ["InspectError", "NotStartedError"]


class InspectError(Exception):
    """An unknown workflow, step or attempt, or a log that does not exist (yet)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotStartedError(InspectError):
    """The step (or every step) has not started a pod yet: a follower may wait for it."""
