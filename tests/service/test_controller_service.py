"""The controller process (``reconciler.service.serve``, what ``kubernaut controller`` runs):
leader election, the routing ConfigMap, /metrics, and workflows reconciled to the end."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from support.waiting import wait_for

from kubernaut.actions import LOCAL_ENTRYPOINTS
from reconciler.app import App
from reconciler.clock import RealClock
from reconciler.cluster.memory import MemoryCluster
from reconciler.runtime import Manager
from reconciler.service import ServiceConfig, serve
from reconciler.simulation.jobs import JobSimulator
from reconciler.status import TERMINAL_WORKFLOW_PHASES

ROOT = Path(__file__).resolve().parents[2]
WFE = ("workflowexecution.kubernaut.ai/v1alpha1", "WorkflowExecution")


def example(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "examples" / name).read_text())
    doc["metadata"]["namespace"] = "default"
    return doc


def start(cluster: MemoryCluster, config: ServiceConfig) -> tuple[threading.Event, threading.Thread, list[App]]:
    stop = threading.Event()
    ready: list[App] = []
    thread = threading.Thread(target=serve, args=(cluster, config, stop),
                              kwargs={"clock": cluster.clock, "on_ready": ready.append}, daemon=True)
    thread.start()
    wait_for(lambda: ready)
    return stop, thread, ready


def test_controller_runs_workflows_serves_metrics_and_holds_the_lease() -> None:
    clock = RealClock()
    cluster = MemoryCluster(clock=clock, seed=7)
    kubelet = Manager(cluster, clock)
    kubelet.add(JobSimulator(cluster, clock, entrypoints=LOCAL_ENTRYPOINTS, default_duration=0.05).controller())
    config = ServiceConfig(namespace="kubernaut-system", metrics_port=0, metrics_addr="127.0.0.1",
                           image_policy="skip", identity="replica-a")
    with kubelet:
        stop, thread, ready = start(cluster, config)
        try:
            cluster.create(example("echo-data-passing.yaml"))
            done = wait_for(lambda: (cluster.get(*WFE, "echo-data-passing", "default").get("status") or {})
                            .get("phase") in TERMINAL_WORKFLOW_PHASES)
            assert done
            wfe = cluster.get(*WFE, "echo-data-passing", "default")
            assert wfe["status"]["phase"] == "Succeeded"
            assert wfe["status"]["engine"] == "jobs"
            lease = cluster.get("coordination.k8s.io/v1", "Lease", "kubernaut-controller", "kubernaut-system")
            assert lease["spec"]["holderIdentity"] == "replica-a"
            port = ready[0].metrics  # the same registry /metrics serves
            body = port.exposition().decode()
            assert 'kubernaut_workflows_finished_total{engine="jobs",outcome="Succeeded"} 1.0' in body
        finally:
            stop.set()
            thread.join(10)
    assert not thread.is_alive()
    # A clean stop releases the lease so a successor takes over at once.
    lease = cluster.get("coordination.k8s.io/v1", "Lease", "kubernaut-controller", "kubernaut-system")
    assert lease["spec"].get("holderIdentity") in ("", None)


def test_metrics_endpoint_answers_while_running() -> None:
    cluster = MemoryCluster(clock=RealClock(), seed=3)
    captured: dict[str, int] = {}

    def on_ready(app: App) -> None:
        captured["ok"] = 1

    config = ServiceConfig(metrics_port=0, metrics_addr="127.0.0.1", leader_elect=False, image_policy="skip")
    stop = threading.Event()
    servers: list[Any] = []
    from reconciler import metrics as metrics_module

    real_serve = metrics_module.Metrics.serve

    def spy(self: metrics_module.Metrics, port: int, addr: str = "127.0.0.1") -> Any:
        server = real_serve(self, port, addr)
        servers.append(server)
        return server

    metrics_module.Metrics.serve = spy  # type: ignore[method-assign]
    try:
        thread = threading.Thread(target=serve, args=(cluster, config, stop),
                                  kwargs={"clock": cluster.clock, "on_ready": on_ready}, daemon=True)
        thread.start()
        wait_for(lambda: servers and captured)
        with urllib.request.urlopen(f"http://127.0.0.1:{servers[0].port}/metrics", timeout=5) as response:
            text = response.read().decode()
        assert "kubernaut_workflows_started_total" in text
    finally:
        metrics_module.Metrics.serve = real_serve  # type: ignore[method-assign]
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_routing_configmap_is_followed_without_restart() -> None:
    clock = RealClock()
    cluster = MemoryCluster(clock=clock, seed=11, tekton_installed=False)
    config = ServiceConfig(namespace="kubernaut-system", metrics_port=None, leader_elect=False, image_policy="skip")
    stop, thread, _ = start(cluster, config)
    try:
        policy = ("apiVersion: kubernaut.ai/v1alpha1\nkind: RoutingPolicy\ndefaultEngine: tekton\nrules: []\n")
        cluster.create({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "kubernaut-config", "namespace": "kubernaut-system"},
                        "data": {"routing.yaml": policy}})
        time.sleep(0.5)  # the policy source picks the ConfigMap up from its watch
        cluster.create(example("single-action.yaml"))
        status = wait_for(lambda: (cluster.get(*WFE, "payment-scale-up", "default").get("status") or {})
                          .get("engine") and cluster.get(*WFE, "payment-scale-up", "default")["status"])
        # Tekton is not installed here: routed to tekton by the ConfigMap, it falls back to jobs.
        assert status["engine"] == "jobs"
        assert any(c["type"] == "EngineFallback" and c["status"] == "True" for c in status["conditions"])
    finally:
        stop.set()
        thread.join(10)
