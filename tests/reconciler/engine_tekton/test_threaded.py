"""The V2 engine driven as in the cluster: worker threads, a real clock, API errors and lost
responses, several workflows at once next to V1 ones (``Manager.start``)."""

from __future__ import annotations

import time

from tekton_engine_harness import thing, workflow

from compiler.spec import KIND as WFE_KIND
from reconciler.app import AppConfig, install
from reconciler.clock import RealClock
from reconciler.cluster import FaultInjector
from reconciler.cluster.memory import MemoryCluster
from reconciler.runtime import Manager
from reconciler.simulation import parse_outcomes
from reconciler.simulation.jobs import JobSimulator
from reconciler.simulation.tekton import tekton_controllers
from reconciler.simulation.wiring import simulated_pods
from reconciler.status import TERMINAL_WORKFLOW_PHASES
from reconciler.verification import ImagePolicy
from reconciler.workflow_controller import FINALIZER


def test_worker_threads_on_a_real_clock_with_both_engines() -> None:
    clock = RealClock()
    cluster = MemoryCluster(clock=clock, seed=1, faults=FaultInjector(rate=0.02, lost_response_rate=0.02, seed=5))
    manager = Manager(cluster, clock)
    script = parse_outcomes("steps: {flaky: [{result: failed, message: once}, {duration: 0s}]}").outcomes
    manager.add(JobSimulator(cluster, clock, outcomes=script, default_duration=0.05).controller(workers=2))
    for controller in tekton_controllers(cluster, clock, outcomes=script, default_duration=0.05, workers=2):
        manager.add(controller)
    install(manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods, workers=3))
    faults, cluster.faults = cluster.faults, None
    steps = (thing("a", usesWorkspace=True) + thing("b") + thing("flaky", after=["a", "b"], retries=1)
             + thing("c", after=["flaky"]))
    for i in range(6):
        cluster.create(workflow(f"t{i}", steps, spec=f"engine: {'tekton' if i % 2 == 0 else 'jobs'}"))
    cluster.faults = faults

    def settled() -> bool:
        return all((w.get("status") or {}).get("phase") in TERMINAL_WORKFLOW_PHASES
                   and FINALIZER not in (w["metadata"].get("finalizers") or []) for w in cluster.objects(WFE_KIND))

    with manager:
        deadline = time.monotonic() + 60
        while not settled() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert settled()
    by_engine: dict[str, list[dict[str, tuple[str, int]]]] = {"jobs": [], "tekton": []}
    for wfe in cluster.objects(WFE_KIND):
        assert wfe["status"]["phase"] == "Succeeded", wfe["status"]
        by_engine[wfe["status"]["engine"]].append({s["name"]: (s["phase"], s["attempts"])
                                                   for s in wfe["status"]["steps"]})
    expected = {"a": ("Succeeded", 1), "b": ("Succeeded", 1), "flaky": ("Succeeded", 2), "c": ("Succeeded", 1)}
    assert by_engine == {"jobs": [expected] * 3, "tekton": [expected] * 3}
    runs = [p["metadata"]["name"] for p in cluster.objects("PipelineRun")]
    assert sorted(runs) == ["t0", "t2", "t4"]
    assert len(cluster.objects("TaskRun")) == 3 * 4
