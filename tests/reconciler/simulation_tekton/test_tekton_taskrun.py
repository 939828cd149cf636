"""The TaskRun simulator's own behaviour: restarts, real time, pending and standalone runs, and
why the tekton target hides every ``$`` (the kubelet would expand it)."""

from __future__ import annotations

from typing import Any

from tekton_sim_helpers import NS, TEKTON, condition, echo_step, lower, reason

from reconciler.clock import RealClock
from reconciler.runtime import Manager
from reconciler.simulation.tekton import run_finished, tekton_controllers


def test_a_restarted_simulation_finishes_running_attempts_on_time(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a", "{n: 1}") + echo_step("b", '{m: "$(steps.a.outputs.n)"}')),
                     "steps: {a: [{outputs: {n: 1}, duration: 10s}]}")
    run.create()
    assert run.sim.run_until(lambda: reason(run.taskruns().get("a", {})) == "Running", 60)
    run.sim.clock.advance(4)
    # A new controller process: nothing in memory, everything read back from the cluster.
    manager = Manager(run.sim.cluster, run.sim.clock)
    for controller in tekton_controllers(run.sim.cluster, run.sim.clock, outcomes=run.sim.jobs.outcomes,
                                         entrypoints=run.sim.jobs.entrypoints):
        manager.add(controller)
    assert manager.run_until(lambda: run_finished(run.pr()), max_virtual_seconds=3600)
    assert run.taskrun("a")["status"]["completionTime"] == "2026-01-01T00:00:10Z"
    assert run.outputs("b") == {"m": 1}
    assert len(run.sim.cluster.list(TEKTON, "TaskRun", NS).items) == 2  # no duplicates


def test_real_time_runs_wait_for_real(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a") + echo_step("b", "{}", "runAfter: [a]")),
                     "steps: {a: [{duration: 0.05}], b: [{duration: 0.05}]}", realtime=True)
    assert isinstance(run.sim.clock, RealClock)
    run.create()
    pr = run.run(max_seconds=30)
    assert condition(pr)[:2] == ("True", "Succeeded")


def test_a_dollar_that_reaches_the_kubelet_is_expanded(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a", '{t: "x"}')))
    pipeline = next(o for o in run.objects if o["kind"] == "Pipeline")
    for param in pipeline["spec"]["tasks"][0]["params"]:
        if param["name"] == "inputs":
            param["value"] = '{"t":"a$$b"}'  # not hidden as \u0024: what the target must never emit
    run.create()
    run.run()
    assert run.outputs("a") == {"t": "a$b"}  # the kubelet ate a `$`


def test_a_standalone_taskrun_without_its_task_fails_resolution(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a")))
    run.sim.cluster.create({"apiVersion": TEKTON, "kind": "TaskRun", "metadata": {"name": "lone", "namespace": NS},
                            "spec": {"taskRef": {"name": "missing"}}})
    assert run.sim.run_until(lambda: run_finished(run.sim.cluster.get(TEKTON, "TaskRun", "lone", NS)), 60)
    tr = run.sim.cluster.get(TEKTON, "TaskRun", "lone", NS)
    assert condition(tr)[:2] == ("False", "TaskRunResolutionFailed")
    assert 'tasks.tekton.dev "missing" not found' in condition(tr)[2]


def test_a_pending_taskrun_waits(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a", "{}", "retries: 2")), "steps: {a: [{result: failed, duration: 5s}]}")
    task = next(o for o in run.objects if o["kind"] == "Task")
    run.sim.cluster.create(task)
    run.sim.cluster.create({"apiVersion": TEKTON, "kind": "TaskRun", "metadata": {"name": "p", "namespace": NS},
                            "spec": {"taskRef": {"name": task["metadata"]["name"]}, "status": "TaskRunPending",
                                     "params": []}})
    assert run.sim.run_until(lambda: reason(run.sim.cluster.get(TEKTON, "TaskRun", "p", NS)) == "TaskRunPending", 60)
    tr = run.sim.cluster.get(TEKTON, "TaskRun", "p", NS)
    assert condition(tr) == ("Unknown", "TaskRunPending", 'TaskRun "p" is pending')


def test_cancelling_while_waiting_to_retry_keeps_the_previous_status(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a", "{}", "retries: 2")), "steps: {a: [{result: failed, duration: 5s}]}")
    run.create()

    def to_be_retried() -> bool:
        tr = run.taskruns().get("a", {})
        return reason(tr) == "ToBeRetried"

    assert run.sim.run_until(to_be_retried, 60)
    tr = run.taskrun("a")
    tr["spec"]["status"] = "TaskRunCancelled"
    run.sim.cluster.update(tr)
    assert run.sim.run_until(lambda: run_finished(run.taskrun("a")), 60)
    status, why, message = condition(run.taskrun("a"))
    assert (status, why) == ("False", "TaskRunCancelled")
    assert message == ('TaskRun "wf-a" was cancelled. \nPrevious status: [ToBeRetried] '
                       '"step-execute" exited with code 1')
    pr = run.run()
    assert condition(pr) == ("False", "Cancelled", "Tasks Completed: 1 (Failed: 0, Cancelled 1), Skipped: 0")
