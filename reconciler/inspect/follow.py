"""Following one WorkflowExecution in a cluster until it finishes (``kubernaut run --cluster``).

A watch from the created object's resourceVersion delivers every status change; when the watch
ends (server timeout, 410, a dropped connection) the object is read again and a new watch starts,
so no change is lost and nothing is polled in a busy loop. ``on_update`` also gets the latest
copy every ``tick`` seconds without news, so live elapsed times keep moving.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND

from ..clock import Clock
from ..cluster import ApiError, Cluster, JsonObject, NotFound
from ..status import TERMINAL_WORKFLOW_PHASES
from .errors import InspectError

__all__ = ["follow_workflow", "workflow_finished"]

#: Seconds to wait after a failed watch request before reading and watching again.
_RETRY_SECONDS = 1.0


def workflow_finished(wfe: JsonObject) -> bool:
    return (wfe.get("status") or {}).get("phase") in TERMINAL_WORKFLOW_PHASES


def _read(cluster: Cluster, name: str, namespace: str) -> JsonObject:
    try:
        return cluster.get(WFE_API_VERSION, WFE_KIND, name, namespace)
    except NotFound:
        raise InspectError(f"workflowexecution {namespace}/{name} was deleted while it was followed") from None


def follow_workflow(cluster: Cluster, name: str, namespace: str, on_update: Callable[[JsonObject], Any], *,
                    timeout: float, clock: Clock, tick: float = 1.0) -> tuple[JsonObject, bool]:
    """Follow until the workflow reaches a final phase or ``timeout`` clock seconds pass.
    Returns the latest copy and whether it finished."""
    deadline = clock.monotonic() + timeout
    latest = _read(cluster, name, namespace)
    on_update(latest)
    while not workflow_finished(latest):
        if clock.monotonic() >= deadline:
            return latest, False
        try:
            watch = cluster.watch(WFE_API_VERSION, WFE_KIND, namespace,
                                  resource_version=latest["metadata"].get("resourceVersion"))
        except ApiError:
            clock.sleep(_RETRY_SECONDS)
            latest = _read(cluster, name, namespace)
            on_update(latest)
            continue
        try:
            while True:
                remaining = deadline - clock.monotonic()
                if remaining <= 0:
                    return latest, False
                event = watch.next(min(remaining, tick))
                if event is None:
                    if getattr(watch, "closed", False):
                        break  # ended without an error: read and watch again
                    on_update(latest)
                    continue
                if event.type == "ERROR":
                    break
                obj = event.object
                if event.type == "BOOKMARK" or (obj.get("metadata") or {}).get("name") != name:
                    continue
                if event.type == "DELETED":
                    raise InspectError(f"workflowexecution {namespace}/{name} was deleted while it was followed")
                latest = obj
                on_update(latest)
                if workflow_finished(latest):
                    return latest, True
        finally:
            watch.close()
        latest = _read(cluster, name, namespace)
        on_update(latest)
    return latest, True
