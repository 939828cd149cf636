"""An informer: one list+watch of a kind, kept as a local cache and fanned out to listeners.

client-go semantics: list first, then watch from the list's resourceVersion (with bookmarks, so
a resume after a quiet period starts from a recent revision); an ``ERROR`` event (410 Expired)
or a ``Gone`` answer means re-list, and a re-list delivers DELETED for every object that vanished
meanwhile; a watch that merely ended is resumed from the last resourceVersion seen; every
``resync_seconds`` every cached object is delivered again (MODIFIED), so a controller that
missed something converges anyway. Listener calls happen inside :meth:`Informer.poll`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..clock import Clock
from ..cluster import ApiError, Cluster, Gone, JsonObject, Watch
from ..cluster.base import LabelSelector
from ..cluster.selectors import Selector, selector_from
from ..workqueue import Backoff

__all__ = ["DEFAULT_RESYNC_SECONDS", "Informer", "InformerStats", "Listener", "ObjectKey"]

log = logging.getLogger(__name__)

#: controller-runtime's and Tekton's default resync period: 10 hours.
DEFAULT_RESYNC_SECONDS = 10 * 3600.0
# Rounds of list/watch one poll may take to get past a closed or expired watch.
_REESTABLISH_ATTEMPTS = 3

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
        self._backoff = backoff or Backoff()
        self._objects: dict[ObjectKey, JsonObject] = {}
        self._listeners: list[Listener] = []
        self._watch: Watch | None = None
        self._rv: str | None = None
        self._needs_list = True
        self._failures = 0
        self._retry_at: float | None = None
        self._next_resync: float | None = None
        # Two locks: _poll_lock serialises list/watch (held while waiting for events), _lock guards
        # the objects only briefly, so readers never wait for a watch's timeout.
        self._poll_lock = threading.Lock()
        self._lock = threading.RLock()
        self.synced = False
        self.stats = InformerStats()

    # -- reading --------------------------------------------------------------------------------

    def get(self, namespace: str | None, name: str) -> JsonObject | None:
        """The cached object (shared: never mutate it), or None."""
        with self._lock:
            return self._objects.get((namespace or "", name))

    def items(self) -> list[JsonObject]:
        """Every cached object (shared: never mutate them), in (namespace, name) order."""
        with self._lock:
            return [self._objects[k] for k in sorted(self._objects)]

    @property
    def resource_version(self) -> str:
        """The newest resourceVersion this cache has seen ("0" before the first list)."""
        return self._rv or "0"

    @property
    def retry_at(self) -> float | None:
        """When a failed list/watch will be tried again (monotonic, on the clock), or None."""
        return self._retry_at

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
        mutation cache). Listeners hear about it from the watch, not from here."""
        if not self.selector.matches((obj.get("metadata") or {}).get("labels")):
            return
        with self._lock:
            key = object_key(obj)
            new, old = _revision(obj), _revision(self._objects.get(key))
            if new is not None and (old is None or new > old) and self.synced:
                self._objects[key] = obj

    def poll(self, timeout: float = 0.0) -> int:
        """List if needed, then deliver what the watch has (waiting up to ``timeout`` for the
        first event); returns the number of objects and events handled. Never raises for API
        errors: they schedule a retry after a backoff."""
        handled = 0
        # Another thread polling already delivers what arrives: wait for it at most ``timeout``.
        acquired = self._poll_lock.acquire(timeout=timeout) if timeout > 0 else self._poll_lock.acquire(blocking=False)
        if not acquired:
            return 0
        try:
            for _ in range(_REESTABLISH_ATTEMPTS):
                if self._retry_at is not None and self._clock.monotonic() < self._retry_at:
                    break
                try:
                    if self._needs_list:
                        handled += self._list()
                    if self._watch is None:
                        self._start_watch()
                    if self._watch is not None:
                        handled += self._drain(timeout if handled == 0 else 0.0)
                except ApiError as exc:
                    self._failures += 1
                    delay = self._backoff.delay(self._failures)
                    self._retry_at = self._clock.monotonic() + delay
                    log.warning("informer %s: %s failed (%s); retrying in %.1fs", self.kind,
                                "list" if self._needs_list else "watch", exc, delay)
                    break
                if self._watch is not None:
                    break
            handled += self._maybe_resync()
        finally:
            self._poll_lock.release()
        return handled

    def _list(self) -> int:
        result = self._cluster.list(self.api_version, self.kind, None, self.label_selector)
        self.stats.lists += 1
        fresh = {object_key(obj): obj for obj in result.items}
        with self._lock:
            gone = [self._objects[k] for k in sorted(self._objects) if k not in fresh]
            previous, self._objects = self._objects, fresh
            for obj in gone:  # deleted while we were not watching
                self._notify("DELETED", obj, obj)
            for key, obj in fresh.items():
                old = previous.get(key)
                if old is None or _revision(old) != _revision(obj):
                    self._notify("MODIFIED" if old is not None else "ADDED", obj, old)
        self._rv = result.resource_version
        self._needs_list = False
        self.synced = True
        if self._next_resync is None and self._resync_seconds:
            self._next_resync = self._clock.monotonic() + self._resync_seconds
        self._close_watch()
        return len(result.items)

    def _start_watch(self) -> None:
        try:
            self._watch = self._cluster.watch(self.api_version, self.kind, None, self.label_selector,
                                              resource_version=self._rv, allow_bookmarks=True)
        except Gone:
            self._expired()
            return
        self._failures = 0
        self._retry_at = None

    def _drain(self, timeout: float) -> int:
        handled = 0
        watch = self._watch
        while watch is not None:
            event = watch.next(timeout if handled == 0 else 0.0)
            if event is None:
                if getattr(watch, "closed", False):
                    self.stats.watch_restarts += 1  # resumed from self._rv on the next round
                    self._close_watch()
                break
            handled += 1
            if event.type == "ERROR":
                log.info("informer %s: watch ended with %s %s; re-listing", self.kind,
                         event.object.get("code"), event.object.get("reason"))
                self._expired()
                break
            rv = (event.object.get("metadata") or {}).get("resourceVersion")
            if rv:
                self._rv = rv
            if event.type == "BOOKMARK":
                continue
            self.stats.events += 1
            key = object_key(event.object)
            with self._lock:
                old = self._objects.get(key)
                if event.type == "DELETED":
                    self._objects.pop(key, None)
                else:
                    self._objects[key] = event.object
                self._notify(event.type, event.object, old)
        return handled

    def _maybe_resync(self) -> int:
        if self._next_resync is None or self._clock.monotonic() < self._next_resync or not self._resync_seconds:
            return 0
        self._next_resync = self._clock.monotonic() + self._resync_seconds
        self.stats.resyncs += 1
        with self._lock:
            objects = self.items()
            for obj in objects:
                self._notify("MODIFIED", obj, obj)
        return len(objects)

    def _expired(self) -> None:
        self.stats.relists_after_expiry += 1
        self._needs_list = True
        self._close_watch()

    def _notify(self, event_type: str, obj: JsonObject, old: JsonObject | None) -> None:
        for listener in self._listeners:
            try:
                listener(event_type, obj, old)
            except Exception:  # one listener's bug must not starve the others
                log.exception("informer %s: listener failed", self.kind)

    def _close_watch(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    def close(self) -> None:
        with self._poll_lock:
            self._close_watch()
