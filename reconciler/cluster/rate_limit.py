"""Client-side rate limiting of API requests: client-go's token bucket (``--kube-api-qps`` and
``--kube-api-burst``).

A bucket holds at most ``burst`` tokens and refills at ``qps`` tokens per second; every request
takes one, waiting for it when the bucket is empty. So a controller can send ``burst`` requests
at once after a quiet spell but never more than ``qps`` a second for long, however many workers
it runs: one busy controller cannot flood the API server that every other client shares.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["DEFAULT_BURST", "DEFAULT_QPS", "TokenBucket"]

#: controller-runtime's defaults (client-go's own are 5 and 10; Tekton's controller passes
#: --kube-api-qps 5 / --kube-api-burst 10 and doubles both internally: 10 and 20).
DEFAULT_QPS = 20.0
DEFAULT_BURST = 30


class TokenBucket:
    """Thread-safe token bucket; ``qps`` 0 means no limit."""

    def __init__(
        self,
        qps: float,
        burst: int,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if qps < 0:
            raise ValueError(f"qps must not be negative, got {qps}")
        if qps > 0 and burst < 1:
            raise ValueError(f"burst must be at least 1 when qps is set, got {burst}")
        self.qps = qps
        self.burst = burst
        self._now = now
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = now()
        self._lock = threading.Lock()

    @property
    def unlimited(self) -> bool:
        return self.qps == 0

    def reserve(self) -> float:
        """Take a token; returns how long the caller must wait before using it (0: now). Tokens
        may go negative: waiting callers queue up in the order they reserved."""
        if self.unlimited:
            return 0.0
        with self._lock:
            now = self._now()
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.qps)
            self._updated = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def wait(self) -> float:
        """Block until a request may be sent; returns the seconds waited."""
        delay = self.reserve()
        if delay > 0:
            self._sleep(delay)
        return delay
