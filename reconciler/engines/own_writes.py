"""Skip the watch event a controller caused itself.

A reconcile that writes its object's status has already acted on everything it saw; the watch
event of that very write would only run an identical reconcile again (a read and no change).
controller-runtime users filter these with predicates; here the controller remembers the
resourceVersion each of its writes produced and the primary watch ignores exactly that version.

It is only an optimisation: forgetting (a restart, a lost response) costs one extra reconcile,
never a missed change — any other write to the object has another resourceVersion.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from ..cluster import JsonObject
from ..controller import Key, KeyMapper

__all__ = ["OwnWrites"]


#: Own versions remembered per object: one reconcile may write an object several times (its
#: finalizer, the start, the first steps) before the watch delivers the first of those events.
_REMEMBERED = 8


class OwnWrites:
    def __init__(self) -> None:
        self._versions: dict[Key, deque[str]] = {}
        self._lock = threading.Lock()

    def record(self, obj: JsonObject) -> JsonObject:
        """Remember the resourceVersion of an object this controller just wrote; returns it."""
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if rv:
            with self._lock:
                self._versions.setdefault(Key.of(obj), deque(maxlen=_REMEMBERED)).append(str(rv))
        return obj

    def forget(self, key: Key) -> None:
        with self._lock:
            self._versions.pop(key, None)

    def is_own(self, obj: JsonObject) -> bool:
        meta = obj.get("metadata") or {}
        rv = meta.get("resourceVersion")
        if not rv or "name" not in meta:
            return False
        key = Key.of(obj)
        with self._lock:
            return str(rv) in self._versions.get(key, ())

    def mapper(self, inner: Callable[[JsonObject], list[Key]] | None = None) -> KeyMapper:
        """A watch mapper that drops this controller's own writes, else maps with ``inner``."""

        def mapped(obj: JsonObject) -> list[Key]:
            if self.is_own(obj):
                return []
            return inner(obj) if inner is not None else [Key.of(obj)]

        return mapped
