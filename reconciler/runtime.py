"""The ``Manager``: several controllers over one cluster and one clock, driven two ways.

* **Single-threaded** (deterministic tests, ``kubernaut run``): :meth:`Manager.run_until_idle`
  and :meth:`Manager.run_until` poll the watches that have something pending (the embedded
  cluster's watches say so; others are always polled), reconcile ready keys one at a time
  (round-robin over the controllers) and, when nothing is ready, jump a ``VirtualClock`` to the next
  timer — hours of backoff and step durations run in milliseconds. With a real clock the driver
  sleeps until that timer instead.
* **Threaded** (the in-cluster controller): :meth:`Manager.start` runs one watch thread per
  watched kind and ``workers`` threads per controller; :meth:`Manager.stop` ends them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from .cache import Informer, InformerCache
from .clock import Clock, RealClock, VirtualClock
from .cluster import Cluster
from .controller import Controller, InformerSource, WatchSource

__all__ = ["Manager"]

log = logging.getLogger(__name__)

# Real seconds a watch thread or worker blocks before re-checking whether it should stop.
_THREAD_POLL_SECONDS = 0.1
# Longest real sleep of run_until in one go, so watch events from elsewhere are noticed.
_REAL_SLEEP_SLICE = 0.1


class Manager:
    def __init__(self, cluster: Cluster, clock: Clock | None = None) -> None:
        self.cluster = cluster
        self.clock: Clock = clock or RealClock()
        self.controllers: list[Controller] = []
        self._next = 0  # round-robin position
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        #: Informers feeding the watches of controllers added after :meth:`use_informers`.
        self.informers: InformerCache | None = None
        self._feeds: list[Informer | WatchSource] | None = None  # what poll_watches polls

    def use_informers(self, informers: InformerCache) -> InformerCache:
        """Feed the watches of controllers added from now on from ``informers`` (where it
        caches their kinds); :meth:`stop` closes it."""
        self.informers = informers
        return informers

    def add(self, controller: Controller) -> Controller:
        """Bind ``controller`` to this manager's cluster and clock and drive it from now on."""
        if any(c.name == controller.name for c in self.controllers):
            raise ValueError(f"a controller named {controller.name!r} is already registered")
        controller.bind(self.cluster, self.clock, self.informers)
        self.controllers.append(controller)
        self._feeds = None
        if self._threads:
            self._start_threads(controller)
        return controller

    def get(self, name: str) -> Controller:
        for controller in self.controllers:
            if controller.name == name:
                return controller
        raise KeyError(name)

    # -- single-threaded driving ------------------------------------------------------------------

    def poll_watches(self) -> int:
        """Let every feed with something pending deliver it; returns the number of events handled.
        Most steps leave most watches quiet: asking first is much cheaper than polling them."""
        feeds = self._feeds
        if feeds is None:  # each shared informer once, however many controllers it feeds
            feeds = self._feeds = list({id(f): f for c in self.controllers for f in c.feeds()}.values())
        handled = 0
        for feed in feeds:
            if feed.pending():
                handled += feed.poll()
        return handled

    def step(self) -> bool:
        """Poll the watches, then reconcile at most one ready key. False when nothing was ready."""
        self.poll_watches()
        count = len(self.controllers)
        for offset in range(count):
            controller = self.controllers[(self._next + offset) % count]
            if controller.process_next():
                self._next = (self._next + offset + 1) % count
                return True
        return False

    def next_timer(self) -> float | None:
        """The earliest timer of any controller (monotonic on the clock), or None."""
        times = [t for t in (c.next_timer() for c in self.controllers) if t is not None]
        return min(times) if times else None

    def run_until_idle(self, max_reconciles: int = 1_000_000) -> int:
        """Reconcile until nothing is ready, without moving time. Returns the reconcile count."""
        done = 0
        while done < max_reconciles and self.step():
            done += 1
        return done

    def run_until(
        self,
        predicate: Callable[[], bool],
        clock: Clock | None = None,
        max_virtual_seconds: float | None = None,
        *,
        max_reconciles: int = 10_000_000,
    ) -> bool:
        """Drive the controllers until ``predicate()`` holds; returns whether it does.

        Stops early when nothing is left to do (no ready key, no timer), when the next timer is
        more than ``max_virtual_seconds`` of clock time after the start, or after
        ``max_reconciles``. ``predicate`` is checked before each reconcile, so keep it cheap.
        """
        if clock is not None and clock is not self.clock:
            raise ValueError("run_until must use the manager's clock (the queues' timers run on it)")
        clock = self.clock
        start = clock.monotonic()
        reconciles = 0
        while reconciles < max_reconciles:
            if predicate():
                return True
            if self.step():
                reconciles += 1
                continue
            due = self.next_timer()
            if due is None:
                return predicate()
            if max_virtual_seconds is not None and due - start > max_virtual_seconds:
                return predicate()
            wait = due - clock.monotonic()
            if isinstance(clock, VirtualClock):
                clock.advance(max(wait, 0.0))
            elif wait > 0:
                clock.sleep(min(wait, _REAL_SLEEP_SLICE))
        return predicate()

    # -- threaded driving ---------------------------------------------------------------------------

    def start(self) -> None:
        """Run every controller in background threads until :meth:`stop`."""
        if self._threads:
            raise RuntimeError("the manager is already running")
        self._stop.clear()
        for controller in self.controllers:
            self._start_threads(controller)

    def _start_threads(self, controller: Controller) -> None:
        for source in controller.sources:
            self._spawn(f"{controller.name}-watch-{source.spec.kind}", self._watch_loop, source)
        for number in range(controller.workers):
            self._spawn(f"{controller.name}-worker-{number}", self._worker_loop, controller)

    def _spawn(self, name: str, target: Callable[[Any], None], arg: object) -> None:
        thread = threading.Thread(target=target, args=(arg,), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _watch_loop(self, source: WatchSource | InformerSource) -> None:
        while not self._stop.is_set():
            if source.poll(_THREAD_POLL_SECONDS) == 0:
                # Nothing arrived (or a retry is pending): do not spin on a closed/failed watch.
                self._stop.wait(_THREAD_POLL_SECONDS / 10)

    def _worker_loop(self, controller: Controller) -> None:
        while not self._stop.is_set():
            try:
                controller.process_next(_THREAD_POLL_SECONDS)
            except Exception:  # process_next routes reconcile errors; this is a last resort
                log.exception("%s: worker failed", controller.name)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the threads (in-flight reconciles finish) and close watches and queues."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        for controller in self.controllers:
            controller.close()
        if self.informers is not None:
            self.informers.close()

    @property
    def running(self) -> bool:
        return bool(self._threads)

    def __enter__(self) -> Manager:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
