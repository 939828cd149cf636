"""The narrow interface the reconciler uses to talk to a Kubernetes API server.

Objects are plain dicts in Kubernetes JSON shape. Two implementations honour the same contract:
``KubeCluster`` (a real API server) and ``MemoryCluster`` (embedded, for tests and
``kubernaut run``). Errors are the exceptions of ``reconciler.cluster.errors``.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "Cluster",
    "EventType",
    "JsonObject",
    "LabelSelector",
    "ObjectList",
    "PodLogs",
    "Propagation",
    "Watch",
    "WatchEvent",
]

JsonObject = dict[str, Any]
EventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]
Propagation = Literal["Background", "Foreground", "Orphan"]
LabelSelector = str | Mapping[str, str] | None


@dataclass(frozen=True)
class WatchEvent:
    """One watch notification. For ``ERROR`` the object is a ``meta/v1 Status``; for ``BOOKMARK``
    it carries only ``apiVersion``, ``kind`` and ``metadata.resourceVersion``."""

    type: EventType
    object: JsonObject


@dataclass(frozen=True)
class ObjectList:
    """A list answer: the items and the collection's resourceVersion to start a watch from."""

    items: builtins.list[JsonObject] = field(default_factory=builtins.list)
    resource_version: str = "0"


@runtime_checkable
class Watch(Protocol):
    def next(self, timeout: float | None = 0.0) -> WatchEvent | None:
        """The next event, waiting up to ``timeout`` seconds (0 = do not wait, None = forever).

        None when nothing arrived in time, or when the watch has ended (closed, or after an
        ``ERROR`` event): callers re-list and start a new watch after an ERROR.
        """
        ...

    def close(self) -> None:
        """Stop the watch; a blocked ``next`` returns None."""
        ...


@runtime_checkable
class Cluster(Protocol):
    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> JsonObject:
        """The object; NotFound (404) when absent."""
        ...

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: LabelSelector = None,
    ) -> ObjectList:
        """Objects of a kind (all namespaces when ``namespace`` is None), sorted by namespace/name."""
        ...

    def create(self, obj: JsonObject, *, dry_run: bool = False) -> JsonObject:
        """Create; Conflict(AlreadyExists) when the name is taken. Honours ``generateName``."""
        ...

    def update(self, obj: JsonObject, *, dry_run: bool = False) -> JsonObject:
        """Replace; Conflict when ``metadata.resourceVersion`` is stale. Ignores ``status`` for
        kinds with a status subresource."""
        ...

    def apply(
        self,
        obj: JsonObject,
        *,
        field_manager: str = "kubernaut",
        force: bool = True,
        dry_run: bool = False,
    ) -> JsonObject:
        """Server-side apply: create, or merge the fields this manager sets and drop the ones it
        set before but omits now. A re-apply that changes nothing writes nothing."""
        ...

    def patch_status(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None,
        status: JsonObject,
        *,
        resource_version: str | None = None,
    ) -> JsonObject:
        """JSON merge-patch of the status subresource (None deletes a key)."""
        ...

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        propagation: Propagation = "Background",
        dry_run: bool = False,
    ) -> None:
        """Delete, honouring finalizers and owner-reference garbage collection."""
        ...

    def watch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: LabelSelector = None,
        resource_version: str | None = None,
        allow_bookmarks: bool = False,
    ) -> Watch:
        """Events after ``resource_version`` (None: from now; "0": synthetic ADDED for every
        current object first). A compacted resourceVersion yields one ERROR event (410)."""
        ...

    def has_kind(self, api_version: str, kind: str) -> bool:
        """Discovery: whether the API server serves this kind (is the CRD installed?)."""
        ...


@runtime_checkable
class PodLogs(Protocol):
    """Reading a container's log (``kubectl logs``). Kept out of :class:`Cluster`: controllers
    never read logs; ``kubernaut logs`` and ``describe`` do, against any cluster that offers it."""

    def read_pod_log(self, namespace: str, pod: str, container: str | None = None) -> str:
        """The container's log so far; NotFound when the pod (or its log) does not exist."""
        ...
