"""Cancelling a V2 workflow (``spec.cancel: true`` or deletion) cancels its PipelineRun, and Tekton
cancels the TaskRuns; nothing new starts afterwards."""

from __future__ import annotations

from tekton_engine_harness import NS, Harness, condition, outcomes, thing, wfe_condition, workflow

from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND
from reconciler.status import NOT_RUN_CANCELLED
from reconciler.workflow_controller import FINALIZER

SLOW = outcomes("""
    steps:
      first: [{duration: 2s}]
      long: [{duration: 10m}]
""")
STEPS = thing("first") + thing("long", after=["first"], usesWorkspace=True) + thing("last", after=["long"])


def _running_long(h: Harness, name: str) -> None:
    h.create(workflow(name, STEPS))
    assert h.run_until(lambda: h.steps(name).get("long") == ("Running", 1))


def test_spec_cancel_cancels_the_pipelinerun_and_its_taskruns() -> None:
    h = Harness(outcomes=SLOW)
    _running_long(h, "cancel-me")
    h.cancel("cancel-me")
    cancel_rv = int(h.cluster.resource_version)
    assert h.run()
    h.manager.run_until_idle()
    status = h.status("cancel-me")
    assert (status["phase"], status["message"]) == ("Cancelled", "cancelled: spec.cancel is true")
    assert wfe_condition(status, "Succeeded")[:2] == ("False", "Cancelled")
    assert h.steps("cancel-me") == {"first": ("Succeeded", 1), "long": ("Cancelled", 1), "last": ("Cancelled", 0)}
    assert h.messages("cancel-me") == {"first": None, "long": "cancelled", "last": NOT_RUN_CANCELLED}
    pr = h.pipelinerun("cancel-me")
    assert pr["spec"]["status"] == "Cancelled"
    assert condition(pr)[1] == "Cancelled"
    taskruns = h.taskruns("cancel-me")
    assert sorted(taskruns) == ["first", "long"]  # `last` never got a TaskRun
    assert taskruns["long"]["spec"]["status"] == "TaskRunCancelled"
    assert condition(taskruns["long"])[1] == "TaskRunCancelled"
    assert all(s.rv < cancel_rv for s in h.seen("TaskRun") if s.type == "ADDED")
    # The only spec change kubernaut ever made to the run is the cancellation.
    specs = [s.obj["spec"] for s in h.seen("PipelineRun")]
    assert all({k: v for k, v in spec.items() if k != "status"} == {k: v for k, v in specs[0].items()}
               for spec in specs)
    assert FINALIZER not in (h.wfe("cancel-me")["metadata"].get("finalizers") or [])
    assert ("Normal", "WorkflowCancelled", "cancelled: spec.cancel is true") in h.events("cancel-me")


def test_deleting_the_workflow_cancels_the_run_before_it_goes() -> None:
    h = Harness(outcomes=SLOW)
    _running_long(h, "delete-me")
    h.cluster.delete(WFE_API_VERSION, WFE_KIND, "delete-me", NS)
    assert h.run_until(lambda: not h.objects("WorkflowExecution"))
    h.manager.run_until_idle()
    history = h.seen()
    cancelled = next(s.rv for s in history if s.kind == "PipelineRun" and s.type == "MODIFIED"
                     and s.obj["spec"].get("status") == "Cancelled")
    finished = next(s.rv for s in history if s.kind == "PipelineRun" and s.obj.get("status")
                    and condition(s.obj)[1] == "Cancelled")
    gone = next(s.rv for s in history if s.kind == "PipelineRun" and s.type == "DELETED")
    assert cancelled < finished < gone  # the finalizer held the workflow until the run had stopped
    long_cancelled = [s for s in history if s.kind == "TaskRun" and s.name.endswith("-long")
                      and s.obj["spec"].get("status") == "TaskRunCancelled"]
    assert long_cancelled and long_cancelled[0].rv < gone
    last_state = next(s for s in history if s.kind == "WorkflowExecution" and s.type == "DELETED")
    assert last_state.obj["status"]["phase"] == "Cancelled"
    assert last_state.obj["status"]["message"] == "cancelled: the WorkflowExecution is being deleted"
    # Garbage collection took every per-workflow object; the shared meta-Task stays.
    assert not h.objects("PipelineRun") and not h.objects("TaskRun") and not h.objects("Pipeline")
    assert not h.objects("PersistentVolumeClaim")
    assert [t["metadata"]["name"] for t in h.objects("Task")] == ["kubernaut-action"]


def test_a_finished_workflow_is_not_touched_by_a_late_cancel() -> None:
    h = Harness()
    h.create(workflow("done", thing("a")))
    assert h.run()
    h.cancel("done")
    h.manager.run_until_idle()
    assert h.status("done")["phase"] == "Succeeded"
    assert "status" not in h.pipelinerun("done")["spec"]


def test_cleanup_gives_up_waiting_for_a_tekton_that_never_answers() -> None:
    # No Tekton controllers at all: the run is never started, never cancelled.
    h = Harness(simulate_tekton=False)
    h.create(workflow("orphan", thing("a")))
    assert h.run_until(lambda: bool(h.objects("PipelineRun")))
    h.cluster.delete(WFE_API_VERSION, WFE_KIND, "orphan", NS)
    assert h.run_until(lambda: not h.objects("WorkflowExecution"), max_seconds=600)
    assert not h.objects("PipelineRun")  # garbage-collected with the workflow
