"""What the simulators save per request and per reconcile, without changing what they do.

* ``Simulation`` answers its simulated controllers with the embedded cluster's read-only
  snapshots (no private copy per answer), their requests logged as before.
* The simulated Tekton PipelineRun controller is reconciled on every change of a run and of its
  TaskRuns; it prepares the run's Pipeline (graph, params, context) once and reuses it while the
  run's spec and ``status.pipelineSpec`` are unchanged. These tests drive its ``reconcile``
  directly (reads then go to the API server) on a hand-made two-task Pipeline.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.clock import VirtualClock
from reconciler.cluster.memory import MemoryCluster
from reconciler.cluster.snapshots import FrozenDict
from reconciler.controller import Key
from reconciler.simulation import Simulation, job_finished
from reconciler.simulation.tekton import PipelineRunSimulator, add_tekton, tekton_simulators
from reconciler.simulation.tekton import pipelinerun as pipelinerun_module

NS = "ns"
TEKTON = "tekton.dev/v1"


def test_simulated_controllers_are_answered_with_read_only_snapshots() -> None:
    sim = Simulation()
    tekton = add_tekton(sim)
    sim.cluster.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "job", "namespace": NS},
                        "spec": {"backoffLimit": 0, "template": {"spec": {
                            "restartPolicy": "Never", "containers": [{"name": "action", "image": "busybox"}]}}}})
    assert sim.run_until(lambda: job_finished(sim.cluster.get("batch/v1", "Job", "job", NS)) == "Complete")
    for cluster in (sim.jobs.cluster, tekton.pipelineruns.cluster, tekton.taskruns.cluster):
        assert type(cluster.get("batch/v1", "Job", "job", NS)) is FrozenDict
    assert type(sim.cluster.get("batch/v1", "Job", "job", NS)) is dict  # anyone else: a private copy
    # Their requests are logged as before: by no client name (not kubernaut's, not the CLI's).
    clients = {client for client, _verb, kind in sim.cluster.request_counts() if kind in ("Job", "Pod")}
    assert clients == {""}


def _cluster() -> tuple[MemoryCluster, PipelineRunSimulator]:
    clock = VirtualClock()
    cluster = MemoryCluster(clock=clock)
    cluster.create({"apiVersion": TEKTON, "kind": "Task", "metadata": {"name": "t", "namespace": NS},
                    "spec": {"params": [{"name": "word", "type": "string"}],
                             "steps": [{"name": "execute", "image": "busybox"}]}})
    cluster.create({"apiVersion": TEKTON, "kind": "Pipeline", "metadata": {"name": "p", "namespace": NS},
                    "spec": {"params": [{"name": "word", "type": "string"}],
                             "tasks": [{"name": "first", "taskRef": {"name": "t"},
                                        "params": [{"name": "word", "value": "$(params.word)"}]},
                                       {"name": "second", "taskRef": {"name": "t"}, "runAfter": ["first"],
                                        "params": [{"name": "word", "value": "$(params.word)"}]}]}})
    cluster.create({"apiVersion": TEKTON, "kind": "PipelineRun", "metadata": {"name": "run", "namespace": NS},
                    "spec": {"pipelineRef": {"name": "p"}, "params": [{"name": "word", "value": "one"}]}})
    # Only the PipelineRun controller: the test plays the TaskRuns' outcomes itself.
    return cluster, tekton_simulators(cluster, clock).pipelineruns


def _taskrun(cluster: MemoryCluster, task: str) -> dict[str, Any] | None:
    found = [tr for tr in cluster.list(TEKTON, "TaskRun", NS).items
             if tr["metadata"]["labels"]["tekton.dev/pipelineTask"] == task]
    return found[0] if found else None


def _succeed(cluster: MemoryCluster, taskrun: dict[str, Any]) -> None:
    cluster.patch_status(TEKTON, "TaskRun", taskrun["metadata"]["name"], NS, {
        "startTime": "2026-01-01T00:00:00Z", "completionTime": "2026-01-01T00:00:01Z",
        "conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded", "message": "done",
                        "lastTransitionTime": "2026-01-01T00:00:01Z"}]})


def _word(taskrun: dict[str, Any]) -> str:
    (param,) = taskrun["spec"]["params"]
    return str(param["value"])


def _count_graphs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How often the PipelineRun controller builds a run's task graph (once per preparation)."""
    calls = [0]
    build = pipelinerun_module.build_graph

    def counted(tasks: Any) -> Any:
        calls[0] += 1
        return build(tasks)

    monkeypatch.setattr(pipelinerun_module, "build_graph", counted)
    return calls


def test_a_run_prepares_its_pipeline_once_across_reconciles(monkeypatch: pytest.MonkeyPatch) -> None:
    graphs = _count_graphs(monkeypatch)
    cluster, controller = _cluster()
    key = Key(NS, "run")
    for _ in range(3):  # its own writes and its TaskRuns' changes wake it, again and again
        controller.reconcile(key)
    first = _taskrun(cluster, "first")
    assert first is not None and _taskrun(cluster, "second") is None
    _succeed(cluster, first)
    controller.reconcile(key)
    second = _taskrun(cluster, "second")
    assert second is not None and _word(second) == "one"
    assert graphs[0] == 1


def test_a_changed_run_spec_is_prepared_again(monkeypatch: pytest.MonkeyPatch) -> None:
    graphs = _count_graphs(monkeypatch)
    cluster, controller = _cluster()
    key = Key(NS, "run")
    controller.reconcile(key)
    controller.reconcile(key)
    first = _taskrun(cluster, "first")
    assert first is not None and _word(first) == "one"
    # Params are not immutable on the embedded API server: the next TaskRun sees the new value,
    # as it would from a controller that prepares the Pipeline on every reconcile.
    run = cluster.get(TEKTON, "PipelineRun", "run", NS)
    cluster.update({**run, "spec": {**run["spec"], "params": [{"name": "word", "value": "two"}]}})
    _succeed(cluster, first)
    controller.reconcile(key)
    second = _taskrun(cluster, "second")
    assert second is not None and _word(second) == "two"
    assert graphs[0] == 2


def test_a_finished_run_leaves_nothing_prepared_behind() -> None:
    cluster, controller = _cluster()
    key = Key(NS, "run")
    controller.reconcile(key)
    for task in ("first", "second"):
        taskrun = _taskrun(cluster, task)
        assert taskrun is not None
        _succeed(cluster, taskrun)
        controller.reconcile(key)
    assert controller._prepared  # what a long-running simulation keeps while the run runs
    controller.reconcile(key)  # the run is finished: what was kept for it goes
    assert not controller._prepared

