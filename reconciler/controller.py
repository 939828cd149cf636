"""Level-triggered controllers: watches feed keys into a work queue, workers reconcile keys.

A reconcile function receives a :class:`Key` — never an event — reads desired and observed
state, acts, and returns a :class:`Result` (optionally "requeue after N seconds"). How the
outcome is handled (controller-runtime and kopf semantics):

* success: the key's backoff is reset; ``requeue_after`` arms a timer;
* :class:`TransientError`, or a cluster error for which ``is_transient`` holds (429, 5xx,
  timeouts, stale-resourceVersion conflicts): retried after a per-key exponential backoff;
* :class:`PermanentError` (a spec error), or any other cluster error (400, 404, 422,
  AlreadyExists: repeating the same request cannot change the answer): not retried; the
  ``on_permanent_error`` hook reports it (an engine writes it onto the resource's status);
* any other exception is a bug; it is logged with its traceback and retried with backoff so a
  controller survives it, as controller-runtime does.

Watches are informer-like (the one list/watch loop, ``reconciler.cache.list_watch``): list first,
then watch from the list's resourceVersion; an ERROR event (410 Expired) or a ``Gone`` answer
means re-list; a watch that was merely closed is resumed from the last resourceVersion seen.
Bound with an ``InformerCache`` (``reconciler.cache``), a controller's watches of cached kinds
are fed by the shared informers instead (one list+watch per kind for the whole process, the same
objects its reads are answered from).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .cache import Informer, InformerCache
from .cache.list_watch import ListWatcher
from .clock import Clock, RealClock
from .cluster import ApiError, Cluster, JsonObject, TooManyRequests, is_transient
from .cluster.selectors import selector_from
from .workqueue import Backoff, WorkQueue

__all__ = [
    "Controller",
    "ControllerStats",
    "Key",
    "KeyMapper",
    "PermanentError",
    "Reconciler",
    "Result",
    "TransientError",
    "WatchSource",
    "WatchSpec",
    "label_key",
    "object_key",
    "owner_key",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Key:
    """What a controller reconciles: an object's namespace and name (``None`` namespace for
    cluster-scoped kinds). controller-runtime's ``reconcile.Request``."""

    namespace: str | None
    name: str

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> Key:
        meta = obj.get("metadata") or {}
        return cls(meta.get("namespace"), meta["name"])

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(frozen=True)
class Result:
    """What a reconcile asks for next: nothing, or to run again after ``requeue_after`` seconds."""

    requeue_after: float | None = None

    def __post_init__(self) -> None:
        if self.requeue_after is not None and self.requeue_after < 0:
            raise ValueError(f"requeue_after must not be negative, got {self.requeue_after}")


class TransientError(Exception):
    """Retry this key after a backoff (and not before ``retry_after`` seconds, when given)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """A terminal spec error: report it, do not retry. The key runs again only when one of its
    watched objects changes (for example when a user fixes the spec)."""


Reconciler = Callable[[Key], Result | None]
KeyMapper = Callable[[JsonObject], Iterable[Key]]
PermanentErrorHook = Callable[[Key, Exception], None]
Observer = Callable[[str, str, float], None]  # (controller name, outcome, seconds)


def object_key(obj: JsonObject) -> list[Key]:
    """Map an object to itself (the primary resource of a controller)."""
    return [Key.of(obj)]


def owner_key(kind: str, api_version: str | None = None) -> KeyMapper:
    """Map an object to its controlling owner of ``kind`` (how a Job event wakes its owner)."""

    def mapper(obj: JsonObject) -> list[Key]:
        meta = obj.get("metadata") or {}
        return [Key(meta.get("namespace"), ref["name"]) for ref in meta.get("ownerReferences") or []
                if ref.get("kind") == kind and ref.get("controller")
                and (api_version is None or ref.get("apiVersion") == api_version)]

    return mapper


def label_key(label: str) -> KeyMapper:
    """Map an object to the object named by its ``label`` value, in the same namespace."""

    def mapper(obj: JsonObject) -> list[Key]:
        meta = obj.get("metadata") or {}
        value = (meta.get("labels") or {}).get(label)
        return [Key(meta.get("namespace"), value)] if value else []

    return mapper


@dataclass(frozen=True)
class WatchSpec:
    """One watched kind and how its objects map to keys of the controller."""

    api_version: str
    kind: str
    mapper: KeyMapper = object_key
    namespace: str | None = None
    label_selector: str | Mapping[str, str] | None = None


WatchLike = WatchSpec | tuple[str, str] | tuple[str, str, KeyMapper]


def _watch_spec(spec: WatchLike) -> WatchSpec:
    if isinstance(spec, WatchSpec):
        return spec
    if len(spec) == 2:
        return WatchSpec(spec[0], spec[1])
    return WatchSpec(spec[0], spec[1], spec[2])


#: The :class:`ControllerStats` counters each outcome of a reconcile adds one to.
_OUTCOME_COUNTERS: dict[str, tuple[str, ...]] = {
    "success": ("reconciles", "succeeded"),
    "requeue": ("reconciles", "succeeded", "requeues_after"),
    "transient": ("reconciles", "transient_errors"),
    "permanent": ("reconciles", "permanent_errors"),
    "error": ("reconciles", "unexpected_errors"),
}


@dataclass
class ControllerStats:
    """Counters for tests, logs and metrics (updated by several worker threads: use :meth:`add`)."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    reconciles: int = 0
    succeeded: int = 0
    transient_errors: int = 0
    permanent_errors: int = 0
    unexpected_errors: int = 0
    requeues_after: int = 0
    lists: int = 0
    relists_after_expiry: int = 0
    watch_restarts: int = 0
    events: int = 0

    def add(self, counter: str, amount: int = 1) -> None:
        with self._lock:  # the counters are plain instance attributes: skip getattr/setattr
            self.__dict__[counter] += amount

    def count(self, counters: tuple[str, ...]) -> None:
        """Add one to each of ``counters`` at once (one lock round trip per reconcile)."""
        with self._lock:
            for counter in counters:
                self.__dict__[counter] += 1


class WatchSource:
    """List-then-watch of one kind, feeding mapped keys to a controller's queue (an informer
    without a cache, for kinds no :class:`InformerCache` holds). The loop is the shared
    :class:`ListWatcher`; every listed object and every watch event is mapped to keys."""

    def __init__(self, controller: Controller, cluster: Cluster, spec: WatchSpec, clock: Clock,
                 backoff: Backoff) -> None:
        self._controller = controller
        self.spec = spec
        self._lister = ListWatcher(cluster, spec.api_version, spec.kind, clock, on_list=self._listed,
                                   on_event=self._watched, count=controller.stats.add, namespace=spec.namespace,
                                   label_selector=spec.label_selector, backoff=backoff, owner=controller.name)

    @property
    def retry_at(self) -> float | None:
        """When a failed list/watch will be tried again (monotonic, on the clock), or None."""
        return self._lister.retry_at

    def poll(self, timeout: float = 0.0) -> int:
        """Deliver what the watch has (waiting up to ``timeout`` for the first event); returns
        the number of objects and events handled (see :meth:`ListWatcher.poll`)."""
        return self._lister.poll(timeout)

    def pending(self) -> bool:
        """Whether :meth:`poll` has something to do now (see ``ListWatcher.pending``)."""
        return self._lister.pending()

    def _listed(self, items: list[JsonObject]) -> None:
        for obj in items:
            self._enqueue(obj)

    def _watched(self, _event_type: str, obj: JsonObject) -> None:
        self._enqueue(obj)

    def _enqueue(self, obj: JsonObject) -> None:
        _enqueue_keys(self._controller, self.spec, obj)

    def close(self) -> None:
        self._lister.close()


def _enqueue_keys(controller: Controller, spec: WatchSpec, obj: JsonObject) -> None:
    """Queue the keys ``spec``'s mapper gives for ``obj`` (one event seen by ``controller``)."""
    controller.stats.add("events")
    try:
        keys = list(spec.mapper(obj))
    except Exception:  # a mapper bug must not stop the watch or the informer
        log.exception("%s: key mapper for %s failed", controller.name, spec.kind)
        return
    for key in keys:
        controller.queue.add(key)


class InformerSource:
    """A watch of one kind fed by a shared :class:`Informer`: maps the objects that match the
    spec's namespace and selector (before or after the change, as a selector watch does) to keys."""

    def __init__(self, controller: Controller, informer: Informer, spec: WatchSpec) -> None:
        self._controller = controller
        self.informer = informer
        self.spec = spec
        self._selector = selector_from(spec.label_selector)
        # The common case (the informer holds exactly what the spec watches) needs no matching.
        self._matches_all = spec.namespace is None and self._selector.empty
        informer.add_listener(self._deliver)

    @property
    def retry_at(self) -> float | None:
        return self.informer.retry_at

    def poll(self, timeout: float = 0.0) -> int:
        return self.informer.poll(timeout)

    def _matches(self, obj: JsonObject | None) -> bool:
        if obj is None:
            return False
        meta = obj.get("metadata") or {}
        if self.spec.namespace is not None and meta.get("namespace") != self.spec.namespace:
            return False
        return self._selector.matches(meta.get("labels"))

    def _deliver(self, event_type: str, obj: JsonObject, old: JsonObject | None) -> None:
        if self._matches_all or self._matches(obj) or self._matches(old):
            _enqueue_keys(self._controller, self.spec, obj)

    def close(self) -> None:
        """The informer is shared: the cache's owner closes it."""


class Controller:
    """A named reconcile function, the watches that wake it, and its work queue.

    A controller is bound to a cluster and a clock by :meth:`bind` (``Manager.add`` does it).
    Drive it with :meth:`process_next` / :meth:`run_until_idle`, or through a ``Manager``.
    """

    def __init__(
        self,
        name: str,
        reconcile: Reconciler,
        watches: Sequence[WatchLike] = (),
        *,
        backoff: Backoff | None = None,
        workers: int = 1,
        on_permanent_error: PermanentErrorHook | None = None,
        observer: Observer | None = None,
        informers: InformerCache | None = None,
    ) -> None:
        """``informers``: this controller's own informer cache (one its reconciler also reads
        from), used for its watches instead of the manager's; closed with the controller."""
        if workers < 1:
            raise ValueError("a controller needs at least one worker")
        self.name = name
        self.reconcile = reconcile
        self.watches = [_watch_spec(w) for w in watches]
        self.backoff = backoff or Backoff()
        self.workers = workers
        self.on_permanent_error = on_permanent_error
        self.observer = observer
        self.own_informers = informers
        self.stats = ControllerStats()
        self._queue: WorkQueue[Key] | None = None
        self._sources: list[WatchSource | InformerSource] = []
        self.cluster: Cluster | None = None
        self.clock: Clock = RealClock()

    def bind(self, cluster: Cluster, clock: Clock | None = None, informers: InformerCache | None = None) -> Controller:
        """Attach to a cluster and clock: creates the queue and the watch sources (fed by
        ``informers`` for the kinds it caches, by a list+watch of their own otherwise)."""
        if self._queue is not None:
            raise RuntimeError(f"controller {self.name!r} is already bound")
        self.cluster = cluster
        self.clock = clock or RealClock()
        self._queue = WorkQueue(self.clock, self.backoff, name=self.name)
        self._sources = []
        informers = self.own_informers or informers
        for spec in self.watches:
            informer = informers.informer(spec.api_version, spec.kind, spec.label_selector) if informers else None
            self._sources.append(InformerSource(self, informer, spec) if informer is not None
                                 else WatchSource(self, cluster, spec, self.clock, self.backoff))
        return self

    @property
    def queue(self) -> WorkQueue[Key]:
        if self._queue is None:
            raise RuntimeError(f"controller {self.name!r} is not bound to a cluster (Manager.add or bind)")
        return self._queue

    # -- feeding --------------------------------------------------------------------------------

    def poll_watches(self, timeout: float = 0.0) -> int:
        """Let every watch deliver what it has; returns the number of events handled."""
        return sum(source.poll(timeout) for source in self._sources)

    def feeds(self) -> list[Informer | WatchSource]:
        """What a driver polls for this controller: its own watches, the shared informers feeding
        the others (polled once for everyone), and the rest of its own informer cache (kinds it
        reads without watching them)."""
        feeds: list[Informer | WatchSource] = [
            source.informer if isinstance(source, InformerSource) else source for source in self._sources]
        if self.own_informers is not None:
            feeds.extend(self.own_informers.informers.values())
        return feeds

    def next_timer(self) -> float | None:
        """The earliest pending requeue timer or watch retry (monotonic on the clock), or None."""
        times = [t for t in (self.queue.next_timer(), *(s.retry_at for s in self._sources)) if t is not None]
        return min(times) if times else None

    # -- processing -------------------------------------------------------------------------------

    def process_next(self, timeout: float = 0.0) -> bool:
        """Reconcile one ready key (waiting up to ``timeout`` real seconds); False if none."""
        key = self.queue.get(timeout)
        if key is None:
            return False
        try:
            self.reconcile_key(key)
        finally:
            self.queue.done(key)
        return True

    def reconcile_key(self, key: Key) -> str:
        """Run the reconcile function for ``key`` and route its outcome (see the module
        docstring). Returns the outcome: success, requeue, transient, permanent or error."""
        queue = self.queue
        started = time.perf_counter()
        outcome = "success"
        try:
            result = self.reconcile(key)
            if result is None:
                result = Result()
            elif not isinstance(result, Result):
                raise TypeError(f"reconcile must return a Result or None, not {type(result).__name__}")
        except PermanentError as exc:
            outcome = self._permanent(key, exc)
        except Exception as exc:
            if isinstance(exc, TransientError) or is_transient(exc):
                outcome = "transient"
                at_least = exc.retry_after if isinstance(exc, TransientError | TooManyRequests) else None
                delay = queue.add_rate_limited(key, at_least or 0.0)
                log.info("%s: %s: transient error, retry %d in %.2fs: %s", self.name, key,
                         queue.failures(key), delay, exc)
            elif isinstance(exc, ApiError):
                outcome = self._permanent(key, exc)
            else:
                outcome = "error"
                delay = queue.add_rate_limited(key)
                log.exception("%s: %s: reconcile raised an unexpected error; retrying in %.2fs",
                              self.name, key, delay)
        else:
            queue.forget(key)
            if result.requeue_after is not None:
                outcome = "requeue"
                queue.add_after(key, result.requeue_after)
        self.stats.count(_OUTCOME_COUNTERS[outcome])
        if self.observer is not None:
            self.observer(self.name, outcome, time.perf_counter() - started)
        return outcome

    def _permanent(self, key: Key, exc: Exception) -> str:
        self.queue.forget(key)
        log.warning("%s: %s: permanent error (not retried): %s", self.name, key, exc)
        if self.on_permanent_error is not None:
            try:
                self.on_permanent_error(key, exc)
            except Exception:  # reporting must not turn a terminal error into a crash loop
                log.exception("%s: %s: on_permanent_error hook failed", self.name, key)
        return "permanent"

    def run_until_idle(self, max_reconciles: int = 1_000_000) -> int:
        """Single-threaded: poll watches and reconcile until nothing is ready (timers may remain
        pending; time is not advanced). Returns the number of reconciles."""
        done = 0
        while done < max_reconciles:
            self.poll_watches()
            if not self.process_next():
                self.poll_watches()
                if not self.queue.ready():
                    break
                continue
            done += 1
        return done

    def close(self) -> None:
        """Close the watches and stop the queue."""
        for source in self._sources:
            source.close()
        if self.own_informers is not None:
            self.own_informers.close()
        if self._queue is not None:
            self._queue.shutdown()

    @property
    def sources(self) -> list[WatchSource | InformerSource]:
        return list(self._sources)

    def __repr__(self) -> str:
        kinds = ", ".join(w.kind for w in self.watches)
        return f"Controller({self.name!r}, watches=[{kinds}])"

