"""Informer caches: controllers read the objects they watch from a watch-fed local cache."""

from .cached_cluster import CachedCluster, InformerCache, selectors_of
from .informer import DEFAULT_RESYNC_SECONDS, Informer, InformerStats

__all__ = ["DEFAULT_RESYNC_SECONDS", "CachedCluster", "Informer", "InformerCache", "InformerStats", "selectors_of"]
