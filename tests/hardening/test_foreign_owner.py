"""Issue #15, item 4 (second half): an object that already exists under the name a step's object
must have, and belongs to someone else, fails the step at once with ``NameConflict`` and a reason
naming the owner — instead of the step following someone else's work or sitting Pending until the
workflow's timeout."""

from __future__ import annotations

from typing import Any

from refusal_harness import RefusingHarness
from support.workflows import step, workflow

from reconciler.clock import parse_rfc3339
from reconciler.engines.jobs.names import action_execution_name, job_name, workspace_claim_name

AE_API = "actionexecution.kubernaut.ai/v1alpha1"


def _squatter(api_version: str, kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """An object made by hand (or by another tool), owned by nobody."""
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": "default"}, "spec": spec}


def _assert_name_conflict(h: RefusingHarness, wf: str, step_name: str, taken: str) -> None:
    status = h.status(wf)
    assert status["phase"] == "Failed"
    failed = h.step(wf, step_name)
    assert failed["phase"] == "Failed"
    assert failed["failure"]["reason"] == "NameConflict"
    assert taken in failed["message"] and "already exists and belongs to nobody" in failed["message"]
    assert status["failureDetails"]["reason"] == "NameConflict"
    # At once, not at a timeout (virtual time: the steps' timeout is 10 minutes).
    took = parse_rfc3339(status["completionTime"]) - parse_rfc3339(status["startTime"])
    assert took.total_seconds() < 60, took
    assert h.events("NameConflict")


def test_v1_an_action_execution_of_someone_else_fails_the_step() -> None:
    h = RefusingHarness()
    taken = action_execution_name("web", "fix")
    h.create(_squatter(AE_API, "ActionExecution", taken, {
        "workflowName": "other", "step": "fix", "actionType": "kubernaut/echo", "image": "x@sha256:" + "0" * 64}))
    h.create(workflow("web", step("fix"), spec="engine: jobs"))
    assert h.run()
    _assert_name_conflict(h, "web", "fix", taken)


def test_v1_a_job_of_someone_else_fails_the_step() -> None:
    h = RefusingHarness()
    taken = job_name(action_execution_name("web", "fix"), 1)
    h.create(_squatter("batch/v1", "Job", taken, {"template": {"spec": {"restartPolicy": "Never", "containers": [
        {"name": "c", "image": "busybox"}]}}}))
    h.create(workflow("web", step("fix"), spec="engine: jobs"))
    assert h.run()
    _assert_name_conflict(h, "web", "fix", taken)


def test_v2_a_pipelinerun_of_someone_else_fails_the_workflow() -> None:
    h = RefusingHarness()
    h.create(_squatter("tekton.dev/v1", "PipelineRun", "web", {"pipelineRef": {"name": "nothing"}}))
    h.create(workflow("web", step("fix"), spec="engine: tekton"))
    assert h.run()
    _assert_name_conflict(h, "web", "fix", "PipelineRun default/web")


def test_v2_a_taskrun_of_someone_else_under_the_runs_child_name_fails_the_step() -> None:
    # Tekton names TaskRuns <run>-<task>: run "web" task "fix" and run "web-fix"'s... any object
    # named "web-fix" meets it. Following it would report someone else's work.
    h = RefusingHarness()
    h.create(_squatter("tekton.dev/v1", "TaskRun", "web-fix", {"taskRef": {"name": "theirs"},
                                                              "status": "TaskRunCancelled"}))
    h.create(workflow("web", step("fix"), spec="engine: tekton"))
    assert h.run()
    _assert_name_conflict(h, "web", "fix", "TaskRun default/web-fix")


def test_v1_a_claim_of_someone_else_under_the_workspace_name_is_left_alone_and_fails_the_step() -> None:
    h = RefusingHarness()
    taken = workspace_claim_name("web")
    h.create(_squatter("v1", "PersistentVolumeClaim", taken, {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}))
    h.create(workflow("web", step("fix", usesWorkspace=True), spec="engine: jobs"))
    assert h.run()
    _assert_name_conflict(h, "web", "fix", f"PersistentVolumeClaim default/{taken}")
    claim = h.cluster.get("v1", "PersistentVolumeClaim", taken, "default")
    assert "ownerReferences" not in claim["metadata"]  # never taken over
    assert claim["spec"]["resources"]["requests"]["storage"] == "5Gi"
