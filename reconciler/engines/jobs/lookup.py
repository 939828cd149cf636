"""Reading a Job that may not exist yet, from the informer cache alone.

``CachedCluster.get`` confirms a cache miss with the API server (right for most reads). The V1
controllers ask "does attempt n's Job exist?" for every step that starts — where the answer is
usually "no" — and can trust the cache's absence: the Job's name is deterministic and its create
treats "already exists" as success, so a Job the cache has not seen yet costs one refused create,
never a second Job. Without a cache (``--no-informers``) the read goes to the API server.
"""

from __future__ import annotations

import contextlib

from ...cluster import Cluster, JsonObject, NotFound

__all__ = ["job_or_none"]


def job_or_none(cluster: Cluster, name: str, namespace: str | None) -> JsonObject | None:
    """The Job ``name`` as the cache has it, or None when it has none. The cached object itself,
    as ``CachedCluster.get`` answers: read-only (copy it to edit it)."""
    cache = getattr(cluster, "cache", None)
    informer = getattr(cache, "informers", {}).get(("batch/v1", "Job")) if cache is not None else None
    if informer is not None and informer.synced:
        found: JsonObject | None = informer.get(namespace or "default", name)
        return found
    with contextlib.suppress(NotFound):
        return cluster.get("batch/v1", "Job", name, namespace)
    return None
