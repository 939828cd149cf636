"""Issue 5 acceptance (8): cancelling a running workflow with `spec.cancel: true`, and deleting it."""

from __future__ import annotations

import copy

from jobs_engine_harness import WFE_API_VERSION, WFE_KIND, Harness, echo_step, outcomes, workflow

from reconciler.status import NOT_RUN_CANCELLED
from reconciler.workflow_controller import FINALIZER


def thing(name: str, **fields: object) -> str:
    return echo_step(name, action_type="custom/thing", **fields)  # type: ignore[arg-type]


SLOW = outcomes("""
    steps:
      first: [{duration: 2s}]
      long: [{duration: 10m}]
""")
STEPS = thing("first") + thing("long", after=["first"], usesWorkspace=True) + thing("last", after=["long"])


def _running_long(h: Harness) -> None:
    h.create(workflow("cancel-me", STEPS))
    assert h.manager.run_until(lambda: any(j["metadata"]["name"] == "cancel-me-long-046ad6-1" and
                                           (j.get("status") or {}).get("active") for j in h.objects("Job")))


def test_spec_cancel_stops_the_running_step_and_nothing_else_starts() -> None:
    h = Harness(outcomes=SLOW)
    _running_long(h)
    wfe = copy.deepcopy(h.wfe("cancel-me"))
    wfe["spec"]["cancel"] = True
    h.cluster.update(wfe)
    cancel_rv = int(h.cluster.resource_version)
    assert h.run()
    h.manager.run_until_idle()
    status = h.status("cancel-me")
    assert (status["phase"], status["message"]) == ("Cancelled", "cancelled: spec.cancel is true")
    assert h.steps("cancel-me") == {"first": ("Succeeded", 1), "long": ("Cancelled", 1), "last": ("Cancelled", 0)}
    assert h.step("cancel-me", "long")["message"] == "cancelled"
    assert h.step("cancel-me", "last")["message"] == NOT_RUN_CANCELLED
    # The running Job was deleted, its ActionExecution records the cancelled attempt, and no Job
    # or ActionExecution appeared after the cancel request.
    assert [j["metadata"]["name"] for j in h.objects("Job")] == ["cancel-me-first-a8e54a-1"]
    (long_ae,) = [a for a in h.objects("ActionExecution") if a["spec"]["step"] == "long"]
    assert long_ae["spec"]["cancel"] is True
    assert long_ae["status"]["phase"] == "Cancelled"
    assert long_ae["status"]["attemptHistory"][-1]["phase"] == "Cancelled"
    assert all(e.rv < cancel_rv for e in h.seen("Job") if e.type == "ADDED")
    assert all(e.rv < cancel_rv for e in h.seen("ActionExecution") if e.type == "ADDED")
    # Cleanup: the workspace is gone, the finalizer too; the WorkflowExecution stays as a record.
    assert not h.objects("PersistentVolumeClaim")
    assert FINALIZER not in (h.wfe("cancel-me")["metadata"].get("finalizers") or [])
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conditions["Succeeded"] == ("False", "Cancelled")
    assert ("Normal", "WorkflowCancelled", "cancelled: spec.cancel is true") in h.events("cancel-me")
    assert status["completionTime"] == "2026-01-01T00:00:02Z"


def test_deleting_a_running_workflow_cancels_it_then_lets_it_go() -> None:
    h = Harness(outcomes=SLOW)
    _running_long(h)
    h.cluster.delete(WFE_API_VERSION, WFE_KIND, "cancel-me", "default")
    # The finalizer holds the object until kubernaut has stopped and cleaned up.
    assert h.wfe("cancel-me")["metadata"].get("deletionTimestamp")
    assert h.manager.run_until(lambda: not h.cluster.objects(WFE_KIND))
    h.manager.run_until_idle()
    history = [e for e in h.seen("WorkflowExecution") if e.name == "cancel-me"]
    assert history[-1].type == "DELETED"
    last_status = history[-1].obj["status"]
    assert (last_status["phase"], last_status["message"]) == (
        "Cancelled", "cancelled: the WorkflowExecution is being deleted")
    # Garbage collection took everything the workflow owned.
    assert not h.objects("ActionExecution") and not h.objects("Job") and not h.objects("Pod")
    assert not h.objects("PersistentVolumeClaim")
    claim = [e for e in h.seen("PersistentVolumeClaim") if e.type == "DELETED"]
    assert len(claim) == 1


def test_cancelling_a_finished_workflow_changes_nothing() -> None:
    h = Harness()
    h.create(workflow("done", thing("only")))
    assert h.run()
    before = h.status("done")
    wfe = copy.deepcopy(h.wfe("done"))
    wfe["spec"]["cancel"] = True
    h.cluster.update(wfe)
    h.manager.run_until_idle()
    assert h.status("done") == before
    assert before["phase"] == "Succeeded"


def test_cancelling_before_the_first_reconcile() -> None:
    h = Harness()
    doc = workflow("early", thing("only"))
    doc["spec"]["cancel"] = True
    h.create(doc)
    assert h.run()
    assert h.status("early")["phase"] == "Cancelled"
    assert not h.objects("ActionExecution") and not h.objects("Job")


def test_deleting_a_finished_workflow_is_immediate() -> None:
    h = Harness()
    h.create(workflow("gone", thing("only", usesWorkspace=True)))
    assert h.run()
    h.cluster.delete(WFE_API_VERSION, WFE_KIND, "gone", "default")
    assert not h.cluster.objects(WFE_KIND)  # no finalizer left to wait for
