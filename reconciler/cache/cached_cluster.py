"""Controller reads from informer caches; writes to the API server.

:class:`InformerCache` holds one :class:`Informer` per cached kind. :class:`CachedCluster` is the
``Cluster`` the controllers use: ``get`` and ``list`` of a cached kind are answered from the
cache, everything else goes to the API server. Whatever it returns — cached objects, the answers
to reads that missed the cache and to writes — is a shared read-only snapshot (client-go's
informer contract, "never mutate what the cache gave you", enforced: editing one raises
``TypeError``; ``copy.deepcopy`` or ``snapshots.thaw`` gives an editable copy). Sharing instead of
copying per read was most of the embedded engine's CPU (issue 13). Writes still carry
the resourceVersion they read, so a stale cache costs a 409 Conflict, which a controller retries
after the watch has caught up — never a lost update.

A ``get`` that misses the cache asks the API server: an object this controller created a moment
ago may not have arrived through the watch yet (a create that answered AlreadyExists is
followed by exactly that read), and absence is cheap to confirm.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any

from ..clock import Clock
from ..cluster import Cluster, JsonObject, ObjectList, Watch
from ..cluster.base import LabelSelector, Propagation
from ..cluster.selectors import selector_from
from ..cluster.snapshots import freeze
from .informer import DEFAULT_RESYNC_SECONDS, Informer

__all__ = ["CachedCluster", "InformerCache", "TypeKey"]

TypeKey = tuple[str, str]  # (apiVersion, kind)


class InformerCache:
    """The informers of one controller process, one per cached kind (namespaced kinds only)."""

    def __init__(
        self,
        cluster: Cluster,
        clock: Clock,
        kinds: Mapping[TypeKey, LabelSelector] | Iterable[TypeKey] = (),
        *,
        resync_seconds: float | None = DEFAULT_RESYNC_SECONDS,
    ) -> None:
        """``kinds``: the kinds to cache, each optionally with the label selector that narrows
        its informer (None: every object of the kind); :meth:`add` adds more."""
        self.cluster = cluster
        self._clock = clock
        self._resync_seconds = resync_seconds
        self.informers: dict[TypeKey, Informer] = {}
        for key, selector in (dict(kinds) if isinstance(kinds, Mapping) else dict.fromkeys(kinds)).items():
            self.add(key[0], key[1], selector)

    def add(self, api_version: str, kind: str, label_selector: LabelSelector = None) -> Informer:
        """Cache ``kind`` (narrowed by ``label_selector``); a kind already cached keeps its informer."""
        informer = self.informers.get((api_version, kind))
        if informer is None:
            informer = Informer(self.cluster, api_version, kind, self._clock, label_selector=label_selector,
                                resync_seconds=self._resync_seconds)
            self.informers[(api_version, kind)] = informer
        return informer

    def informer(self, api_version: str, kind: str, label_selector: LabelSelector = None) -> Informer | None:
        """The informer that holds every object of ``kind`` matching ``label_selector``, or None."""
        informer = self.informers.get((api_version, kind))
        return informer if informer is not None and informer.covers(label_selector) else None

    def poll(self, timeout: float = 0.0) -> int:
        return sum(informer.poll(timeout) for informer in self.informers.values())

    @property
    def synced(self) -> bool:
        return all(informer.synced for informer in self.informers.values())

    def close(self) -> None:
        for informer in self.informers.values():
            informer.close()


def selectors_of(watches: Iterable[Any]) -> dict[TypeKey, LabelSelector]:
    """Per watched kind, the narrowest selector that still covers every watch of it: the
    watches' common selector, or none when they differ (``watches``: ``WatchSpec``-like)."""
    seen: dict[TypeKey, list[LabelSelector]] = {}
    for spec in watches:
        seen.setdefault((spec.api_version, spec.kind), []).append(spec.label_selector)
    chosen: dict[TypeKey, LabelSelector] = {}
    for key, selectors in seen.items():
        parsed = {selector_from(s) for s in selectors}
        chosen[key] = selectors[0] if len(parsed) == 1 else None
    return chosen


class CachedCluster:
    """A ``Cluster`` whose reads of cached kinds come from an :class:`InformerCache`."""

    def __init__(self, cache: InformerCache) -> None:
        self.cache = cache
        self.api = cache.cluster

    def _synced(self, api_version: str, kind: str, label_selector: LabelSelector = None) -> Informer | None:
        informer = self.cache.informer(api_version, kind, label_selector)
        return informer if informer is not None and informer.synced else None

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> JsonObject:
        informer = self.cache.informers.get((api_version, kind))  # narrowed or not: a miss asks the server
        if informer is not None and informer.synced:
            found = informer.get(namespace or "default", name)
            if found is not None:
                return found
        return self._observed(self.api.get(api_version, kind, name, namespace))

    def get_fresh(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> JsonObject:
        """Read from the API server, bypassing the cache. For a read that must be consistent with
        an object of another kind read a moment ago: informers of different kinds are fed by
        different watches, so one may lag the other (a Job already Complete, its Pod not yet
        terminated)."""
        return self._observed(self.api.get(api_version, kind, name, namespace))

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             label_selector: LabelSelector = None) -> ObjectList:
        informer = self._synced(api_version, kind, label_selector)
        if informer is None:
            listed = self.api.list(api_version, kind, namespace, label_selector)
            return ObjectList([freeze(obj) for obj in listed.items], listed.resource_version)
        selector = selector_from(label_selector)
        items = [obj for obj in informer.items()
                 if (namespace is None or obj["metadata"].get("namespace") == namespace)
                 and selector.matches(obj["metadata"].get("labels"))]
        return ObjectList(items, informer.resource_version)

    def _observed(self, obj: JsonObject) -> JsonObject:
        frozen: JsonObject = freeze(obj)  # a no-op for the embedded cluster's read-only answers
        informer = self.cache.informers.get((frozen.get("apiVersion", ""), frozen.get("kind", "")))
        if informer is not None:
            informer.observe(frozen)
        return frozen

    def create(self, obj: JsonObject, *, dry_run: bool = False) -> JsonObject:
        answer = self.api.create(obj, dry_run=dry_run)
        return freeze(answer) if dry_run else self._observed(answer)

    def update(self, obj: JsonObject, *, dry_run: bool = False) -> JsonObject:
        answer = self.api.update(obj, dry_run=dry_run)
        return freeze(answer) if dry_run else self._observed(answer)

    def apply(self, obj: JsonObject, *, field_manager: str = "kubernaut", force: bool = True,
              dry_run: bool = False) -> JsonObject:
        answer = self.api.apply(obj, field_manager=field_manager, force=force, dry_run=dry_run)
        return freeze(answer) if dry_run else self._observed(answer)

    def patch_status(self, api_version: str, kind: str, name: str, namespace: str | None, status: JsonObject,
                     *, resource_version: str | None = None) -> JsonObject:
        return self._observed(self.api.patch_status(api_version, kind, name, namespace, status,
                                                    resource_version=resource_version))

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
               propagation: Propagation = "Background", dry_run: bool = False) -> None:
        self.api.delete(api_version, kind, name, namespace, propagation=propagation, dry_run=dry_run)

    def watch(self, api_version: str, kind: str, namespace: str | None = None, label_selector: LabelSelector = None,
              resource_version: str | None = None, allow_bookmarks: bool = False) -> Watch:
        return self.api.watch(api_version, kind, namespace, label_selector, resource_version, allow_bookmarks)

    def has_kind(self, api_version: str, kind: str) -> bool:
        return self.api.has_kind(api_version, kind)

    def __getattr__(self, name: str) -> Any:
        # Whatever else the API client offers (pod logs, the embedded cluster's helpers).
        return getattr(self.api, name)

    def __dir__(self) -> builtins.list[str]:
        return sorted(set(super().__dir__()) | set(dir(self.api)))
