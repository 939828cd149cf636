"""A named client of the embedded cluster: the same ``Cluster``, with a user agent.

Every request made through ``MemoryCluster.client("kubernaut")`` is logged with that name, so a
run can report what kubernaut's controllers asked for apart from the simulators beside them (on
a real API server the User-Agent header does this).
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from .base import JsonObject, LabelSelector, ObjectList, Propagation, Watch

if TYPE_CHECKING:
    from .memory import MemoryCluster

__all__ = ["MemoryClient"]


class MemoryClient:
    """Forwards every ``Cluster`` call to ``cluster``, logged as made by ``name``;
    ``read_only_answers``: answered with the stored read-only snapshots (``MemoryCluster.client``)."""

    def __init__(self, cluster: MemoryCluster, name: str, *, read_only_answers: bool = False) -> None:
        self.cluster = cluster
        self.name = name
        self.read_only_answers = read_only_answers

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> JsonObject:
        with self.cluster.acting_as(self.name, read_only_answers=self.read_only_answers):
            return self.cluster.get(api_version, kind, name, namespace)

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             label_selector: LabelSelector = None) -> ObjectList:
        with self.cluster.acting_as(self.name, read_only_answers=self.read_only_answers):
            return self.cluster.list(api_version, kind, namespace, label_selector)

    def create(self, obj: JsonObject, *, dry_run: bool = False) -> JsonObject:
        with self.cluster.acting_as(self.name, read_only_answers=self.read_only_answers):
            return self.cluster.create(obj, dry_run=dry_run)

    def update(self, obj: JsonObject, *, dry_run: bool = False) -> JsonObject:
        with self.cluster.acting_as(self.name, read_only_answers=self.read_only_answers):
            return self.cluster.update(obj, dry_run=dry_run)

    def apply(self, obj: JsonObject, *, field_manager: str = "kubernaut", force: bool = True,
              dry_run: bool = False) -> JsonObject:
        with self.cluster.acting_as(self.name, read_only_answers=self.read_only_answers):
            return self.cluster.apply(obj, field_manager=field_manager, force=force, dry_run=dry_run)

    def patch_status(self, api_version: str, kind: str, name: str, namespace: str | None, status: JsonObject,
                     *, resource_version: str | None = None) -> JsonObject:
        with self.cluster.acting_as(self.name, read_only_answers=self.read_only_answers):
            return self.cluster.patch_status(api_version, kind, name, namespace, status,
                                             resource_version=resource_version)

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
               propagation: Propagation = "Background", dry_run: bool = False) -> None:
        with self.cluster.acting_as(self.name, read_only_answers=self.read_only_answers):
            self.cluster.delete(api_version, kind, name, namespace, propagation=propagation, dry_run=dry_run)

    def watch(self, api_version: str, kind: str, namespace: str | None = None, label_selector: LabelSelector = None,
              resource_version: str | None = None, allow_bookmarks: bool = False) -> Watch:
        with self.cluster.acting_as(self.name, read_only_answers=self.read_only_answers):
            return self.cluster.watch(api_version, kind, namespace, label_selector, resource_version,
                                      allow_bookmarks)

    def has_kind(self, api_version: str, kind: str) -> bool:
        return self.cluster.has_kind(api_version, kind)

    def read_pod_log(self, namespace: str, pod: str, container: str | None = None) -> str:
        return self.cluster.read_pod_log(namespace, pod, container)

    def __getattr__(self, name: str) -> Any:
        # The embedded cluster's helpers (objects(), requests, clock...) stay reachable.
        return getattr(self.cluster, name)

    def __dir__(self) -> builtins.list[str]:
        return sorted(set(super().__dir__()) | set(dir(self.cluster)))
