"""Event expiry for the embedded cluster: the API server's ``--event-ttl`` (default 1 hour).

A real API server stores Events with an etcd lease that every write renews, so an Event nobody
has touched for the TTL disappears. Without that a long ``kubernaut run`` would keep every Event
it ever recorded. Expiry runs on the cluster's clock (virtual in ``kubernaut run``), checked on
each request: the oldest-written Events go first, each as a DELETED watch event.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable

from .store import Key

__all__ = ["DEFAULT_EVENT_TTL", "EVENT_KINDS", "EventExpiry"]

#: kube-apiserver's ``--event-ttl`` default: one hour.
DEFAULT_EVENT_TTL = 3600.0
#: Both Event APIs, which the API server stores as one resource.
EVENT_KINDS = frozenset({("v1", "Event"), ("events.k8s.io/v1", "Event")})


class EventExpiry:
    """When each Event was last written; removes those older than ``ttl`` seconds."""

    def __init__(self, ttl: float | None, remove: Callable[[Key], None]) -> None:
        if ttl is not None and ttl <= 0:
            raise ValueError("the Event TTL must be positive (None: Events never expire)")
        self.ttl = ttl
        self._remove = remove
        self._written: OrderedDict[Key, float] = OrderedDict()  # oldest write first
        # No Event expires before this (the oldest write's expiry, or earlier): every request
        # sweeps, and nearly always there is nothing to do, which this answers without a lookup.
        self._due = math.inf

    def touch(self, key: Key, now: float) -> None:
        """An Event was created or changed at ``now``: its lease starts again."""
        if self.ttl is None:
            return
        if not self._written:
            self._due = now + self.ttl
        self._written[key] = now
        self._written.move_to_end(key)

    def sweep(self, now: float) -> int:
        """Remove every Event last written ``ttl`` or more seconds before ``now``; returns how many."""
        if self.ttl is None or now < self._due:
            return 0
        removed = 0
        self._due = math.inf
        while self._written:
            key, written = next(iter(self._written.items()))
            if now - written < self.ttl:
                self._due = written + self.ttl
                break
            del self._written[key]
            self._remove(key)
            removed += 1
        return removed

    def __len__(self) -> int:
        return len(self._written)
