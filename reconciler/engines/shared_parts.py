"""Request bodies frozen so that what they share with an earlier one is the same object.

The embedded API server copies each request body once into a read-only snapshot and shares the
frozen parts of a body without walking them (``reconciler.cluster.snapshots.frozen_json``); the
store shares whatever stays equal from one version to the next. Most of what an engine writes
for a step or a workflow is the same from one workflow to the next: the security contexts, the
pod failure policy, the script, the mounts of a step's Job; a Pipeline's tasks. :class:`LastFrozen`
freezes a body like the last one written under the same key (``freeze(value, like=last)``): the
parts equal to the last one's are that one's frozen objects, so the server takes them in without
a walk and every stored copy shares them (issue 13).

The last body is a hint, never trusted: a part is shared only where it *equals* the new body's
part, so nothing can go stale, whatever was written since (equality is Python's, as for the API
server's own no-op detection; JSON bodies of one field never change type between versions).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any

from ..cluster.snapshots import freeze

__all__ = ["LastFrozen"]

_DEFAULT_SIZE = 256


class LastFrozen:
    """Per key (a kind, an action type), the last body frozen under it (bounded, thread-safe)."""

    def __init__(self, max_entries: int = _DEFAULT_SIZE) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._last: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def freeze(self, key: Hashable, value: Any) -> Any:
        """``value`` as a read-only snapshot sharing every part equal to the last one's under
        ``key`` (``value`` itself is left as it is)."""
        with self._lock:
            like = self._last.get(key)
        frozen = freeze(value, like)  # outside the lock: the walk is the work
        with self._lock:
            self._last.pop(key, None)  # re-inserted last: the oldest key goes first when full
            self._last[key] = frozen
            while len(self._last) > self.max_entries:
                del self._last[next(iter(self._last))]
        return frozen

    def __len__(self) -> int:
        return len(self._last)
