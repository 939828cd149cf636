"""The controller process as ``kubernaut controller`` assembles it (``reconciler.service.serve``)
enforces the ClusterImagePolicies: the production wiring, not a test double."""

from __future__ import annotations

import threading

from support.registry import RunningRegistry
from support.signed_images import SignedImages
from support.waiting import wait_for
from support.workflows import step, workflow

from kubernaut.actions import LOCAL_ENTRYPOINTS
from reconciler.app import App
from reconciler.clock import RealClock
from reconciler.cluster.memory import MemoryCluster
from reconciler.runtime import Manager
from reconciler.service import ServiceConfig, serve
from reconciler.simulation.jobs import JobSimulator
from reconciler.supplychain.policy_verifier import PolicyVerifier
from reconciler.verification import ImagePolicy

WFE = ("workflowexecution.kubernaut.ai/v1alpha1", "WorkflowExecution")


def test_the_controller_process_runs_signed_images_and_refuses_the_others(registry: RunningRegistry) -> None:
    images = SignedImages(registry.host)
    clock = RealClock()
    cluster = MemoryCluster(clock=clock, seed=5, tekton_installed=False)
    kubelet = Manager(cluster, clock)
    kubelet.add(JobSimulator(cluster, clock, entrypoints=LOCAL_ENTRYPOINTS, default_duration=0.05).controller())
    cluster.create(images.policy())
    signed, unsigned = images.image(), images.image(signed=False)
    config = ServiceConfig(namespace="kubernaut-system", metrics_port=None, leader_elect=False)
    assert config.image_policy == "verify" and config.no_match_policy == "deny"
    stop = threading.Event()
    ready: list[App] = []
    thread = threading.Thread(target=serve, args=(cluster, config, stop),
                              kwargs={"clock": clock, "on_ready": ready.append}, daemon=True)
    thread.start()
    kubelet.start()
    try:
        (app,) = wait_for(lambda: ready)
        policy = app.verification.policy
        assert isinstance(policy, ImagePolicy) and isinstance(policy.verifier, PolicyVerifier)
        for name, image in (("signed", signed), ("unsigned", unsigned), ("unmatched", "elsewhere.example/x@sha256:"
                                                                                     + "c" * 64)):
            cluster.create(workflow(name, step("a", image=image, inputs={"x": 1})))

        def phases() -> dict[str, str] | None:
            found = {n: (cluster.get(*WFE, n, "default").get("status") or {}).get("phase")
                     for n in ("signed", "unsigned", "unmatched")}
            return found if all(p in ("Succeeded", "Failed") for p in found.values()) else None

        assert wait_for(phases) == {"signed": "Succeeded", "unsigned": "Failed", "unmatched": "Failed"}
        unmatched = cluster.get(*WFE, "unmatched", "default")["status"]
        assert "no ClusterImagePolicy matches elsewhere.example/x" in unmatched["message"]
    finally:
        stop.set()
        kubelet.stop()
        thread.join(10)
    assert not thread.is_alive()
