"""How a simulated controller reads: from informers, like the real job and Tekton controllers.

The simulators watch the kinds they run anyway; reading those objects from the watch-fed
informers instead of GETting them takes a request (and, for an object that is not there, a
404) off every reconcile. Writes go to the API server through a ``CachedCluster``, which puts
each answer into the cache, so a reconcile always reads at least its own writes. Until the
informers have listed (a reconcile called directly, without a ``Manager`` polling the
controller's watches), reads go to the API server.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..cache import CachedCluster, InformerCache
from ..clock import Clock
from ..cluster import Cluster, JsonObject, NotFound
from ..cluster.snapshots import json_copy

__all__ = ["InformerReads"]


class InformerReads:
    """Informers of ``kinds`` ((apiVersion, kind) pairs) for one simulated controller process."""

    def __init__(self, cluster: Cluster, clock: Clock, kinds: Iterable[tuple[str, str]]) -> None:
        self.cluster = cluster
        #: Feeds the simulator's watches too: pass it as ``Controller(..., informers=...)``.
        self.informers = InformerCache(cluster, clock, dict.fromkeys(kinds))
        #: Where the simulator writes (answers go into the cache: read-your-writes).
        self.api = CachedCluster(self.informers)

    def peek(self, api_version: str, kind: str, name: str, namespace: str) -> JsonObject | None:
        """The object as a read-only snapshot (never mutate it), or None if there is none."""
        informer = self.informers.informers[(api_version, kind)]
        if informer.synced:
            return informer.get(namespace, name)
        try:
            return self.cluster.get(api_version, kind, name, namespace)
        except NotFound:
            return None

    def get(self, api_version: str, kind: str, name: str, namespace: str, *, copy: bool = True) -> JsonObject:
        """The object, a copy the caller may change (``copy=False``: the read-only snapshot);
        NotFound (the API server's, with its message) if there is none."""
        found = self.peek(api_version, kind, name, namespace)
        if found is None:
            return self.cluster.get(api_version, kind, name, namespace)
        copied: JsonObject = json_copy(found) if copy else found
        return copied
