"""How ``kubernaut run`` and the tests plug the simulators into the controllers.

The controllers' wiring (``reconciler.app``) knows nothing of simulation: the in-cluster
controller never imports this package. What an embedded run needs beyond it is passed in from
here, e.g. ``AppConfig(pod_lookup=simulated_pods)``, and each registered engine's simulator
(``EngineInfo.simulator``, a name the registry holds so that only this module imports it).
"""

from __future__ import annotations

import itertools

from ..cache import CachedCluster
from ..cluster import Cluster, JsonObject, NotFound
from ..engines.jobs import pods_by_label
from ..engines.registry import known_engines
from . import Simulation
from .jobs import pod_name

__all__ = ["add_engine_simulators", "simulated_pods"]


def add_engine_simulators(simulation: Simulation) -> list[str]:
    """Add every registered engine's simulator to ``simulation`` (their outcomes, entrypoints
    and durations default to the Job simulation's, so one outcomes file drives every engine).
    Returns the names of the engines that brought one."""
    added: list[str] = []
    for info in known_engines():
        add = info.load_simulator()
        if add is not None:
            add(simulation)
            added.append(info.name)
    return added


def simulated_pods(cluster: Cluster, job: JsonObject) -> list[JsonObject]:
    """The pods of a Job run by ``reconciler.simulation`` (read by their deterministic names: on
    ``MemoryCluster`` a get is O(1) where a labelled list reads every pod); a label list for
    anything else. A pod evicted or preempted (``DisruptionTarget``) was replaced by the next
    index (the Job's podFailurePolicy ``Ignore`` rule): only then is the next one read."""
    meta = job["metadata"]
    pods: list[JsonObject] = []
    for index in itertools.count():
        name = pod_name(meta["name"], meta["uid"], index)
        try:
            pod = cluster.get("v1", "Pod", name, meta.get("namespace"))
            if isinstance(cluster, CachedCluster) and not _terminated(pod):
                # The Job's informer may be ahead of the Pod's (two watches): read the Pod itself.
                pod = cluster.get_fresh("v1", "Pod", name, meta.get("namespace"))
        except NotFound:
            break
        pods.append(pod)
        if not any(c.get("type") == "DisruptionTarget" and c.get("status") == "True"
                   for c in (pod.get("status") or {}).get("conditions") or []):
            break
    return pods or pods_by_label(cluster, job)


def _terminated(pod: JsonObject) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return any((s.get("state") or {}).get("terminated") for s in statuses)
