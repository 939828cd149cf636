"""Issue 5 acceptance (6): the per-attempt timeout (the Job's deadline, and the controller's own
check when a Job outlives it) and the workflow timeout."""

from __future__ import annotations

from jobs_engine_harness import Harness, echo_step, outcomes, workflow

from reconciler.clock import parse_rfc3339
from reconciler.status import NOT_RUN_WORKFLOW_FAILED


def thing(name: str, **fields: object) -> str:
    return echo_step(name, action_type="custom/thing", **fields)  # type: ignore[arg-type]


def test_a_job_past_its_deadline_fails_the_attempt_and_is_retried() -> None:
    h = Harness(outcomes=outcomes("""
        steps:
          slow: [{duration: 1h}, {duration: 1h}]
    """))
    h.create(workflow("deadline", thing("slow", timeout="5s", retries=1) + thing("next", after=["slow"])))
    assert h.run()
    status = h.status("deadline")
    assert (status["phase"], status["message"]) == ("Failed", "attempt 2 timed out after 5s")
    assert h.steps("deadline") == {"slow": ("Failed", 2), "next": ("Skipped", 0)}
    (ae,) = [a for a in h.objects("ActionExecution") if a["spec"]["step"] == "slow"]
    assert [e["message"] for e in ae["status"]["attemptHistory"]] == ["attempt 1 timed out after 5s",
                                                                       "attempt 2 timed out after 5s"]
    for job in h.objects("Job", "deadline"):
        reasons = {c["reason"] for c in job["status"]["conditions"] if c["type"] == "Failed"}
        assert reasons == {"DeadlineExceeded"}
    # 5s, 1s backoff, 5s.
    assert (parse_rfc3339(status["completionTime"]) - parse_rfc3339(status["startTime"])).total_seconds() == 11


def test_the_controller_deletes_a_job_that_outlives_its_deadline() -> None:
    # No job controller at all: the Job never runs, never finishes. The ActionExecution
    # controller gives up timeout + grace (10s) after the attempt started.
    h = Harness(simulate_jobs=False)
    h.create(workflow("stuck", thing("s", timeout="5s", retries=1)))
    assert h.run()
    step = h.step("stuck", "s")
    assert (step["phase"], step["attempts"], step["message"]) == ("Failed", 2, "attempt 2 timed out after 5s")
    assert not h.objects("Job")  # both deleted
    jobs = [e for e in h.seen("Job")]
    assert [(e.type, e.name) for e in jobs if e.type != "MODIFIED"] == [
        ("ADDED", "stuck-s-1"), ("DELETED", "stuck-s-1"), ("ADDED", "stuck-s-2"), ("DELETED", "stuck-s-2")]
    # Each attempt's failure was recorded before its Job was deleted (a restart in between
    # must not take the deleted Job for an attempt never started).
    history = [e for e in h.seen("ActionExecution")]
    for attempt in (1, 2):
        recorded = min(e.rv for e in history if any(
            a["attempt"] == attempt and a["phase"] == "Failed" for a in (e.obj.get("status") or {}).get(
                "attemptHistory") or []))
        deleted = next(e.rv for e in jobs if e.type == "DELETED" and e.name == f"stuck-s-{attempt}")
        assert recorded < deleted
    # 15s (5s + grace), 1s backoff, 15s.
    status = h.status("stuck")
    assert (parse_rfc3339(status["completionTime"]) - parse_rfc3339(status["startTime"])).total_seconds() == 31


def test_the_workflow_timeout_stops_running_steps_and_fails_the_workflow() -> None:
    h = Harness(outcomes=outcomes("""
        steps:
          long: [{duration: 5m}]
          quick: [{duration: 1s}]
    """))
    h.create(workflow("wf-timeout", thing("quick") + thing("long", usesWorkspace=True) + thing("after", after=["long"]),
                      spec="timeout: 30s"))
    assert h.run()
    status = h.status("wf-timeout")
    assert (status["phase"], status["message"]) == ("Failed", "workflow timed out after 30s")
    assert h.steps("wf-timeout") == {"quick": ("Succeeded", 1), "long": ("Cancelled", 1), "after": ("Skipped", 0)}
    assert h.step("wf-timeout", "long")["message"] == "cancelled: workflow timed out after 30s"
    assert h.step("wf-timeout", "after")["message"] == NOT_RUN_WORKFLOW_FAILED
    assert (parse_rfc3339(status["completionTime"]) - parse_rfc3339(status["startTime"])).total_seconds() == 30
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conditions["Succeeded"] == ("False", "TimedOut")
    # The running Job was stopped and its ActionExecution says why; the workspace is gone.
    h.manager.run_until_idle()  # the ActionExecution controller finishes the cancellation
    assert [j["metadata"]["name"] for j in h.objects("Job")] == ["wf-timeout-quick-5bd906-1"]
    (ae,) = [a for a in h.objects("ActionExecution") if a["spec"]["step"] == "long"]
    assert ae["status"]["phase"] == "Cancelled"
    assert ae["status"]["attemptHistory"][-1]["phase"] == "Cancelled"
    assert not h.objects("PersistentVolumeClaim")
    assert ("Warning", "WorkflowFailed", "workflow timed out after 30s") in h.events("wf-timeout")
