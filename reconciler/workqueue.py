"""A controller-runtime style work queue: deduplicated keys, one worker per key, timers, backoff.

The rules (client-go's ``workqueue`` semantics, which level-triggered controllers rely on):

* a key waiting in the queue is stored once, however often it is added (*dedup*);
* a key being processed is never handed to a second worker; adding it meanwhile marks it
  *dirty*, and :meth:`WorkQueue.done` puts it back so the change is not lost;
* :meth:`WorkQueue.add_after` arms a timer (the "requeue after" of a reconcile); a timer for a
  key that is already due earlier is ignored, as client-go's delaying queue keeps the earliest;
* :meth:`WorkQueue.add_rate_limited` retries a key after a per-key exponential backoff that
  :meth:`WorkQueue.forget` resets (on success).

Time comes from a :class:`~reconciler.clock.Clock`. With a ``VirtualClock`` nothing ever sleeps:
a single-threaded driver asks :meth:`WorkQueue.next_timer` when the queue is empty and advances
the clock to it.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from .clock import Clock, RealClock

__all__ = ["Backoff", "WorkQueue"]

K = TypeVar("K", bound=Hashable)

# How long a blocked get() waits at most before re-checking timers. Timers are measured on the
# queue's clock, which may be virtual (moved by another thread), so a condition wait alone
# cannot know when one falls due.
_TIMER_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Backoff:
    """Per-key exponential backoff: ``base * factor**(failures - 1)``, at most ``cap`` seconds."""

    base: float = 1.0
    factor: float = 2.0
    cap: float = 300.0

    def __post_init__(self) -> None:
        if self.base <= 0 or self.factor < 1 or self.cap < self.base:
            raise ValueError(f"invalid backoff {self}: need base > 0, factor >= 1, cap >= base")

    def delay(self, failures: int) -> float:
        """The delay before retry number ``failures`` (1 = after the first failure)."""
        if failures <= 0:
            return 0.0
        # Compare exponents first so huge failure counts cannot overflow a float.
        exponent = failures - 1
        if self.factor > 1 and exponent * math.log(self.factor) >= math.log(self.cap / self.base):
            return self.cap
        return min(self.cap, self.base * self.factor**exponent)


class WorkQueue(Generic[K]):
    """Thread-safe work queue of hashable keys (see the module docstring for the rules)."""

    def __init__(self, clock: Clock | None = None, backoff: Backoff | None = None, name: str = "") -> None:
        self.clock: Clock = clock or RealClock()
        self.backoff = backoff or Backoff()
        self.name = name
        # Held with ``with self._lock`` (a C-level context manager); ``self._cond`` waits and
        # notifies on it. Entering the Condition itself runs Python code, on every queue call.
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._failures: dict[K, int] = {}
        # Timers: a heap of (due, seq, key) plus the earliest due time per key; stale heap
        # entries (superseded by an earlier timer for the same key) are skipped when popped.
        self._timers: list[tuple[float, int, K]] = []
        self._due: dict[K, float] = {}
        self._seq = itertools.count()
        self._shutting_down = False
        # get() calls blocked in a wait: with none (always, single-threaded) adding a key skips
        # the notify, which builds a deque of waiters on every call.
        self._waiting = 0

    # -- adding ---------------------------------------------------------------------------------

    def add(self, key: K) -> None:
        """Make ``key`` ready now (a no-op if it is already waiting)."""
        with self._lock:
            self._add_locked(key)

    def _add_locked(self, key: K) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.append(key)
            if self._waiting:
                self._cond.notify()

    def add_after(self, key: K, delay: float) -> None:
        """Make ``key`` ready once ``delay`` seconds have passed on the queue's clock."""
        if delay <= 0:
            self.add(key)
            return
        with self._lock:
            if self._shutting_down:
                return
            due = self.clock.monotonic() + delay
            current = self._due.get(key)
            if current is not None and current <= due:
                return  # an earlier timer already covers this one
            self._due[key] = due
            heapq.heappush(self._timers, (due, next(self._seq), key))
            if self._waiting:
                self._cond.notify()

    def add_rate_limited(self, key: K, at_least: float = 0.0) -> float:
        """Retry ``key`` after its next backoff delay (not less than ``at_least``, e.g. a server's
        Retry-After). Returns the delay chosen."""
        with self._lock:
            failures = self._failures.get(key, 0) + 1
            self._failures[key] = failures
        delay = max(self.backoff.delay(failures), at_least)
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        """Reset ``key``'s backoff (call after it was processed successfully)."""
        if key not in self._failures:
            return  # the usual case, after every successful reconcile: no need for the lock
        with self._lock:
            self._failures.pop(key, None)

    def failures(self, key: K) -> int:
        """How many consecutive times ``key`` was rate-limited since it was last forgotten."""
        with self._lock:
            return self._failures.get(key, 0)

    # -- taking -----------------------------------------------------------------------------------

    def get(self, timeout: float | None = None) -> K | None:
        """The next ready key, now marked as processing; None on shutdown or after ``timeout``
        real seconds (0: do not wait). Every key returned must be passed to :meth:`done`."""
        deadline = None if timeout is None or timeout <= 0 else time.monotonic() + timeout
        with self._lock:
            while True:
                self._promote_due_locked()
                if self._queue:
                    key = self._queue.popleft()
                    self._dirty.discard(key)
                    self._processing.add(key)
                    return key
                if self._shutting_down:
                    return None
                if timeout is not None and timeout <= 0:
                    return None  # a single-threaded driver asking each controller in turn
                wait = _TIMER_POLL_SECONDS if self._timers else None
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return None
                    wait = remaining if wait is None else min(wait, remaining)
                self._waiting += 1
                try:
                    self._cond.wait(wait)
                finally:
                    self._waiting -= 1

    def done(self, key: K) -> None:
        """Finish processing ``key``; if it was added meanwhile it becomes ready again."""
        with self._lock:
            self._processing.discard(key)
            if key in self._dirty:
                self._queue.append(key)
                if self._waiting:
                    self._cond.notify()

    # -- timers and state, for drivers ----------------------------------------------------------

    def promote_due(self) -> int:
        """Move timers that are due on the clock into the queue; returns how many moved."""
        with self._lock:
            return self._promote_due_locked()

    def _promote_due_locked(self) -> int:
        if not self._timers:
            return 0  # no need to read the clock (a virtual one takes a lock)
        now = self.clock.monotonic()
        moved = 0
        while self._timers and self._timers[0][0] <= now:
            due, _, key = heapq.heappop(self._timers)
            if self._due.get(key) != due:
                continue  # superseded by an earlier timer for the same key
            del self._due[key]
            self._add_locked(key)
            moved += 1
        return moved

    def next_timer(self) -> float | None:
        """Monotonic time (on the queue's clock) of the earliest pending timer, or None."""
        with self._lock:
            while self._timers and self._due.get(self._timers[0][2]) != self._timers[0][0]:
                heapq.heappop(self._timers)
            return self._timers[0][0] if self._timers else None

    def ready(self) -> int:
        """How many keys are ready to be taken now (timers not yet due excluded)."""
        with self._lock:
            self._promote_due_locked()
            return len(self._queue)

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def processing(self) -> frozenset[K]:
        with self._lock:
            return frozenset(self._processing)

    @property
    def pending_timers(self) -> int:
        with self._lock:
            return len(self._due)

    def idle(self) -> bool:
        """Nothing ready, nothing processing (timers may still be pending)."""
        with self._lock:
            self._promote_due_locked()
            return not self._queue and not self._processing

    def shutdown(self) -> None:
        """Stop handing out keys; blocked :meth:`get` calls return None. Timers are dropped."""
        with self._lock:
            self._shutting_down = True
            self._timers.clear()
            self._due.clear()
            self._cond.notify_all()

    @property
    def shutting_down(self) -> bool:
        with self._lock:
            return self._shutting_down
