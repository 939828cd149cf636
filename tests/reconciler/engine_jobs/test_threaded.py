"""The same controllers driven as in the cluster: worker threads per controller, a real clock,
several workflows at once (``Manager.start``)."""

from __future__ import annotations

import time

from jobs_engine_harness import WFE_KIND, echo_step, workflow

from reconciler.app import AppConfig, install
from reconciler.clock import RealClock
from reconciler.cluster import FaultInjector
from reconciler.cluster.memory import MemoryCluster
from reconciler.runtime import Manager
from reconciler.simulation import parse_outcomes
from reconciler.simulation.jobs import JobSimulator
from reconciler.simulation.wiring import simulated_pods
from reconciler.status import TERMINAL_WORKFLOW_PHASES
from reconciler.verification import ImagePolicy
from reconciler.workflow_controller import FINALIZER


def thing(name: str, **fields: object) -> str:
    return echo_step(name, action_type="custom/thing", **fields)  # type: ignore[arg-type]


def test_worker_threads_on_a_real_clock() -> None:
    clock = RealClock()
    cluster = MemoryCluster(clock=clock, seed=1, faults=FaultInjector(rate=0.02, lost_response_rate=0.02, seed=3))
    manager = Manager(cluster, clock)
    script = parse_outcomes("steps: {flaky: [{result: failed, message: once}, {duration: 0s}]}").outcomes
    manager.add(JobSimulator(cluster, clock, outcomes=script, default_duration=0.05).controller(workers=2))
    install(manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods, workers=3))
    faults, cluster.faults = cluster.faults, None
    for i in range(6):
        cluster.create(workflow(f"t{i}", thing("a", usesWorkspace=True) + thing("b") +
                                thing("flaky", after=["a", "b"], retries=1) + thing("c", after=["flaky"])))
    cluster.faults = faults

    def settled() -> bool:
        found = cluster.objects(WFE_KIND)
        return all((w.get("status") or {}).get("phase") in TERMINAL_WORKFLOW_PHASES
                   and FINALIZER not in (w["metadata"].get("finalizers") or []) for w in found)

    with manager:
        deadline = time.monotonic() + 60
        while not settled() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert settled()
    for wfe in cluster.objects(WFE_KIND):
        steps = {s["name"]: (s["phase"], s["attempts"]) for s in wfe["status"]["steps"]}
        assert wfe["status"]["phase"] == "Succeeded"
        assert steps == {"a": ("Succeeded", 1), "b": ("Succeeded", 1), "flaky": ("Succeeded", 2),
                         "c": ("Succeeded", 1)}
    names = [j["metadata"]["name"] for j in cluster.objects("Job")]
    assert len(names) == 6 * 5 and len(set(names)) == len(names)
    assert not cluster.objects("PersistentVolumeClaim")
