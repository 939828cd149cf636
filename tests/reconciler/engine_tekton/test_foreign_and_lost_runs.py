"""Runs kubernaut does not own, and runs that disappear: never adopted, never re-created."""

from __future__ import annotations

from tekton_engine_harness import NS, TEKTON, Harness, outcomes, thing, workflow

FOREIGN = {"apiVersion": TEKTON, "kind": "PipelineRun",
           "metadata": {"name": "taken", "namespace": NS, "labels": {"app.kubernetes.io/managed-by": "someone"}},
           "spec": {"pipelineRef": {"name": "theirs"}, "status": "PipelineRunPending"}}


def test_someone_elses_pipelinerun_is_left_alone_and_the_workflow_fails_at_once() -> None:
    # Waiting would never end and following it would report someone else's work (issue #15).
    h = Harness()
    h.cluster.create(FOREIGN)
    h.create(workflow("taken", thing("a")))
    assert h.run(max_seconds=120)
    status = h.status("taken")
    assert status["phase"] == "Failed"
    assert h.steps("taken") == {"a": ("Failed", 0)}
    assert status["failureDetails"]["reason"] == "NameConflict"
    assert "PipelineRun default/taken already exists and belongs to nobody" in status["message"]
    pr = h.pipelinerun("taken")
    assert pr["spec"]["pipelineRef"] == {"name": "theirs"} and "ownerReferences" not in pr["metadata"]
    assert pr["spec"]["status"] == "PipelineRunPending"  # never touched


def test_a_pipelinerun_deleted_under_a_running_workflow_fails_it() -> None:
    h = Harness(outcomes=outcomes("steps: {long: [{duration: 10m}]}"))
    h.create(workflow("lost", thing("first") + thing("long", after=["first"])))
    assert h.run_until(lambda: h.steps("lost").get("long") == ("Running", 1))
    h.cluster.delete(TEKTON, "PipelineRun", "lost", NS)
    assert h.run(max_seconds=600)
    status = h.status("lost")
    assert (status["phase"], status["message"]) == ("Failed", "PipelineRun default/lost was deleted while the "
                                                              "workflow ran")
    assert h.steps("lost") == {"first": ("Succeeded", 1), "long": ("Cancelled", 1)}
    assert not h.objects("PipelineRun")  # not re-created: that would run `first` again
