"""Retries (attempts from ``retriesStatus``), failures, the per-attempt timeout (TaskRunTimeout)
and the workflow timeout (the controller's, also PipelineRunTimeout) on V2."""

from __future__ import annotations

import pytest
from tekton_engine_harness import Harness, condition, outcomes, thing, wfe_condition, workflow

from reconciler.clock import parse_rfc3339
from reconciler.status import NOT_RUN_WORKFLOW_FAILED


def test_a_retry_that_succeeds_counts_every_attempt() -> None:
    h = Harness(outcomes=outcomes("""
        steps:
          flaky:
            - {result: failed, message: "connection reset"}
            - {result: failed, exitCode: 3}
            - {result: succeeded, outputs: {sha: abc}, duration: 5s}
    """))
    h.create(workflow("retry", thing("flaky", retries=2) + thing("next", inputs={"sha": "$(steps.flaky.outputs.sha)"})))
    assert h.run()
    assert h.steps("retry") == {"flaky": ("Succeeded", 3), "next": ("Succeeded", 1)}
    flaky = h.step("retry", "flaky")
    assert (flaky["outputs"], flaky.get("message")) == ({"sha": "abc"}, None)
    taskrun = h.taskruns("retry")["flaky"]
    retries = taskrun["status"]["retriesStatus"]
    assert [condition({"status": r})[1] for r in retries] == ["Failed", "Failed"]
    # The step started with its first attempt and ended with its last.
    assert flaky["startTime"] == retries[0]["startTime"]
    assert flaky["completionTime"] == taskrun["status"]["completionTime"]


def test_while_retrying_the_step_shows_the_previous_failure() -> None:
    h = Harness(outcomes=outcomes("""
        steps:
          flaky: [{result: failed, exitCode: 4}, {result: succeeded, duration: 1m}]
    """))
    h.create(workflow("retrying", thing("flaky", retries=1)))
    assert h.run_until(lambda: h.steps("retrying").get("flaky") == ("Running", 2))
    assert h.step("retrying", "flaky")["message"] == "exit code 4"  # what it said on stderr
    assert h.run()
    assert h.steps("retrying") == {"flaky": ("Succeeded", 2)}


@pytest.mark.parametrize("failure_reason", ["Failed", "StepFailed"])
def test_exhausted_retries_fail_the_workflow_and_running_steps_finish(failure_reason: str) -> None:
    h = Harness(failure_reason=failure_reason, outcomes=outcomes("""
        steps:
          flaky: [{result: failed, message: "permission denied", exitCode: 2}]
          slow: [{duration: 1m}]
    """))
    h.create(workflow("exhausted", thing("flaky", retries=2) + thing("slow")
                      + thing("after-flaky", after=["flaky"]) + thing("after-slow", after=["slow"])))
    assert h.run()
    status = h.status("exhausted")
    assert h.steps("exhausted") == {"flaky": ("Failed", 3), "slow": ("Succeeded", 1),
                                    "after-flaky": ("Skipped", 0), "after-slow": ("Skipped", 0)}
    # The action's own words, from the `failure` result in the failed step's termination message.
    assert h.messages("exhausted") == {"flaky": "permission denied", "slow": None,
                                       "after-flaky": NOT_RUN_WORKFLOW_FAILED, "after-slow": NOT_RUN_WORKFLOW_FAILED}
    assert (status["phase"], status["message"]) == ("Failed", "permission denied")
    assert status["failureDetails"] == {"step": "flaky", "reason": "ActionFailed", "exitCode": 2,
                                        "message": "permission denied", "retryable": True}
    assert wfe_condition(status, "Succeeded") == ("False", "Failed", "permission denied")
    assert condition(h.pipelinerun("exhausted"))[:2] == ("False", "Failed")
    assert ("Warning", "StepFailed", "step 'flaky' failed: permission denied") in h.events("exhausted")


def test_a_failing_helper_step_reports_its_own_reason() -> None:
    h = Harness(outcomes=outcomes("""
        steps:
          big: [{outputs: {blob: "%s"}}]
    """ % ("x" * 5000)))
    h.create(workflow("helper", thing("big")))
    assert h.run()
    assert h.steps("helper") == {"big": ("Failed", 1)}
    message = "outputs exceed the 4096-byte termination-message limit (5011 bytes)"
    assert h.messages("helper")["big"] == message
    assert h.step("helper", "big")["failure"] == {"reason": "InvalidOutputs", "exitCode": 0, "message": message,
                                                  "retryable": True}


def test_the_per_attempt_timeout_fails_each_attempt_like_v1() -> None:
    h = Harness(outcomes=outcomes("""
        steps:
          slow: [{duration: 1h}]
    """))
    h.create(workflow("deadline", thing("slow", timeout="5s", retries=1) + thing("next", after=["slow"])))
    assert h.run()
    status = h.status("deadline")
    assert (status["phase"], status["message"]) == ("Failed", "attempt 2 timed out after 5s")
    assert h.steps("deadline") == {"slow": ("Failed", 2), "next": ("Skipped", 0)}
    taskrun = h.taskruns("deadline")["slow"]
    assert condition(taskrun)[1] == "TaskRunTimeout"
    assert condition({"status": taskrun["status"]["retriesStatus"][0]})[1] == "TaskRunTimeout"
    # 5s, an immediate retry (Tekton has no backoff), 5s.
    assert (parse_rfc3339(status["completionTime"]) - parse_rfc3339(status["startTime"])).total_seconds() == 10


def test_the_workflow_timeout_stops_the_run_with_v1s_status() -> None:
    h = Harness(outcomes=outcomes("""
        steps:
          long: [{duration: 1h}]
    """))
    h.create(workflow("late", thing("first") + thing("long", after=["first"]) + thing("last", after=["long"]),
                      spec="engine: tekton\ntimeout: 30s"))
    assert h.run()
    status = h.status("late")
    assert (status["phase"], status["message"]) == ("Failed", "workflow timed out after 30s")
    assert wfe_condition(status, "Succeeded") == ("False", "TimedOut", "workflow timed out after 30s")
    assert h.steps("late") == {"first": ("Succeeded", 1), "long": ("Cancelled", 1), "last": ("Skipped", 0)}
    assert h.messages("late") == {"first": None, "long": "cancelled: workflow timed out after 30s",
                                  "last": NOT_RUN_WORKFLOW_FAILED}
    # Tekton stopped too: the run is over and the running TaskRun was cancelled.
    assert condition(h.pipelinerun("late"))[0] == "False"
    assert condition(h.taskruns("late")["long"])[1] == "TaskRunCancelled"
    assert (parse_rfc3339(status["completionTime"]) - parse_rfc3339(status["startTime"])).total_seconds() == 30


def test_a_pipelinerun_timeout_alone_is_reported_as_the_workflow_timeout() -> None:
    # Tekton's clock may run ahead of the controller's: the run times out first.
    from reconciler.engines.tekton import Observed, step_statuses, workflow_outcome
    from reconciler.status import WorkflowPhase
    h = Harness()
    wf = h.app.compiler.compile(workflow("x", thing("a"), spec="engine: tekton\ntimeout: 2m")).workflow
    assert wf is not None
    pr = {"spec": {"timeouts": {"pipeline": "2m0s"}}, "status": {"conditions": [
        {"type": "Succeeded", "status": "False", "reason": "PipelineRunTimeout", "message": "..."}]}}
    steps = step_statuses(wf, Observed(pr))
    assert workflow_outcome(wf, pr, steps) == (WorkflowPhase.FAILED, "workflow timed out after 120s")
    # When the controller enforces its own timeout it gets "still running" and writes V1's status.
    assert workflow_outcome(wf, pr, steps, stopping=True) == (WorkflowPhase.RUNNING, None)
