"""Watches for the embedded cluster: a bounded change history and per-watcher event queues.

Every write is one change with its own resourceVersion (as in etcd), so the history is a
contiguous run of revisions. A watch from revision R replays the retained changes after R; if
changes after R have already been dropped it gets one ERROR event (410 Expired) and ends, as
client-go and kopf expect, and the caller re-lists.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .base import EventType, JsonObject, WatchEvent
from .errors import ApiError
from .selectors import Selector
from .snapshots import freeze

__all__ = ["Change", "MemoryWatch", "WatchHub"]

TypeKey = tuple[str, str]  # (apiVersion, kind)


@dataclass(frozen=True)
class Change:
    """One committed write. ``obj`` is the stored object after it (for DELETED: the last state,
    carrying the delete's resourceVersion); ``old`` the object before a MODIFIED. Both are shared
    with the store, which never mutates a stored dict; watchers receive :attr:`snapshot`."""

    rv: int
    type: Literal["ADDED", "MODIFIED", "DELETED"]
    type_key: TypeKey
    obj: JsonObject
    old: JsonObject | None = None

    @property
    def snapshot(self) -> JsonObject:
        """The one read-only copy of ``obj`` every watcher of this change shares: made on first
        delivery (never, when nobody watches the kind), so a change costs one copy, not one per
        watcher."""
        # Watches deliver under the cluster's lock, so this runs once per change without the
        # lock functools.cached_property takes on every first access (Python 3.11).
        frozen: JsonObject | None = self.__dict__.get("_snapshot")
        if frozen is None:
            frozen = self.__dict__["_snapshot"] = freeze(self.obj)
        return frozen


class WatchHub:
    """The change history and the open watches. Callers hold the condition's lock."""

    def __init__(self, condition: threading.Condition, history_size: int) -> None:
        if history_size < 0:
            raise ValueError("history_size must be >= 0")
        self.condition = condition
        self.history: deque[Change] = deque(maxlen=history_size)
        #: The newest revision whose change is no longer retained (0: nothing lost yet).
        self.compacted_through = 0
        #: Watches blocked in next() (under the lock): with none, publishing skips the notify.
        self.waiting = 0
        # Open watches by the kind they watch: a change is offered only to its kind's watches.
        self._watches: dict[TypeKey, weakref.WeakSet[MemoryWatch]] = {}
        # What publish() iterates on every write: a tuple of weak references per kind, rebuilt
        # when a watch of the kind opens or closes (rare) instead of copying the WeakSet on every
        # change (not rare). A watch dropped without close() leaves a dead reference until then.
        self._offer_to: dict[TypeKey, tuple[weakref.ref[MemoryWatch], ...]] = {}

    def add(self, watch: MemoryWatch) -> None:
        self._watches.setdefault(watch.type_key, weakref.WeakSet()).add(watch)
        self._refresh(watch.type_key)

    def discard(self, watch: MemoryWatch) -> None:
        watches = self._watches.get(watch.type_key)
        if watches is not None:
            watches.discard(watch)
            self._refresh(watch.type_key)

    def _refresh(self, type_key: TypeKey) -> None:
        self._offer_to[type_key] = tuple(weakref.ref(w) for w in self._watches.get(type_key, ()))

    def publish(self, change: Change) -> None:
        if self.history.maxlen == 0:
            self.compacted_through = change.rv
        else:
            if len(self.history) == self.history.maxlen:
                self.compacted_through = self.history[0].rv
            self.history.append(change)
        refs = self._offer_to.get(change.type_key)
        if refs:
            for ref in refs:
                watch = ref()
                if watch is not None:
                    watch.offer(change)
            if self.waiting:
                self.condition.notify_all()

    def since(self, rv: int) -> list[Change] | None:
        """Retained changes after ``rv``, or None when some of them were compacted away."""
        if rv < self.compacted_through:
            return None
        return [c for c in self.history if c.rv > rv]

    def compact(self, current_rv: int) -> None:
        self.history.clear()
        self.compacted_through = current_rv

    def close_all(self) -> None:
        for watches in list(self._watches.values()):
            for watch in list(watches):
                watch.close()


class MemoryWatch:
    """A watch on one kind, filtered by namespace and label selector.

    A selector is applied to both sides of a change, like the API server's watch cache: an object
    that starts matching arrives as ADDED, one that stops matching leaves as DELETED.
    """

    def __init__(
        self,
        hub: WatchHub,
        type_key: TypeKey,
        namespace: str | None,
        selector: Selector,
        allow_bookmarks: bool,
        current_rv: Callable[[], int],
        round_expires: Callable[[], bool] | None = None,
    ) -> None:
        """``round_expires``: asked whenever the watch has delivered events and runs dry (the
        end of a round); True ends it with 410 Expired (fault injection)."""
        self._hub = hub
        self._condition = hub.condition
        self.type_key = type_key
        self._namespace = namespace
        self._selector = selector
        # Most watches (the informers') see every object of their kind: offer() skips matching.
        self._matches_all = namespace is None and selector.empty
        self._allow_bookmarks = allow_bookmarks
        self._current_rv = current_rv
        # Events to deliver: ready-made ones, or (type, change) whose shared snapshot is taken on delivery.
        self._queue: deque[WatchEvent | tuple[EventType, Change]] = deque()
        self._closed = False
        self._last_rv: str | None = None
        self._round_expires = round_expires
        self._delivered = False  # events delivered since the last round ended

    # -- fed by the cluster (lock held) -------------------------------------------------------

    def _matches(self, obj: JsonObject) -> bool:
        meta = obj["metadata"]
        if self._namespace is not None and meta.get("namespace") != self._namespace:
            return False
        return self._selector.matches(meta.get("labels"))

    def offer(self, change: Change) -> None:
        if self._closed or change.type_key != self.type_key:
            return
        if self._matches_all:
            self._queue.append((change.type, change))
            return
        now = self._matches(change.obj)
        before = self._matches(change.old) if change.old is not None else now
        if change.type == "MODIFIED" and before != now:
            self._queue.append(("ADDED" if now else "DELETED", change))
        elif now:
            self._queue.append((change.type, change))

    def added(self, obj: JsonObject) -> None:
        """A synthetic ADDED for an existing object (watch from resourceVersion "0")."""
        if self._matches(obj):
            self._queue.append(WatchEvent("ADDED", freeze(obj)))

    def expire(self, error: ApiError) -> None:
        """End the watch with one ERROR event carrying ``error`` as a Status object."""
        self._queue.append(WatchEvent("ERROR", freeze(error.to_status())))
        self._closed = True

    def start(self) -> None:
        if not self._closed:
            self._hub.add(self)

    # -- the Watch protocol ----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once closed or expired (queued events are still delivered)."""
        return self._closed

    @property
    def pending(self) -> bool:
        """Whether :meth:`next` has more to say than a bookmark: queued events, the end of the
        watch, or the end of a round to judge (fault injection). A driver that polls many watches
        polls only these; read without the lock, so from another thread it is only a hint."""
        return bool(self._queue) or self._closed or (self._delivered and self._round_expires is not None)

    def take_queued(self) -> list[tuple[EventType, JsonObject]]:
        """Every queued event at once, as (type, object) pairs, without waiting: what repeated
        ``next(0)`` calls would return before the queue runs dry, minus the end of the round and
        the bookmark, which only :meth:`next` gives. One lock round trip per batch rather than per
        event, and no ``WatchEvent`` to build for each."""
        with self._condition:
            queue = self._queue
            if not queue:
                return []
            events = [(queued.type, queued.object) if isinstance(queued, WatchEvent)
                      else (queued[0], queued[1].snapshot) for queued in queue]
            queue.clear()
            for _, obj in reversed(events):  # as next() leaves them after the last of these
                metadata = obj.get("metadata", {})
                if "resourceVersion" in metadata:
                    self._last_rv = metadata["resourceVersion"]
                    break
            if not self._delivered:
                # Every queued event is a delivery but an ERROR, which always ends the queue.
                self._delivered = len(events) > 1 or events[0][0] != "ERROR"
            return events

    def bookmark(self) -> WatchEvent | None:
        """The bookmark :meth:`next` would give now, if that is all it would give (nothing
        :attr:`pending`): lets a caller that skipped polling a quiet watch learn how far it is
        up to date without taking anything else from it."""
        with self._condition:
            if self.pending:
                return None
            return self._bookmark()

    def next(self, timeout: float | None = 0.0) -> WatchEvent | None:
        deadline = None if timeout is None or timeout <= 0 else time.monotonic() + timeout
        with self._condition:
            if not self._queue and not self._closed and self._delivered and self._round_expires is not None:
                self._delivered = False
                if self._round_expires():
                    self.expire(ApiError(410, "Expired", "injected fault: the watch's resource version expired"))
            while not self._queue and not self._closed:
                if timeout is not None and timeout <= 0:
                    return self._bookmark()  # a drain's last question: no clock to read
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return self._bookmark()
                self._hub.waiting += 1
                try:
                    self._condition.wait(remaining)
                finally:
                    self._hub.waiting -= 1
            if not self._queue:
                return None
            queued = self._queue.popleft()
            event = queued if isinstance(queued, WatchEvent) else WatchEvent(queued[0], queued[1].snapshot)
            self._last_rv = event.object.get("metadata", {}).get("resourceVersion", self._last_rv)
            self._delivered = self._delivered or event.type in ("ADDED", "MODIFIED", "DELETED")
            return event

    def _bookmark(self) -> WatchEvent | None:
        # At most one bookmark per revision, so a non-blocking drain loop still terminates.
        rv = str(self._current_rv())
        if not self._allow_bookmarks or rv == self._last_rv:
            return None
        self._last_rv = rv
        api_version, kind = self.type_key
        return WatchEvent("BOOKMARK", {"apiVersion": api_version, "kind": kind,
                                       "metadata": {"resourceVersion": rv}})

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._queue.clear()
            self._hub.discard(self)
            self._condition.notify_all()

    def __enter__(self) -> MemoryWatch:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
