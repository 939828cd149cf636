"""What inspection reads through, and finding WorkflowExecutions by name."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND

from ..cluster import JsonObject, NotFound, ObjectList
from ..cluster.base import LabelSelector
from .errors import InspectError

__all__ = ["ReadSource", "find_workflow", "list_workflows"]


@runtime_checkable
class ReadSource(Protocol):
    """The read half of ``Cluster`` plus container logs (``PodLogs``)."""

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> JsonObject: ...

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             label_selector: LabelSelector = None) -> ObjectList: ...

    def has_kind(self, api_version: str, kind: str) -> bool: ...

    def read_pod_log(self, namespace: str, pod: str, container: str | None = None) -> str: ...


def find_workflow(source: ReadSource, name: str, namespace: str) -> JsonObject:
    try:
        return source.get(WFE_API_VERSION, WFE_KIND, name, namespace)
    except NotFound:
        raise InspectError(f'workflowexecution "{name}" not found in namespace "{namespace}"') from None


def list_workflows(source: ReadSource, namespace: str | None) -> list[JsonObject]:
    """Every WorkflowExecution of ``namespace`` (None: all namespaces), by namespace and name."""
    return list(source.list(WFE_API_VERSION, WFE_KIND, namespace).items)
