"""Watches over HTTP for ``KubeCluster``: a background thread turns the API server's stream of
newline-delimited JSON events into a queue that ``Watch.next`` reads with a timeout.

Semantics match ``MemoryWatch``: an ``ERROR`` event (typically ``410 Expired``) is delivered and
then the watch ends; a stream that merely ends (server-side ``timeoutSeconds``, API server
restart, a dropped connection) ends the watch without an event, ``closed`` turns True and the
caller resumes from the last resourceVersion it saw. BOOKMARKs are passed on only when they were
asked for.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
from typing import Any, cast, get_args

import urllib3

from .base import EventType, JsonObject, WatchEvent

__all__ = ["KubeWatch"]

log = logging.getLogger(__name__)

_EVENT_TYPES = frozenset(get_args(EventType))
# How long close() waits for the reader thread after shutting its socket down (it exits at once;
# the bound only matters if the platform ignores the shutdown, and then the thread is a daemon).
_JOIN_SECONDS = 5.0


def _malformed(detail: str) -> WatchEvent:
    # A stream we cannot parse is as good as lost: ending it with an ERROR makes callers re-list,
    # which is always safe, instead of silently missing events.
    return WatchEvent("ERROR", {"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
                                "reason": "InternalError", "code": 500,
                                "message": f"malformed watch event: {detail}"})


class KubeWatch:
    """One open watch request. Thread-safe; ``close`` may be called from any thread."""

    def __init__(
        self,
        api_version: str,
        kind: str,
        allow_bookmarks: bool,
        response: urllib3.BaseHTTPResponse | None = None,
        initial: tuple[WatchEvent, ...] = (),
    ) -> None:
        self._api_version = api_version
        self._kind = kind
        self._allow_bookmarks = allow_bookmarks
        self._response = response
        # Events, then None once the stream is over (the end marker wakes a blocked next()).
        self._queue: queue.Queue[WatchEvent | None] = queue.Queue()
        self._lock = threading.Lock()
        self._stopped = False  # close() was called
        self._ended = threading.Event()  # no further event will be queued
        self._finished = False  # the end marker was consumed: next() returns None from now on
        for event in initial:
            self._queue.put(event)
        self._thread: threading.Thread | None = None
        if response is None:
            self._end()
        else:
            self._thread = threading.Thread(target=self._pump, args=(response,), daemon=True,
                                            name=f"kubernaut-watch-{kind}")
            self._thread.start()

    # -- the Watch protocol ----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once closed or once the stream ended (queued events are still delivered)."""
        return self._stopped or self._ended.is_set()

    def next(self, timeout: float | None = 0.0) -> WatchEvent | None:
        if self._stopped or self._finished:
            return None
        try:
            if timeout is not None and timeout <= 0:
                item = self._queue.get_nowait()
            else:
                item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is None or self._stopped:
            self._finished = True
            return None
        return item

    def close(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._drain()
        self._queue.put(None)
        thread, response = self._thread, self._response
        if thread is None or response is None or thread is threading.current_thread():
            return
        # Shutting the socket down is the one way to wake a thread blocked in a socket read; the
        # thread then closes the response itself. It fails when the stream already ended.
        with contextlib.suppress(ValueError, RuntimeError, OSError):
            response.shutdown()
        thread.join(_JOIN_SECONDS)
        if thread.is_alive():  # pragma: no cover - only if the platform ignored the shutdown
            response.close()

    def __enter__(self) -> KubeWatch:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the reader thread ---------------------------------------------------------------------------

    def _pump(self, response: urllib3.BaseHTTPResponse) -> None:
        buffer = bytearray()
        try:
            for chunk in response.stream(amt=None, decode_content=True):
                buffer += chunk
                while (newline := buffer.find(b"\n")) >= 0:
                    line = bytes(buffer[:newline])
                    del buffer[:newline + 1]
                    if line.strip() and not self._deliver(line):
                        return
            if buffer.strip():
                self._deliver(bytes(buffer))
        except Exception as exc:  # whatever broke the stream (our close, the network): the watch ends
            if not self._stopped:
                log.debug("watch on %s %s ended: %s", self._api_version, self._kind, exc)
        finally:
            with contextlib.suppress(Exception):  # closing a broken connection may fail; nothing to do
                response.close()
            self._end()

    def _deliver(self, line: bytes) -> bool:
        """Queue the event in ``line``; False when the watch must end after it."""
        try:
            raw = json.loads(line)
        except ValueError:
            self._queue.put(_malformed(repr(line[:200])))
            return False
        event_type = raw.get("type") if isinstance(raw, dict) else None
        obj = raw.get("object") if isinstance(raw, dict) else None
        if event_type not in _EVENT_TYPES or not isinstance(obj, dict):
            self._queue.put(_malformed(repr(line[:200])))
            return False
        if event_type == "BOOKMARK" and not self._allow_bookmarks:
            return True
        if event_type != "ERROR":
            self._fill_type(obj)
        self._queue.put(WatchEvent(cast(EventType, event_type), obj))
        return event_type != "ERROR"

    def _fill_type(self, obj: JsonObject) -> None:
        # Watch events carry apiVersion and kind already; this keeps the promise of plain, typed
        # objects even if a proxy or an aggregated API server leaves them out.
        obj.setdefault("apiVersion", self._api_version)
        obj.setdefault("kind", self._kind)

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def _end(self) -> None:
        self._ended.set()
        self._queue.put(None)
