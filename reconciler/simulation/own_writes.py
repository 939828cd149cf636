"""The versions a simulated controller's own writes made, so that their watch events do not wake
it again.

A level-triggered controller is woken by every change of what it watches, its own writes
included. The reconcile that wrote already knew the result and asked for its own wake-up (a
requeue timer), so the event of a version it made brings nothing new: the simulators drop such
events in their key mappers instead of reconciling once more for each. A version counts as its
own only when the write's answer is what the writer read changed by the write alone: a status
patch is applied whatever changed meanwhile, so an answer carrying someone else's spec or
metadata change is not its own, and that change wakes it as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["OwnWrites", "same_but_status"]


def same_but_status(written: Mapping[str, Any], read: Mapping[str, Any]) -> bool:
    """Whether a status write's answer differs from the object it was made from only in status
    (and the version metadata a write moves)."""
    new, old = written["metadata"], read["metadata"]
    return (written.get("spec") == read.get("spec") and new.get("labels") == old.get("labels")
            and new.get("annotations") == old.get("annotations")
            and new.get("deletionTimestamp") == old.get("deletionTimestamp"))


class OwnWrites:
    """Versions (uid, resourceVersion) made by one controller's writes whose events have not
    arrived yet. Thread-safe."""

    def __init__(self) -> None:
        self._versions: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._versions)

    def made(self, written: Mapping[str, Any]) -> None:
        """``written`` (a write's answer) is a version this controller made."""
        meta = written["metadata"]
        with self._lock:
            self._versions.setdefault(meta["uid"], set()).add(meta["resourceVersion"])

    def forget(self, uid: str) -> None:
        """Drop what is kept for an object that is done with (finished, deleted): an event that
        arrived before its write's answer (another thread) left its version behind."""
        with self._lock:
            self._versions.pop(uid, None)

    def arrived(self, obj: Mapping[str, Any]) -> bool:
        """Whether a watch event's object is a version this controller made (forgotten then:
        each version's event arrives once)."""
        meta = obj.get("metadata") or {}
        uid = meta.get("uid", "")
        with self._lock:
            versions = self._versions.get(uid)
            if versions is None or meta.get("resourceVersion") not in versions:
                return False
            versions.discard(meta["resourceVersion"])
            if not versions:
                del self._versions[uid]
        return True
