"""Kubernetes API errors as exceptions, shared by every ``Cluster`` implementation.

The classes mirror the API's ``Status`` object (code, reason, message) so callers branch on the
same facts whether they talk to a real API server or to ``MemoryCluster``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApiError",
    "ApiTimeout",
    "BadRequest",
    "Conflict",
    "Gone",
    "Invalid",
    "NotFound",
    "ServerError",
    "TooManyRequests",
    "error_for_status",
    "is_transient",
]


class ApiError(Exception):
    """An error answer from the API server: HTTP ``status``, machine ``reason``, human ``message``."""

    default_status = 500
    default_reason = "InternalError"

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message

    def to_status(self) -> dict[str, Any]:
        """The ``meta/v1 Status`` object the API server would send (used for watch ERROR events)."""
        return {
            "apiVersion": "v1",
            "kind": "Status",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.status,
        }


class BadRequest(ApiError):
    """400: the request itself is malformed (for example an invalid label selector)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "BadRequest", message)


class NotFound(ApiError):
    """404: the object, or the whole resource type (CRD not installed), does not exist."""

    def __init__(self, message: str) -> None:
        super().__init__(404, "NotFound", message)


class Conflict(ApiError):
    """409: ``AlreadyExists`` on create, ``Conflict`` on a stale resourceVersion or SSA ownership."""

    def __init__(self, message: str, reason: str = "Conflict") -> None:
        if reason not in ("Conflict", "AlreadyExists"):
            raise ValueError(f"409 reason must be Conflict or AlreadyExists, not {reason!r}")
        super().__init__(409, reason, message)

    @property
    def already_exists(self) -> bool:
        return self.reason == "AlreadyExists"


class Gone(ApiError):
    """410: the requested resourceVersion has been compacted; re-list and watch again."""

    def __init__(self, message: str) -> None:
        super().__init__(410, "Expired", message)


class Invalid(ApiError):
    """422: the object breaks a validation rule (immutable field, missing name, bad label)."""

    def __init__(self, message: str) -> None:
        super().__init__(422, "Invalid", message)


class TooManyRequests(ApiError):
    """429: throttled; ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(429, "TooManyRequests", message)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx (other than 504): the server failed; the request may be retried."""

    _REASONS = {500: "InternalError", 502: "BadGateway", 503: "ServiceUnavailable"}

    def __init__(self, message: str, status: int = 500) -> None:
        if not 500 <= status <= 599 or status == 504:
            raise ValueError(f"ServerError needs a 5xx status other than 504, got {status}")
        super().__init__(status, self._REASONS.get(status, "InternalError"), message)


class ApiTimeout(ApiError):
    """504 or a client-side timeout. The request may or may not have been carried out."""

    def __init__(self, message: str) -> None:
        super().__init__(504, "Timeout", message)


def error_for_status(status: int, message: str, reason: str | None = None) -> ApiError:
    """The most specific ``ApiError`` for an HTTP status (for adapters mapping client exceptions)."""
    if status == 400:
        return BadRequest(message)
    if status == 404:
        return NotFound(message)
    if status == 409:
        return Conflict(message, "AlreadyExists" if reason == "AlreadyExists" else "Conflict")
    if status == 410:
        return Gone(message)
    if status == 422:
        return Invalid(message)
    if status == 429:
        return TooManyRequests(message)
    if status == 504:
        return ApiTimeout(message)
    if 500 <= status <= 599:
        return ServerError(message, status)
    return ApiError(status, reason or "Unknown", message)


def is_transient(exc: BaseException) -> bool:
    """Whether retrying (after a backoff, re-reading state first) can succeed.

    Transient: 429, 5xx, timeouts (ours and the network's), 409 ``Conflict`` (stale
    resourceVersion: re-read and retry) and 410 (re-list, then watch again). Not transient:
    400, 404, 422 and 409 ``AlreadyExists`` — retrying the same request cannot change the answer.
    """
    if isinstance(exc, ApiError):
        if isinstance(exc, Conflict):
            return not exc.already_exists
        return exc.status in (410, 429) or exc.status >= 500
    return isinstance(exc, TimeoutError | ConnectionError)
