"""A MemoryCluster with simulated Tekton (and Jobs, for fallbacks) and kubernaut's real
controllers, for the V2 engine tests.

No mocks: workflows run through the real loop (``reconciler.app.install``), the real V2 engine
and the Tekton simulation (``reconciler.simulation.tekton``); assertions read the cluster and
its watch history.
"""

from __future__ import annotations

import copy
import dataclasses
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from support.driving import WorkflowDriver
from support.workflows import ECHO_IMAGE, step
from support.workflows import workflow as build_workflow

from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND
from kubernaut.actions import LOCAL_ENTRYPOINTS
from reconciler.app import App, AppConfig, install
from reconciler.cluster import FaultInjector
from reconciler.cluster.memory import MemoryCluster
from reconciler.cluster.memory_watch import MemoryWatch
from reconciler.routing import RoutingPolicy, parse_policy
from reconciler.runtime import Manager
from reconciler.simulation import Outcomes, Simulation, parse_outcomes
from reconciler.simulation.jobs import JobSimulator
from reconciler.simulation.tekton import TektonSimulators, tekton_simulators
from reconciler.simulation.wiring import simulated_pods
from reconciler.verification import ImagePolicy

ECHO_ENTRYPOINTS = LOCAL_ENTRYPOINTS
IMAGE = ECHO_IMAGE
NS = "default"
TEKTON = "tekton.dev/v1"
WATCHED = ((TEKTON, "PipelineRun"), (TEKTON, "TaskRun"), (TEKTON, "Pipeline"), (WFE_API_VERSION, WFE_KIND))


def workflow(name: str, steps: str, *, spec: str = "engine: tekton", namespace: str = NS) -> dict[str, Any]:
    """A WorkflowExecution routed to tekton unless ``spec`` says otherwise."""
    return build_workflow(name, steps, spec=spec, namespace=namespace)


def thing(name: str, **fields: Any) -> str:
    return step(name, action_type="custom/thing", **fields)


def outcomes(text: str) -> Outcomes:
    return parse_outcomes(textwrap.dedent(text)).outcomes


def policy(text: str) -> RoutingPolicy:
    loaded = parse_policy("routing.yaml", textwrap.dedent(text))
    assert loaded.policy is not None, loaded.render()
    return loaded.policy


ALL_TEKTON = "apiVersion: kubernaut.ai/v1alpha1\nkind: RoutingPolicy\ndefaultEngine: tekton\n"
ALL_JOBS = "apiVersion: kubernaut.ai/v1alpha1\nkind: RoutingPolicy\ndefaultEngine: jobs\n"


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


class Harness(WorkflowDriver):
    def __init__(
        self,
        *,
        outcomes: Outcomes | None = None,
        config: AppConfig | None = None,
        tekton_installed: bool = True,
        policy_provider: Callable[[], RoutingPolicy] | None = None,
        default_duration: float = 1.0,
        failure_reason: str = "Failed",
        simulate_tekton: bool = True,
        faults: FaultInjector | None = None,
    ) -> None:
        self.outcomes = outcomes
        self.default_duration = default_duration
        self.failure_reason = failure_reason
        if config is None:
            config = AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods)
        if policy_provider is not None:
            config = dataclasses.replace(config, policy_provider=policy_provider)
        self.config = config
        self.sim = Simulation(outcomes=outcomes, entrypoints=ECHO_ENTRYPOINTS, tekton_installed=tekton_installed,
                              default_duration=default_duration)
        self.cluster: MemoryCluster = self.sim.cluster
        self.clock = self.sim.clock
        self._watches: list[tuple[str, MemoryWatch]] = []
        if tekton_installed:
            self._watches = [(kind, self.cluster.watch(api, kind, resource_version=self.cluster.resource_version))
                             for api, kind in WATCHED]
        self._seen: list[Seen] = []
        self.manager = self.sim.manager
        self.tekton: TektonSimulators | None = None
        if tekton_installed and simulate_tekton:
            self.tekton = self._add_tekton(self.manager)
        self.app: App = install(self.manager, self.config)
        self.cluster.faults = faults
        self.restarts = 0

    def _add_tekton(self, manager: Manager) -> TektonSimulators:
        sims = tekton_simulators(self.cluster, self.clock, outcomes=self.outcomes, entrypoints=ECHO_ENTRYPOINTS,
                                 default_duration=self.default_duration, failure_reason=self.failure_reason)
        for controller in sims.controllers():
            manager.add(controller)
        return sims

    # -- driving --------------------------------------------------------------------------------

    def run_until(self, predicate: Callable[[], bool], max_seconds: float = 4 * 3600) -> bool:
        return self.manager.run_until(predicate, max_virtual_seconds=max_seconds)

    def reconciles(self, kubernaut_only: bool = False) -> int:
        return sum(c.stats.reconciles for c in self.manager.controllers
                   if not kubernaut_only or c.name in ("workflowexecutions", "actionexecutions"))

    def run_reconciles(self, count: int, *, kubernaut_only: bool = False) -> int:
        """Reconcile ``count`` keys (the simulations run as often as they need meanwhile when
        ``kubernaut_only``), or fewer if everything settles first."""
        start = self.reconciles(kubernaut_only)
        self.manager.run_until(lambda: self.reconciles(kubernaut_only) - start >= count or self.settled())
        return self.reconciles(kubernaut_only) - start

    def restart(self) -> None:
        """Throw every controller away (queues, timers, simulator memory) and start new ones on
        the same cluster: a controller crash and restart."""
        self.manager.stop()
        self.manager = Manager(self.cluster, self.clock)
        jobs = JobSimulator(self.cluster, self.clock, outcomes=self.outcomes, entrypoints=ECHO_ENTRYPOINTS,
                            default_duration=self.default_duration)
        self.manager.add(jobs.controller())
        if self.tekton is not None:
            self.tekton = self._add_tekton(self.manager)
        self.app = install(self.manager, self.config)
        self.restarts += 1

    def cancel(self, name: str) -> None:
        wfe = copy.deepcopy(self.wfe(name))
        wfe["spec"]["cancel"] = True
        self.cluster.update(wfe)

    # -- reading ---------------------------------------------------------------------------------

    def messages(self, workflow: str) -> dict[str, str | None]:
        return {s["name"]: s["message"] for s in self.status(workflow).get("steps") or []}

    def pipelinerun(self, name: str) -> dict[str, Any]:
        return self.cluster.get(TEKTON, "PipelineRun", name, NS)

    def taskruns(self, workflow: str) -> dict[str, dict[str, Any]]:
        items = self.cluster.list(TEKTON, "TaskRun", NS, {"tekton.dev/pipelineRun": workflow}).items
        return {tr["metadata"]["labels"]["tekton.dev/pipelineTask"]: tr for tr in items}

    def objects(self, kind: str) -> list[dict[str, Any]]:
        return self.cluster.objects(kind)

    def seen(self, kind: str | None = None) -> list[Seen]:
        """Every change of the watched kinds so far (revision order)."""
        for watched_kind, watch in self._watches:
            while (event := watch.next(0)) is not None:
                if event.type in ("ADDED", "MODIFIED", "DELETED"):
                    rv = int(event.object["metadata"]["resourceVersion"])
                    self._seen.append(Seen(rv, event.type, watched_kind, event.object))
        self._seen.sort(key=lambda s: s.rv)
        return [s for s in self._seen if kind is None or s.kind == kind]

    def events(self, workflow: str | None = None) -> list[tuple[str, str, str]]:
        """(type, reason, message) of the Kubernetes Events about WorkflowExecutions."""
        found = []
        for event in self.cluster.objects("Event"):
            ref = event.get("involvedObject") or {}
            if ref.get("kind") == WFE_KIND and (workflow is None or ref.get("name") == workflow):
                found.append((event["type"], event["reason"], event["message"]))
        return found


def condition(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """(status, reason, message) of a run's Succeeded condition."""
    (cond,) = [c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == "Succeeded"]
    return cond["status"], cond["reason"], cond["message"]


def wfe_condition(status: Mapping[str, Any], kind: str) -> tuple[str, str, str]:
    (cond,) = [c for c in status.get("conditions") or [] if c["type"] == kind]
    return cond["status"], cond["reason"], cond["message"]
