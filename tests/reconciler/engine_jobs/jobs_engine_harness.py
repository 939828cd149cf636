"""A MemoryCluster with simulated Jobs and kubernaut's real controllers, plus a recorder of
everything that happened (watch events in revision order), for the V1 engine tests.

No mocks of the cluster: workflows run through the real loop (``reconciler.app.install``) and
the real ``JobSimulator``; assertions read the cluster and its watch history.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from support.driving import WorkflowDriver
from support.workflows import ECHO_IMAGE, workflow
from support.workflows import step as echo_step

from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND
from kubernaut.actions import LOCAL_ENTRYPOINTS
from reconciler.app import App, AppConfig, install
from reconciler.cluster import FaultInjector
from reconciler.cluster.memory import MemoryCluster
from reconciler.cluster.memory_watch import MemoryWatch
from reconciler.runtime import Manager
from reconciler.simulation import Outcomes, Simulation, parse_outcomes
from reconciler.simulation.jobs import JobSimulator
from reconciler.simulation.wiring import simulated_pods
from reconciler.verification import ImagePolicy

ECHO_ENTRYPOINTS = LOCAL_ENTRYPOINTS
IMAGE = ECHO_IMAGE
# Re-exported for the test modules of this folder.
__all__ = ["AE", "ECHO_ENTRYPOINTS", "IMAGE", "OTHER_IMAGE", "WFE_API_VERSION", "WFE_KIND", "Harness", "Seen",
           "echo_step", "outcomes", "workflow"]
OTHER_IMAGE = "ghcr.io/kubernaut/actions/other@sha256:" + "b" * 64
NS = "default"
AE = ("actionexecution.kubernaut.ai/v1alpha1", "ActionExecution")
WATCHED = (("batch/v1", "Job"), AE, (WFE_API_VERSION, WFE_KIND), ("v1", "PersistentVolumeClaim"))


def outcomes(text: str) -> Outcomes:
    return parse_outcomes(textwrap.dedent(text)).outcomes


@dataclass(frozen=True)
class Seen:
    """One watch event, in global revision order."""

    rv: int
    type: str
    kind: str
    obj: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def phase(self) -> str | None:
        return (self.obj.get("status") or {}).get("phase")

    def label(self, key: str) -> str | None:
        return (self.obj["metadata"].get("labels") or {}).get(key)


class Harness(WorkflowDriver):
    def __init__(
        self,
        *,
        outcomes: Outcomes | None = None,
        entrypoints: Mapping[str, tuple[str, ...]] | None = None,
        config: AppConfig | None = None,
        faults: FaultInjector | None = None,
        tekton_installed: bool = True,
        default_duration: float = 1.0,
        simulate_jobs: bool = True,
    ) -> None:
        self.outcomes = outcomes
        self.entrypoints = dict(entrypoints if entrypoints is not None else ECHO_ENTRYPOINTS)
        self.default_duration = default_duration
        self.simulate_jobs = simulate_jobs
        self.config = config or AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods)
        self.sim = Simulation(outcomes=outcomes, entrypoints=self.entrypoints, tekton_installed=tekton_installed,
                              default_duration=default_duration)
        self.cluster: MemoryCluster = self.sim.cluster
        self.clock = self.sim.clock
        # Watches opened before anything happens see every change, in revision order.
        self._watches: list[tuple[str, MemoryWatch]] = [
            (kind, self.cluster.watch(api, kind, resource_version=self.cluster.resource_version))
            for api, kind in WATCHED]
        self._seen: list[Seen] = []
        self.manager = self.sim.manager
        if not simulate_jobs:
            self.manager = Manager(self.cluster, self.clock)
        self.app: App = install(self.manager, self.config)
        self.cluster.faults = faults
        self.restarts = 0

    # -- driving --------------------------------------------------------------------------------

    def run_reconciles(self, count: int, *, kubernaut_only: bool = False) -> int:
        """Reconcile exactly ``count`` keys (advancing virtual time as the Manager would), or
        fewer if everything settles first. ``kubernaut_only`` counts only kubernaut's own
        controllers (the simulated job controller runs as often as it needs meanwhile)."""
        start = self._reconciles(kubernaut_only)
        self.manager.run_until(lambda: self._reconciles(kubernaut_only) - start >= count or self.settled())
        return self._reconciles(kubernaut_only) - start

    def _reconciles(self, kubernaut_only: bool = False) -> int:
        return sum(c.stats.reconciles for c in self.manager.controllers
                   if not kubernaut_only or c.name in ("workflowexecutions", "actionexecutions"))

    def restart(self) -> None:
        """Throw the controllers away (queues, timers, caches, simulator memory) and start new
        ones on the same cluster: a controller crash and restart."""
        self.manager.stop()
        self.manager = Manager(self.cluster, self.clock)
        if self.simulate_jobs:
            jobs = JobSimulator(self.cluster, self.clock, outcomes=self.outcomes, entrypoints=self.entrypoints,
                                default_duration=self.default_duration)
            self.manager.add(jobs.controller())
        self.app = install(self.manager, self.config)
        self.restarts += 1

    # -- reading ---------------------------------------------------------------------------------

    def objects(self, kind: str, workflow: str | None = None) -> list[dict[str, Any]]:
        found = self.cluster.objects(kind)
        if workflow is None:
            return found
        return [o for o in found if (o["metadata"].get("labels") or {}).get("kubernaut.ai/workflow") == workflow]

    def seen(self, kind: str | None = None) -> list[Seen]:
        """Every change of the watched kinds so far (revision order)."""
        for watched_kind, watch in self._watches:
            while (event := watch.next(0)) is not None:
                if event.type in ("ADDED", "MODIFIED", "DELETED"):
                    rv = int(event.object["metadata"]["resourceVersion"])
                    self._seen.append(Seen(rv, event.type, watched_kind, event.object))
        self._seen.sort(key=lambda s: s.rv)
        return [s for s in self._seen if kind is None or s.kind == kind]

    def job_creations(self) -> list[Seen]:
        return [s for s in self.seen("Job") if s.type == "ADDED"]

    def events(self, workflow: str | None = None) -> list[tuple[str, str, str]]:
        """(type, reason, message) of the Kubernetes Events about WorkflowExecutions."""
        found = []
        for event in self.cluster.objects("Event"):
            ref = event.get("involvedObject") or {}
            if ref.get("kind") == WFE_KIND and (workflow is None or ref.get("name") == workflow):
                found.append((event["type"], event["reason"], event["message"]))
        return found
