"""An informer: one list+watch of a kind, kept as a local cache and fanned out to listeners.

The list/watch loop is :class:`~reconciler.cache.list_watch.ListWatcher`'s (client-go's
reflector: re-list on 410, resume a watch that merely ended, back off on errors). The informer
adds the cache: a re-list delivers DELETED for every object that vanished meanwhile and MODIFIED
only for those whose resourceVersion changed; every ``resync_seconds`` every cached object is
delivered again (MODIFIED), so a controller that missed something converges anyway. Listener
calls happen inside :meth:`Informer.poll`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..clock import Clock
from ..cluster import Cluster, JsonObject
from ..cluster.base import LabelSelector
from ..cluster.selectors import Selector, selector_from
from ..cluster.snapshots import FrozenDict, freeze
from ..workqueue import Backoff
from .list_watch import ListWatcher

__all__ = ["DEFAULT_RESYNC_SECONDS", "Informer", "InformerStats", "Listener", "ObjectKey"]

log = logging.getLogger(__name__)

#: controller-runtime's and Tekton's default resync period: 10 hours.
DEFAULT_RESYNC_SECONDS = 10 * 3600.0

ObjectKey = tuple[str, str]  # (namespace or "", name)
#: Called with (event type, object, the cached object before it or None).
Listener = Callable[[str, JsonObject, JsonObject | None], None]


def object_key(obj: JsonObject) -> ObjectKey:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


def _revision(obj: JsonObject | None) -> int | None:
    """The resourceVersion as a number when it is one (etcd's are; opaque otherwise)."""
    if obj is None:
        return None
    text = (obj.get("metadata") or {}).get("resourceVersion")
    return int(text) if isinstance(text, str) and text.isdigit() else None


@dataclass
class InformerStats:
    lists: int = 0
    relists_after_expiry: int = 0
    watch_restarts: int = 0
    events: int = 0
    resyncs: int = 0


class Informer:
    """The cache of one kind (optionally narrowed by a label selector), in all namespaces."""

    def __init__(
        self,
        cluster: Cluster,
        api_version: str,
        kind: str,
        clock: Clock,
        *,
        label_selector: LabelSelector = None,
        resync_seconds: float | None = DEFAULT_RESYNC_SECONDS,
        backoff: Backoff | None = None,
    ) -> None:
        self._cluster = cluster
        self.api_version = api_version
        self.kind = kind
        self.label_selector = label_selector
        self.selector: Selector = selector_from(label_selector)
        self._clock = clock
        self._resync_seconds = resync_seconds
        self._objects: dict[ObjectKey, JsonObject] = {}
        # The revision of each object as listeners last heard of it. Not the cached one: a write's
        # answer (observe) is cached without telling them, and a re-list after a 410 must still
        # announce it, or the controllers watching that kind never learn of the write (fault campaign).
        self._announced: dict[ObjectKey, int | None] = {}
        self._listeners: list[Listener] = []
        self._next_resync: float | None = None
        self.synced = False
        self.stats = InformerStats()
        # Two locks: the list-watcher's serialises list/watch (held while waiting for events),
        # _lock guards the objects only briefly, so readers never wait for a watch's timeout.
        self._lock = threading.RLock()
        self._lister = ListWatcher(cluster, api_version, kind, clock, on_list=self._listed, on_event=self._watched,
                                   count=self._count, label_selector=label_selector, backoff=backoff,
                                   owner=f"informer {kind}")

    # -- reading --------------------------------------------------------------------------------

    def get(self, namespace: str | None, name: str) -> JsonObject | None:
        """The cached object (a shared read-only snapshot: ``thaw`` it to edit), or None."""
        with self._lock:
            return self._objects.get((namespace or "", name))

    def items(self) -> list[JsonObject]:
        """Every cached object (shared read-only snapshots), in (namespace, name) order."""
        with self._lock:
            return [self._objects[k] for k in sorted(self._objects)]

    @property
    def resource_version(self) -> str:
        """The newest resourceVersion this cache has seen ("0" before the first list)."""
        return self._lister.resource_version or "0"

    @property
    def retry_at(self) -> float | None:
        """When a failed list/watch will be tried again (monotonic, on the clock), or None."""
        return self._lister.retry_at

    def covers(self, label_selector: LabelSelector) -> bool:
        """Whether every object matching ``label_selector`` is in this cache."""
        return self.selector.empty or self.selector == selector_from(label_selector)

    # -- feeding ------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Deliver every future change to ``listener`` (and the current objects, as ADDED)."""
        with self._lock:
            self._listeners.append(listener)
            for obj in self.items():
                listener("ADDED", obj, None)

    def observe(self, obj: JsonObject) -> None:
        """A write's answer: cache it if it is newer than what the watch delivered so far, so a
        reconcile that reads right after its own write does not see the older version (client-go's
        mutation cache). Listeners hear about it from the watch, not from here. The cache keeps
        ``obj`` frozen (itself when it is already a read-only snapshot, as the embedded cluster's
        answers to kubernaut are), sharing what is unchanged with the version it replaces."""
        if not self.selector.matches((obj.get("metadata") or {}).get("labels")):
            return
        with self._lock:
            key = object_key(obj)
            cached = self._objects.get(key)
            new, old = _revision(obj), _revision(cached)
            if new is not None and (old is None or new > old) and self.synced:
                self._objects[key] = obj if type(obj) is FrozenDict else freeze(obj, cached)

    def poll(self, timeout: float = 0.0) -> int:
        """List if needed, then deliver what the watch has (waiting up to ``timeout`` for the
        first event), then resync if due; returns the number of objects and events handled.
        Never raises for API errors: they schedule a retry after a backoff."""
        return self._lister.poll(timeout) + self._maybe_resync()

    def pending(self) -> bool:
        """Whether :meth:`poll` has something to do now (``ListWatcher.pending``, or a resync is
        due): what a single-threaded driver asks before polling."""
        due = self._next_resync
        return self._lister.pending() or (due is not None and self._clock.monotonic() >= due)

    def _listed(self, items: list[JsonObject]) -> None:
        with self._lock:
            # Everything cached is a read-only snapshot (a real API server's objects arrive as
            # plain dicts): what readers and listeners get can never be edited in place.
            fresh = {key: freeze(obj, self._objects.get(key)) for key, obj in
                     ((object_key(obj), obj) for obj in items)}
            gone = [self._objects[k] for k in sorted(self._objects) if k not in fresh]
            previous, self._objects = self._objects, fresh
            # Complete now: listeners' key mappers read it (a workflow's lock waiters) rather than
            # asking the API server, which can fail and drop the event (fault campaign).
            self.synced = True
            for obj in gone:  # deleted while we were not watching
                self._announced.pop(object_key(obj), None)
                self._notify("DELETED", obj, obj)
            for key, obj in fresh.items():
                revision = _revision(obj)
                if key not in self._announced:  # new to the listeners, even if the cache held it
                    self._announced[key] = revision
                    self._notify("ADDED", obj, None)
                elif self._announced[key] != revision or previous.get(key) is None:
                    self._announced[key] = revision
                    self._notify("MODIFIED", obj, previous.get(key))
            if self._next_resync is None and self._resync_seconds:
                self._next_resync = self._clock.monotonic() + self._resync_seconds

    def _watched(self, event_type: str, obj: JsonObject) -> None:
        self.stats.events += 1
        key = object_key(obj)
        with self._lock:
            old = self._objects.get(key)
            if type(obj) is not FrozenDict:  # the embedded cluster's events are snapshots already
                obj = freeze(obj, old)
            if event_type == "DELETED":
                self._objects.pop(key, None)
                self._announced.pop(key, None)
            else:
                self._objects[key] = obj
                self._announced[key] = _revision(obj)
            self._notify(event_type, obj, old)

    def _count(self, counter: str) -> None:
        setattr(self.stats, counter, getattr(self.stats, counter) + 1)

    def _maybe_resync(self) -> int:
        due = self._next_resync
        if due is None or self._clock.monotonic() < due:
            return 0  # the common case, decided without the lock
        with self._lock:  # several controllers' threads may poll one informer
            if self._next_resync is None or self._clock.monotonic() < self._next_resync or not self._resync_seconds:
                return 0
            self._next_resync = self._clock.monotonic() + self._resync_seconds
            self.stats.resyncs += 1
            objects = self.items()
            for obj in objects:
                self._notify("MODIFIED", obj, obj)
        return len(objects)

    def _notify(self, event_type: str, obj: JsonObject, old: JsonObject | None) -> None:
        for listener in self._listeners:
            try:
                listener(event_type, obj, old)
            except Exception:  # one listener's bug must not starve the others
                log.exception("informer %s: listener failed", self.kind)

    def close(self) -> None:
        self._lister.close()
