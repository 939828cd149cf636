"""The simulated Tekton controllers skip work that cannot change what they write.

* The PipelineRun controller is woken by every write to its TaskRuns and by its own writes. A
  reconcile that finds the run at the version the last one left and its TaskRuns unchanged in
  what it decides from (existence, spec, finished state, results) ends before walking the DAG
  again; one whose inputs changed decides as before.
* A TaskRun event that leaves the TaskRun as the run's last reconcile left it, in all it decides
  from, does not queue the run at all (a deleted TaskRun always does); nor does the event of the
  run's own status write.
* The TaskRun controller is not woken by the events of its own writes (it asked for its own
  wake-up when it wrote); someone else's change wakes it.
* So is the Job simulator (its pods' creation and status writes, its Job status writes).
* Substitution keeps each param under ``params.x`` only and looks up a value that is exactly one
  variable (every env value of the meta-Task) without running a regular expression.
* The Job simulator's running pods share one frozen conditions list and container statuses per
  second and container set, which the API server keeps without copying.

These tests drive its ``reconcile`` directly (reads then go to the API server) on a hand-made
two-task Pipeline and count how often it builds ``PipelineFacts`` (once per full decision).
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.clock import VirtualClock
from reconciler.cluster.memory import MemoryCluster
from reconciler.controller import Key
from reconciler.simulation import Simulation
from reconciler.simulation.jobs import pod_name
from reconciler.simulation.own_writes import OwnWrites
from reconciler.simulation.tekton import PipelineRunSimulator, tekton_simulators
from reconciler.simulation.tekton import params as params_module
from reconciler.simulation.tekton import pipelinerun as pipelinerun_module

NS = "ns"
TEKTON = "tekton.dev/v1"
KEY = Key(NS, "run")


def _objects() -> list[dict[str, Any]]:
    return [{"apiVersion": TEKTON, "kind": "Task", "metadata": {"name": "t", "namespace": NS},
             "spec": {"steps": [{"name": "execute", "image": "busybox"}]}},
            {"apiVersion": TEKTON, "kind": "Pipeline", "metadata": {"name": "p", "namespace": NS},
             "spec": {"tasks": [{"name": "first", "taskRef": {"name": "t"}},
                                {"name": "second", "taskRef": {"name": "t"}, "runAfter": ["first"]}]}},
            {"apiVersion": TEKTON, "kind": "PipelineRun", "metadata": {"name": "run", "namespace": NS},
             "spec": {"pipelineRef": {"name": "p"}, "timeouts": {"pipeline": "1h0m0s"}}}]


def _setup() -> tuple[MemoryCluster, VirtualClock, PipelineRunSimulator]:
    clock = VirtualClock()
    cluster = MemoryCluster(clock=clock)
    for obj in _objects():
        cluster.create(obj)
    # Only the PipelineRun controller: the test plays the TaskRuns' progress itself.
    return cluster, clock, tekton_simulators(cluster, clock).pipelineruns


def _count_decisions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    facts = pipelinerun_module.PipelineFacts

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return facts(*args, **kwargs)

    monkeypatch.setattr(pipelinerun_module, "PipelineFacts", counted)
    return calls


def _taskrun(cluster: MemoryCluster, task: str) -> dict[str, Any] | None:
    found = [tr for tr in cluster.list(TEKTON, "TaskRun", NS).items
             if tr["metadata"]["labels"]["tekton.dev/pipelineTask"] == task]
    return found[0] if found else None


def _status(cluster: MemoryCluster, taskrun: dict[str, Any], state: str, reason: str) -> None:
    patch: dict[str, Any] = {"startTime": "2026-01-01T00:00:00Z", "conditions": [
        {"type": "Succeeded", "status": state, "reason": reason, "message": reason,
         "lastTransitionTime": "2026-01-01T00:00:01Z"}]}
    if state != "Unknown":
        patch["completionTime"] = "2026-01-01T00:00:01Z"
    cluster.patch_status(TEKTON, "TaskRun", taskrun["metadata"]["name"], NS, patch)


def _relabel(cluster: MemoryCluster, taskrun: dict[str, Any]) -> None:
    live = cluster.get(TEKTON, "TaskRun", taskrun["metadata"]["name"], NS)
    live["metadata"]["labels"]["tekton.dev/task"] = "t"
    cluster.update(live)


def test_a_reconcile_after_its_own_writes_decides_nothing_again(monkeypatch: pytest.MonkeyPatch) -> None:
    decisions = _count_decisions(monkeypatch)
    cluster, _clock, controller = _setup()
    controller.reconcile(KEY)  # starts the run: status written, the first TaskRun created
    assert decisions[0] == 1 and _taskrun(cluster, "first") is not None
    written = cluster.get(TEKTON, "PipelineRun", "run", NS)
    result = controller.reconcile(KEY)  # woken by its own writes
    assert decisions[0] == 1
    assert result is not None and result.requeue_after == pytest.approx(3600.0)  # still waits for the timeout
    assert cluster.get(TEKTON, "PipelineRun", "run", NS)["metadata"]["resourceVersion"] == \
        written["metadata"]["resourceVersion"]


def test_a_taskrun_relabelled_or_started_changes_no_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    decisions = _count_decisions(monkeypatch)
    cluster, _clock, controller = _setup()
    controller.reconcile(KEY)
    first = _taskrun(cluster, "first")
    assert first is not None
    _relabel(cluster, first)
    controller.reconcile(KEY)
    _status(cluster, first, "Unknown", "Running")
    controller.reconcile(KEY)
    assert decisions[0] == 1
    assert _taskrun(cluster, "second") is None


def test_a_finished_taskrun_is_decided_on(monkeypatch: pytest.MonkeyPatch) -> None:
    decisions = _count_decisions(monkeypatch)
    cluster, _clock, controller = _setup()
    controller.reconcile(KEY)
    controller.reconcile(KEY)
    first = _taskrun(cluster, "first")
    assert first is not None
    _status(cluster, first, "True", "Succeeded")
    controller.reconcile(KEY)
    assert decisions[0] == 2
    assert _taskrun(cluster, "second") is not None
    run = cluster.get(TEKTON, "PipelineRun", "run", NS)
    assert [r["pipelineTaskName"] for r in run["status"]["childReferences"]] == ["first", "second"]
    assert "Tasks Completed: 1" in run["status"]["conditions"][0]["message"]


def test_a_deleted_taskrun_is_created_again(monkeypatch: pytest.MonkeyPatch) -> None:
    decisions = _count_decisions(monkeypatch)
    cluster, _clock, controller = _setup()
    controller.reconcile(KEY)
    controller.reconcile(KEY)
    first = _taskrun(cluster, "first")
    assert first is not None
    cluster.delete(TEKTON, "TaskRun", first["metadata"]["name"], NS)
    assert _taskrun(cluster, "first") is None
    controller.reconcile(KEY)
    again = _taskrun(cluster, "first")
    assert again is not None and again["metadata"]["uid"] != first["metadata"]["uid"]
    assert decisions[0] == 2  # the start, then the deletion (not the reconcile between them)


def test_the_pipeline_timeout_is_decided_on_without_a_change(monkeypatch: pytest.MonkeyPatch) -> None:
    decisions = _count_decisions(monkeypatch)
    cluster, clock, controller = _setup()
    controller.reconcile(KEY)
    controller.reconcile(KEY)
    clock.advance(3601)
    controller.reconcile(KEY)
    run = cluster.get(TEKTON, "PipelineRun", "run", NS)
    assert run["status"]["conditions"][0]["reason"] == "PipelineRunTimeout"
    assert decisions[0] == 2  # the start, then the timeout (not the reconcile between them)


def test_a_finished_run_leaves_no_decision_behind() -> None:
    cluster, _clock, controller = _setup()
    controller.reconcile(KEY)
    for task in ("first", "second"):
        taskrun = _taskrun(cluster, task)
        assert taskrun is not None
        _status(cluster, taskrun, "True", "Succeeded")
        controller.reconcile(KEY)
    assert controller._decided
    controller.reconcile(KEY)
    assert not controller._decided


# -- Tekton substitution ------------------------------------------------------------------------


def test_a_param_is_kept_under_one_key_and_found_under_every_spelling() -> None:
    repl = params_module.param_values([{"name": "s"}, {"name": "xs", "type": "array"}],
                                      [{"name": "s", "value": "v"}, {"name": "xs", "value": ["a", "b"]}])
    assert repl.strings == {"params.s": "v"} and repl.arrays == {"params.xs": ["a", "b"]}
    assert params_module.substitute_list(['$(params["s"])', "$(params['xs'][*])", '$(params["xs"][1])'], repl) \
        == ["v", "a", "b", "b"]


def test_a_value_that_is_one_variable_is_substituted_without_a_regular_expression(
        monkeypatch: pytest.MonkeyPatch) -> None:
    repl = params_module.param_values([{"name": "s"}], [{"name": "s", "value": "v"}])

    class Refused:
        def sub(self, *_args: Any) -> str:
            raise AssertionError("the regular expression ran")

    monkeypatch.setattr(params_module, "_VARIABLE", Refused())
    assert params_module.substitute("$(params.s)", repl) == "v"
    assert params_module.substitute("$(params.unknown)", repl) == "$(params.unknown)"


# -- the simulated kubelet of Jobs ------------------------------------------------------------------


def test_pods_started_in_the_same_second_share_their_running_status() -> None:
    sim = Simulation()
    for name in ("a", "b"):
        sim.cluster.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": NS},
                            "spec": {"backoffLimit": 0, "template": {"spec": {
                                "restartPolicy": "Never", "containers": [{"name": "action", "image": "busybox"}]}}}})
    sim.manager.run_until_idle()  # both started, at the same virtual second, none finished yet
    pods = []
    for name in ("a", "b"):
        job = sim.cluster.get("batch/v1", "Job", name, NS)
        pod = sim.jobs._reads.peek("v1", "Pod", pod_name(name, job["metadata"]["uid"]), NS)
        assert pod is not None and pod["status"]["phase"] == "Running"
        pods.append(pod["status"])
    # One frozen body part, shared by the API server without a walk, not a copy per pod.
    assert pods[0]["conditions"] is pods[1]["conditions"]
    assert pods[0]["containerStatuses"] is pods[1]["containerStatuses"]
    assert [c["type"] for c in pods[0]["conditions"]] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    assert pods[0]["containerStatuses"][0]["state"] == {"running": {"startedAt": pods[0]["startTime"]}}


def _watched_run() -> tuple[Simulation, Any]:
    """The hand-made run under a Manager: only the PipelineRun controller, fed by its informers."""
    sim = Simulation()
    prs = tekton_simulators(sim.controllers_cluster, sim.clock).pipelineruns
    controller = sim.manager.add(prs.controller())
    for obj in _objects():
        sim.cluster.create(obj)
    sim.manager.run_until_idle()
    return sim, controller


def test_a_taskrun_event_that_changes_no_decision_does_not_wake_its_run() -> None:
    sim, controller = _watched_run()
    first = _taskrun(sim.cluster, "first")
    assert first is not None
    woken = controller.stats.reconciles
    _relabel(sim.cluster, first)
    _status(sim.cluster, first, "Unknown", "Running")
    sim.manager.run_until_idle()
    assert controller.stats.reconciles == woken
    # A deleted TaskRun wakes its run, which creates it again.
    sim.cluster.delete(TEKTON, "TaskRun", first["metadata"]["name"], NS)
    sim.manager.run_until_idle()
    assert controller.stats.reconciles > woken
    again = _taskrun(sim.cluster, "first")
    assert again is not None and again["metadata"]["uid"] != first["metadata"]["uid"]
    # A finished one wakes it too: the next task starts.
    woken = controller.stats.reconciles
    _status(sim.cluster, again, "True", "Succeeded")
    sim.manager.run_until_idle()
    assert controller.stats.reconciles > woken
    assert _taskrun(sim.cluster, "second") is not None


def test_the_runs_own_write_does_not_wake_it_again() -> None:
    sim, controller = _watched_run()
    first = _taskrun(sim.cluster, "first")
    assert first is not None
    _status(sim.cluster, first, "True", "Succeeded")
    woken = controller.stats.reconciles
    sim.manager.run_until_idle()
    # One reconcile: it creates the second TaskRun and writes the status; the events of both
    # bring nothing new to decide on, so neither queues the run again.
    assert controller.stats.reconciles == woken + 1
    assert _taskrun(sim.cluster, "second") is not None
    run = sim.cluster.get(TEKTON, "PipelineRun", "run", NS)
    assert [r["pipelineTaskName"] for r in run["status"]["childReferences"]] == ["first", "second"]
    # Someone else's change of the run (a label) wakes it.
    run["metadata"]["labels"]["team"] = "x"
    sim.cluster.update(run)
    sim.manager.run_until_idle()
    assert controller.stats.reconciles == woken + 2


def test_a_change_made_while_the_run_was_decided_on_is_decided_on(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster, _clock, controller = _setup()
    controller.reconcile(KEY)
    controller.reconcile(KEY)
    first = _taskrun(cluster, "first")
    assert first is not None
    write = controller._api.patch_status

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        # Another thread cancels the run gracefully between this reconcile's read and its write.
        run = cluster.get(TEKTON, "PipelineRun", "run", NS)
        cluster.update({**run, "spec": {**run["spec"], "status": "CancelledRunFinally"}})
        monkeypatch.setattr(controller._api, "patch_status", write)
        return write(*args, **kwargs)

    monkeypatch.setattr(controller._api, "patch_status", meanwhile)
    _status(cluster, first, "True", "Succeeded")
    controller.reconcile(KEY)  # creates the second TaskRun, writes its status onto the changed run
    second = _taskrun(cluster, "second")
    assert second is not None and "status" not in second["spec"]
    controller.reconcile(KEY)  # woken by the cancellation: decides on it
    second = _taskrun(cluster, "second")
    assert second is not None and second["spec"]["status"] == "TaskRunCancelled"
    run = cluster.get(TEKTON, "PipelineRun", "run", NS)
    assert run["status"]["conditions"][0]["reason"] == "CancelledRunningFinally"


# -- the simulated TaskRun controller -----------------------------------------------------------------


def _standalone_taskrun(**spec: Any) -> dict[str, Any]:
    # Its one step is not the meta-Task's: the simulated pod fails it at once (duration 0).
    return {"apiVersion": TEKTON, "kind": "TaskRun", "metadata": {"name": "tr", "namespace": NS},
            "spec": {"taskSpec": {"steps": [{"name": "other", "image": "busybox"}]}, **spec}}


def test_a_taskruns_own_writes_do_not_wake_it_again() -> None:
    sim = Simulation()
    taskruns = tekton_simulators(sim.controllers_cluster, sim.clock).taskruns
    controller = sim.manager.add(taskruns.controller())
    sim.cluster.create(_standalone_taskrun())
    sim.manager.run_until_idle()
    tr = sim.cluster.get(TEKTON, "TaskRun", "tr", NS)
    assert tr["status"]["conditions"][0]["status"] == "False"
    # Started, then finished on its timer: two reconciles, none for the events of its writes.
    assert controller.stats.reconciles == 2
    assert taskruns._runs == {} and len(taskruns._own) == 0


def test_someone_elses_change_of_a_taskrun_wakes_it() -> None:
    sim = Simulation()
    taskruns = tekton_simulators(sim.controllers_cluster, sim.clock).taskruns
    controller = sim.manager.add(taskruns.controller())
    sim.cluster.create(_standalone_taskrun(status="TaskRunPending"))
    sim.manager.run_until_idle()
    tr = sim.cluster.get(TEKTON, "TaskRun", "tr", NS)
    assert tr["status"]["conditions"][0]["reason"] == "TaskRunPending"
    assert controller.stats.reconciles == 1
    del tr["spec"]["status"]
    sim.cluster.update(tr)
    sim.manager.run_until_idle()
    tr = sim.cluster.get(TEKTON, "TaskRun", "tr", NS)
    assert tr["status"]["conditions"][0]["status"] == "False" and tr["status"]["startTime"]


def test_a_jobs_own_writes_do_not_wake_it_again() -> None:
    sim = Simulation()
    controller = next(c for c in sim.manager.controllers if c.name == sim.jobs.name)
    sim.cluster.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "a", "namespace": NS},
                        "spec": {"backoffLimit": 1, "template": {"spec": {
                            "restartPolicy": "Never", "containers": [{"name": "action", "image": "busybox"}]}}}})
    sim.manager.run_until_idle()
    job = sim.cluster.get("batch/v1", "Job", "a", NS)
    assert job["status"]["active"] == 1
    # Woken by the Job's creation only: its pod's creation, start and its own status write
    # (the events of its writes) do not queue it again.
    assert controller.stats.reconciles == 1
    # Someone else's change does: the pod deleted (evicted, say) is replaced.
    pod = sim.cluster.get("v1", "Pod", pod_name("a", job["metadata"]["uid"]), NS)
    sim.cluster.delete("v1", "Pod", pod["metadata"]["name"], NS)
    sim.manager.run_until_idle()
    assert controller.stats.reconciles >= 2
    again = sim.cluster.get("v1", "Pod", pod["metadata"]["name"], NS)
    assert again["metadata"]["uid"] != pod["metadata"]["uid"]


def test_own_writes_are_dropped_once_and_forgotten_with_their_object() -> None:
    own = OwnWrites()
    version = {"metadata": {"uid": "u", "resourceVersion": "7"}}
    own.made(version)
    own.made({"metadata": {"uid": "u", "resourceVersion": "9"}})
    assert not own.arrived({"metadata": {"uid": "u", "resourceVersion": "8"}})  # someone else's
    assert own.arrived(version) and not own.arrived(version)  # each version's event once
    own.forget("u")  # the object is done with: version 9's event never came
    assert len(own) == 0
