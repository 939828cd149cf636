"""The rollback drill (the seed's "feature flag revert: 30 seconds"), in virtual time.

V2 workflows are running when an operator replaces the routing ConfigMap with
``deploy/config/routing-rollback.yaml``. The controller's ``PolicySource`` follows the ConfigMap
(list + watch, as in the cluster); the test polls it whenever the reconcile loop runs, as its
watch thread would. New workflows are submitted every 5 seconds from the flip on. Expected: the
policy in force is V1 within 30 s of the flip, every workflow submitted after that runs on V1,
and the V2 workflows that were running finish on V2 (``status.engine`` is sticky).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler.spec import API_VERSION, KIND
from reconciler.app import AppConfig, install
from reconciler.clock import VirtualClock
from reconciler.routing import PolicySource
from reconciler.simulation import Simulation
from reconciler.simulation.outcomes import parse_outcomes
from reconciler.simulation.tekton import add_tekton
from reconciler.status import TERMINAL_WORKFLOW_PHASES
from reconciler.verification import ImagePolicy

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "config"
NAMESPACE = "kubernaut-system"
IMAGE = "ghcr.io/kubernaut/actions/echo@sha256:" + "0" * 64
ROLLBACK_WITHIN = 30.0  # seconds, the seed's promise
SUBMIT_EVERY = 5.0


def configmap(policy_file: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubernaut-config", "namespace": NAMESPACE},
            "data": {"routing.yaml": (CONFIG / policy_file).read_text()}}


def workflow(name: str) -> dict[str, Any]:
    step = {"actionType": "kubernaut/echo", "image": IMAGE, "inputs": {}}
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name, "namespace": "prod"},
            "spec": {"workflowType": "gitops-pr-creation", "steps": [
                {"name": "work", **step}, {"name": "verify", "runAfter": ["work"], **step}]}}


class Drill:
    def __init__(self) -> None:
        outcomes = parse_outcomes("steps:\n  work:\n    - {result: succeeded, duration: 2m}\n").outcomes
        self.sim = Simulation(outcomes=outcomes)
        add_tekton(self.sim)
        self.cluster = self.sim.cluster
        assert isinstance(self.sim.clock, VirtualClock)
        self.clock: VirtualClock = self.sim.clock
        self.cluster.create(configmap("routing-week7-full.yaml"))  # everything on V2
        self.source = PolicySource(self.cluster, NAMESPACE)
        self.source.poll()
        install(self.sim.manager, AppConfig(image_policy=ImagePolicy("skip"), policy_provider=self.source.current))
        self.switched_at: float | None = None

    def _poll(self) -> bool:
        self.source.poll(0.0)
        if self.switched_at is None and self.source.current().defaultEngine == "jobs":
            self.switched_at = self.clock.monotonic()
        return False

    def run_for(self, seconds: float) -> None:
        """Drive every controller through the next ``seconds`` of virtual time."""
        target = self.clock.monotonic() + seconds
        self.sim.run_until(self._poll, seconds)
        if self.clock.monotonic() < target:
            self.clock.advance(target - self.clock.monotonic())
        self.sim.run_until(self._poll, 0.0)

    def status(self, name: str) -> dict[str, Any]:
        return self.cluster.get(API_VERSION, KIND, name, "prod").get("status") or {}

    def engine(self, name: str) -> str | None:
        return self.status(name).get("engine")


def test_routing_rollback_reaches_new_workflows_within_30_seconds_and_running_v2_finish_on_v2() -> None:
    drill = Drill()
    running_v2 = [f"v2-{i}" for i in range(5)]
    for name in running_v2:
        drill.cluster.create(workflow(name))
    drill.run_for(10)
    assert all(drill.engine(n) == "tekton" and drill.status(n)["phase"] == "Running" for n in running_v2)

    flip = drill.clock.monotonic()
    drill.cluster.update({**drill.cluster.get("v1", "ConfigMap", "kubernaut-config", NAMESPACE),
                          "data": configmap("routing-rollback.yaml")["data"]})
    submitted: list[tuple[float, str]] = []
    for k in range(12):  # one new workflow every 5 s for a minute after the flip
        name = f"new-{k}"
        drill.cluster.create(workflow(name))
        submitted.append((drill.clock.monotonic() - flip, name))
        drill.run_for(SUBMIT_EVERY)

    assert drill.switched_at is not None and drill.switched_at - flip <= ROLLBACK_WITHIN
    late = [(t, n) for t, n in submitted if t >= ROLLBACK_WITHIN]
    assert len(late) >= 5
    assert {n: drill.engine(n) for _, n in submitted} == {n: "jobs" for _, n in submitted}

    # The V2 workflows that were running when the flip came are still V2's, and finish there.
    assert all(drill.status(n)["phase"] == "Running" for n in running_v2)
    drill.sim.run_until(lambda: all(drill.status(n).get("phase") in TERMINAL_WORKFLOW_PHASES
                                    for n in running_v2 + [n for _, n in submitted]), 3600)
    for name in running_v2:
        assert (drill.status(name)["phase"], drill.engine(name)) == ("Succeeded", "tekton")
        assert drill.cluster.get("tekton.dev/v1", "PipelineRun", name, "prod")
    for _, name in submitted:
        assert (drill.status(name)["phase"], drill.engine(name)) == ("Succeeded", "jobs")
        assert not drill.cluster.list("tekton.dev/v1", "PipelineRun", "prod",
                                      {"tekton.dev/pipeline": name}).items
