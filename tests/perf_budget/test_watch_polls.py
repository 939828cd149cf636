"""What watch delivery costs the single-threaded loop (issue 13), counted: the driver polls a
list-watcher only when it has something to deliver, so no poll comes back empty, where it used to
poll every informer before every reconcile (eight feeds on V1, most of them idle). Counts, never
timings."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from compiler.spec import API_VERSION, KIND
from reconciler.app import AppConfig, install
from reconciler.cache.list_watch import ListWatcher
from reconciler.runtime import Manager
from reconciler.simulation import Simulation
from reconciler.simulation.wiring import simulated_pods
from reconciler.status import TERMINAL_WORKFLOW_PHASES
from reconciler.verification import ImagePolicy

IMAGE = "ghcr.io/kubernaut/actions/thing@sha256:" + "c" * 64
STEPS = (("a", ()), ("b", ("a",)), ("c", ("a",)), ("d", ("b", "c")), ("e", ("d",)))
WORKFLOWS = 3


def workflow(name: str) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name, "namespace": "polls"},
            "spec": {"steps": [{"name": step, "actionType": "custom/thing", "image": IMAGE, "runAfter": list(after),
                                "usesWorkspace": step == "a"} for step, after in STEPS]}}


def test_no_poll_comes_back_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    counts: Counter[str] = Counter()
    poll, step = ListWatcher.poll, Manager.step

    def counted_poll(self: ListWatcher, timeout: float = 0.0) -> int:
        handled = poll(self, timeout)
        counts["polls"] += 1
        counts["empty polls"] += handled == 0
        return handled

    def counted_step(self: Manager) -> bool:
        counts["steps"] += 1
        return step(self)

    monkeypatch.setattr(ListWatcher, "poll", counted_poll)
    monkeypatch.setattr(Manager, "step", counted_step)
    sim = Simulation()
    install(sim.manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods),
            cluster=sim.cluster.client("kubernaut"))
    names = [f"wf-{n}" for n in range(WORKFLOWS)]
    for name in names:
        sim.cluster.create(workflow(name))

    def finished() -> bool:
        return all((sim.cluster.get(API_VERSION, KIND, name, "polls").get("status") or {}).get("phase")
                   in TERMINAL_WORKFLOW_PHASES for name in names)

    assert sim.run_until(finished, 3600)
    feeds = len(sim.manager._feeds or ())
    assert feeds >= 6  # the informers of V1's kinds and the simulators' watches
    assert counts["empty polls"] == 0
    # Polling every feed each step was feeds * steps; now about two polls per step remain.
    assert counts["polls"] < 3 * counts["steps"] < feeds * counts["steps"]
