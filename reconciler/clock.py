"""Injectable time.

Everything in the reconciler that reads the time or waits takes a :class:`Clock`, so tests can run
hours of backoff, timeouts and leases in milliseconds with a :class:`VirtualClock`.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "RealClock", "VirtualClock", "parse_rfc3339", "rfc3339"]


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current wall-clock time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for durations and deadlines)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``; a virtual clock only moves time."""
        ...


class RealClock:
    """The system clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """A clock that moves only when told to: ``sleep`` and ``advance`` return at once.

    Thread-safe. ``monotonic()`` starts at 0.0 and tracks ``now()`` exactly.
    """

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start time")
        self._start = start.astimezone(UTC)
        self._elapsed = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    def sleep(self, seconds: float) -> None:
        # A negative sleep is a no-op for time.sleep's callers' sake (computed deadlines in the past).
        if seconds > 0:
            self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (never backwards: monotonic must stay monotonic)."""
        if seconds < 0:
            raise ValueError(f"cannot move a clock backwards ({seconds} s)")
        with self._lock:
            self._elapsed += seconds


def rfc3339(dt: datetime) -> str:
    """``2026-01-01T00:00:00Z``: UTC, whole seconds, as Kubernetes writes timestamps."""
    if dt.tzinfo is None:
        raise ValueError("rfc3339() needs a timezone-aware datetime")
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    """The inverse of :func:`rfc3339`; also accepts fractional seconds and numeric offsets."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if value.tzinfo is None:
        raise ValueError(f"timestamp without a timezone: {text!r}")
    return value.astimezone(UTC)
