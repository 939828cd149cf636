"""Injectable time.

Everything in the reconciler that reads the time or waits takes a :class:`Clock`, so tests can run
hours of backoff, timeouts and leases in milliseconds with a :class:`VirtualClock`.
"""

from __future__ import annotations

import functools
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

    The embedded loop asks for the time hundreds of thousands of times a run while it moves a
    few thousand times: reads take no lock (reading one attribute is atomic; only ``advance``'s
    read-modify-write needs it), and ``now()`` hands out the same datetime until time moves.
    """

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start time")
        self._start = start.astimezone(UTC)
        self._elapsed = 0.0
        self._lock = threading.Lock()
        self._now = (0.0, self._start)  # (elapsed, the datetime it makes), replaced whole

    def now(self) -> datetime:
        elapsed = self._elapsed
        known, value = self._now
        if known != elapsed:
            value = self._start + timedelta(seconds=elapsed)
            self._now = (elapsed, value)
        return value

    def monotonic(self) -> float:
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


# rfc3339 and parse_rfc3339 are pure, memoised: controllers format and parse the same few
# timestamps (now, a workflow's start) on every reconcile, and strftime is slow.
@functools.lru_cache(maxsize=256)
def rfc3339(dt: datetime) -> str:
    """``2026-01-01T00:00:00Z``: UTC, whole seconds, as Kubernetes writes timestamps."""
    if dt.tzinfo is None:
        raise ValueError("rfc3339() needs a timezone-aware datetime")
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=4096)
def parse_rfc3339(text: str) -> datetime:
    """The inverse of :func:`rfc3339`; also accepts fractional seconds and numeric offsets."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if value.tzinfo is None:
        raise ValueError(f"timestamp without a timezone: {text!r}")
    return value.astimezone(UTC)
