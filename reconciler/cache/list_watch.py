"""The list/watch loop: list a kind, watch from the list's resourceVersion, recover from endings.

client-go's reflector semantics, shared by the informers (``reconciler.cache.informer``) and the
controllers' own watches (``reconciler.controller.WatchSource``):

* list first, then watch from the list's resourceVersion, with bookmarks so that a resume after a
  quiet period starts from a recent revision;
* an ``ERROR`` event (410 Expired) or a ``Gone`` answer to the watch means re-list;
* a watch that merely ended (server restart, watch timeout) is resumed from the last
  resourceVersion seen, within the same :meth:`ListWatcher.poll`, so a single-threaded driver
  never mistakes a dropped watch for "nothing to do";
* an API error schedules a retry after a backoff; ``poll`` never raises for one.

What is done with the objects is the caller's: ``on_list`` receives a list's items, ``on_event``
every ADDED / MODIFIED / DELETED watch event (bookmarks only move the resourceVersion).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ..clock import Clock
from ..cluster import ApiError, Cluster, Gone, JsonObject, Watch
from ..cluster.base import LabelSelector
from ..workqueue import Backoff

__all__ = ["Counter", "ListWatcher"]

log = logging.getLogger(__name__)

# Rounds of list/watch one poll may take to get past a closed or expired watch (each round
# either ends healthy or needs the next); more would mean the server keeps failing us.
_REESTABLISH_ATTEMPTS = 3

#: Told the name of a counter to increment: ``lists``, ``relists_after_expiry``, ``watch_restarts``.
Counter = Callable[[str], None]


class ListWatcher:
    """One list+watch of ``kind`` (optionally in one namespace, narrowed by a label selector)."""

    def __init__(
        self,
        cluster: Cluster,
        api_version: str,
        kind: str,
        clock: Clock,
        *,
        on_list: Callable[[list[JsonObject]], None],
        on_event: Callable[[str, JsonObject], None],
        count: Counter,
        namespace: str | None = None,
        label_selector: LabelSelector = None,
        backoff: Backoff | None = None,
        owner: str = "",
    ) -> None:
        """``owner``: who watches, for log lines (a controller's name, "informer")."""
        self._cluster = cluster
        self.api_version = api_version
        self.kind = kind
        self.namespace = namespace
        self.label_selector = label_selector
        self._clock = clock
        self._on_list = on_list
        self._on_event = on_event
        self._count = count
        self._backoff = backoff or Backoff()
        self._owner = owner
        self._watch: Watch | None = None
        self._rv: str | None = None
        self._needs_list = True
        self._failures = 0
        self._retry_at: float | None = None
        # Held while listing and draining (which may wait for events): one poller at a time.
        self._lock = threading.Lock()

    @property
    def resource_version(self) -> str | None:
        """The newest resourceVersion seen (None before the first list). A driver that polls only
        :meth:`pending` list-watchers leaves a quiet watch's bookmark untaken: it is taken here
        (when no other thread is polling, so everything taken from the watch was delivered)."""
        watch = self._watch
        bookmark = getattr(watch, "bookmark", None)
        if bookmark is not None and self._lock.acquire(blocking=False):
            try:
                event = bookmark() if self._watch is watch else None
                if event is not None:
                    self._rv = event.object["metadata"]["resourceVersion"]
            finally:
                self._lock.release()
        return self._rv

    @property
    def retry_at(self) -> float | None:
        """When a failed list/watch will be tried again (monotonic, on the clock), or None."""
        return self._retry_at

    def poll(self, timeout: float = 0.0) -> int:
        """List if needed, then deliver what the watch has (waiting up to ``timeout`` real seconds
        for the first event); returns the number of listed objects and events handled. If another
        thread is polling (and so already delivering what arrives), waits for it at most
        ``timeout`` and returns 0."""
        acquired = self._lock.acquire(timeout=timeout) if timeout > 0 else self._lock.acquire(blocking=False)
        if not acquired:
            return 0
        try:
            return self._poll_locked(timeout)
        finally:
            self._lock.release()

    def _poll_locked(self, timeout: float) -> int:
        handled = 0
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
                log.warning("%s: %s %s failed (%s); retrying in %.1fs", self._owner,
                            "list" if self._needs_list else "watch", self.kind, exc, delay)
                break
            if self._watch is not None:
                break  # healthy and drained
        return handled

    def _list(self) -> int:
        result = self._cluster.list(self.api_version, self.kind, self.namespace, self.label_selector)
        self._count("lists")
        self._on_list(result.items)
        self._rv = result.resource_version
        self._needs_list = False
        self._close_watch()
        return len(result.items)

    def _start_watch(self) -> None:
        try:
            self._watch = self._cluster.watch(self.api_version, self.kind, self.namespace, self.label_selector,
                                              resource_version=self._rv, allow_bookmarks=True)
        except Gone:
            self._expired()  # the next round re-lists
            return
        self._failures = 0
        self._retry_at = None

    def pending(self) -> bool:
        """Whether :meth:`poll` has something to do now: a list or watch to (re)start whose retry
        is due, or a watch with something to deliver. A watch that cannot tell (only the embedded
        cluster's can) always counts as pending. A single-threaded driver polls only pending
        list-watchers; a quiet watch's bookmark then waits for the next poll (or for
        :attr:`resource_version`)."""
        if self._needs_list or self._watch is None:
            return self._retry_at is None or self._clock.monotonic() >= self._retry_at
        pending: bool = getattr(self._watch, "pending", True)
        return pending

    def _drain(self, timeout: float) -> int:
        handled = 0
        watch = self._watch
        # A watch that can hand over its queue at once (the embedded cluster's) is drained in
        # batches; next() still ends each drain, for the end of the round and the bookmark.
        take_queued = getattr(watch, "take_queued", None)
        while watch is not None and self._watch is watch:
            if take_queued is not None:
                for event_type, obj in take_queued():
                    handled += 1
                    if not self._handle(event_type, obj):
                        return handled
            # What arrived meanwhile comes one by one (rare: listeners do not write), then the
            # end of the round, the bookmark, or the news that the watch ended.
            event = watch.next(timeout if handled == 0 else 0.0)
            if event is None:
                if getattr(watch, "closed", False):
                    # Ended without an error: resume from the last resourceVersion; a 410 on
                    # that resume leads to a re-list.
                    self._count("watch_restarts")
                    self._close_watch()
                break
            handled += 1
            self._handle(event.type, event.object)
            if event.type == "BOOKMARK" and take_queued is not None:
                # The embedded cluster's watch gives a bookmark only once its queue ran dry and
                # the round ended: asking again would only hear None.
                break
        return handled

    def _handle(self, event_type: str, obj: JsonObject) -> bool:
        """Deliver one event; False when it ended the watch (ERROR: re-list)."""
        if event_type == "ERROR":
            log.info("%s: watch on %s ended with %s %s; re-listing", self._owner, self.kind,
                     obj.get("code"), obj.get("reason"))
            self._expired()
            return False
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if rv:
            self._rv = rv
        if event_type != "BOOKMARK":
            self._on_event(event_type, obj)
        return True

    def _expired(self) -> None:
        self._count("relists_after_expiry")
        self._needs_list = True
        self._close_watch()

    def _close_watch(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    def close(self) -> None:
        with self._lock:
            self._close_watch()
