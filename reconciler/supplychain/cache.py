"""The verification cache: a policy's answer for an image, kept for a while.

The key is everything the answer depends on — the repository (a signature is checked against the
image's name through the policies' globs, so ``trusted/x@D`` and ``evil/x@D`` are different
questions even with the same digest), the digest, the name and generation of every policy that
matched, and a hash of the trust material those policies resolved to (keys and trusted roots
read from Secrets and ConfigMaps change without a new generation). A pass is kept long
(``pass_ttl``), a rejection briefly (``fail_ttl``: a signature pushed a minute later should
count), and nothing that could not be decided is kept at all. Time comes from the reconciler's
clock, so tests move it virtually.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..clock import Clock

__all__ = ["TtlCache", "VerificationKey"]

V = TypeVar("V")


@dataclass(frozen=True)
class VerificationKey:
    #: ``registry/repository``.
    repository: str
    digest: str
    #: ``(policy name, generation)`` of every policy that matched, sorted.
    policies: tuple[tuple[str, int], ...]
    #: sha256 of the resolved trust material (keys, identities, trusted roots, formats, modes).
    trust: str



class TtlCache(Generic[V]):
    """A thread-safe map whose entries expire ``ttl`` seconds (clock time) after they were put.
    Expired entries are dropped when met and whenever the map grows past ``max_entries``."""

    def __init__(self, clock: Clock, max_entries: int = 10_000) -> None:
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[object, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: object) -> V | None:
        now = self.clock.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if now >= expires:
                del self._entries[key]
                return None
            return value

    def put(self, key: object, value: V, ttl: float) -> None:
        if ttl <= 0:
            return
        now = self.clock.monotonic()
        with self._lock:
            self._entries[key] = (now + ttl, value)
            if len(self._entries) > self.max_entries:
                self._evict(now)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _evict(self, now: float) -> None:
        for key in [k for k, (expires, _) in self._entries.items() if now >= expires]:
            del self._entries[key]
        # Still too many live entries: drop the oldest puts (dicts keep insertion order).
        while len(self._entries) > self.max_entries:
            del self._entries[next(iter(self._entries))]
