"""``reconciler.engines.tekton.sync`` on hand-written Tekton objects: each mapping decision of
docs/engines.md, including the ones the simulation rarely produces."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tekton_engine_harness import step, thing, workflow

from compiler import ir
from compiler.contracts import load_catalog
from reconciler.compile import WorkflowCompiler
from reconciler.engines.tekton import Observed, failure_message, step_from_taskrun, step_statuses, workflow_outcome
from reconciler.status import NOT_RUN_CANCELLED, NOT_RUN_WORKFLOW_FAILED, StepPhase, StepStatus, WorkflowPhase


def compiled(doc: dict[str, Any]) -> ir.Workflow:
    wf = WorkflowCompiler(load_catalog()[0]).compile(doc).workflow
    assert wf is not None
    return wf


WF = compiled(workflow("wf", step("a", inputs={"x": "1"})
                       + step("b", inputs={"y": "$(steps.a.outputs.x)"}, retries=2, timeout="1m30s")
                       + step("c", inputs={"q": 1},
                              when=["$(steps.a.outputs.x) == '1'", "$(steps.a.outputs.x) notin ['1']"])
                       + step("d", after=["c"]) + step("e", inputs={"z": "$(steps.c.outputs.q)"})
                       + thing("f", after=["a"]), spec="timeout: 10m"))


def cond(status: str, reason: str, message: str = "") -> list[dict[str, str]]:
    return [{"type": "Succeeded", "status": status, "reason": reason, "message": message}]


def taskrun(status: dict[str, Any] | None = None, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": {"name": "wf-b", "creationTimestamp": "2026-01-01T00:00:00Z"},
                           "spec": {"timeout": "1m30s", **(spec or {})}}
    if status is not None:
        obj["status"] = status
    return obj


def b(tr: dict[str, Any], **kw: Any) -> StepStatus:
    return step_from_taskrun(WF.step("b"), tr, workflow_timeout=WF.timeout_seconds, **kw)


def test_a_taskrun_just_created_is_attempt_one_started_at_its_creation() -> None:
    # As V1 records attempt 1 before it creates the Job, and starts a step when its ActionExecution is created.
    assert b(taskrun()) == StepStatus("b", StepPhase.RUNNING, 1, "2026-01-01T00:00:00Z")


def test_a_taskrun_starting_maps_to_the_status_of_its_creation() -> None:
    # Tekton setting startTime, then the pod and its containers starting, change nothing a user
    # reads: the WorkflowExecution's status is not written again for them (issue 13's V2 budget).
    created = b(taskrun())
    started = b(taskrun({"startTime": "2026-01-01T00:00:02Z", "podName": "wf-b-pod",
                         "conditions": cond("Unknown", "Running"),
                         "steps": [{"name": "execute", "container": "step-execute", "running": {}}]}))
    assert started == created


def test_outputs_come_from_the_result_with_dollars_decoded() -> None:
    status = {"startTime": "2026-01-01T00:00:01Z", "completionTime": "2026-01-01T00:00:02Z",
              "conditions": cond("True", "Succeeded"),
              "results": [{"name": "outputs", "type": "string", "value": '{"p":"\\u0024(x) \\u0024\\u00245"}'},
                          {"name": "guardValues", "type": "array", "value": []}]}
    got = b(taskrun(status))
    assert (got.phase, got.attempts, got.outputs) == (StepPhase.SUCCEEDED, 1, {"p": "$(x) $$5"})
    assert (got.start_time, got.completion_time, got.message) == ("2026-01-01T00:00:00Z", "2026-01-01T00:00:02Z",
                                                                   None)


def test_attempts_and_start_come_from_retries_status() -> None:
    first = {"startTime": "2026-01-01T00:00:01Z", "conditions": cond("False", "TaskRunTimeout", "...")}
    second = {"startTime": "2026-01-01T00:01:40Z", "conditions": cond("False", "Failed"),
              "steps": [{"name": "resolve-inputs", "container": "step-resolve-inputs",
                         "terminated": {"exitCode": 0}},
                        {"name": "execute", "container": "step-execute", "terminated": {"exitCode": 7}},
                        {"name": "publish-outputs", "container": "step-publish-outputs",
                         "terminated": {"exitCode": 1}, "terminationReason": "Skipped"}]}
    running = {"startTime": "2026-01-01T00:02:00Z", "retriesStatus": [first, second],
               "conditions": cond("Unknown", "Running")}
    got = b(taskrun(running))
    # The step started when Tekton created its TaskRun (attempt 1 began then), not when attempt 3 did.
    assert (got.phase, got.attempts, got.start_time) == (StepPhase.RUNNING, 3, "2026-01-01T00:00:00Z")
    assert got.message == "the action exited with code 7"  # V1 shows the previous failure while retrying
    timed_out = b(taskrun({**first, "retriesStatus": [], "completionTime": "2026-01-01T00:01:31Z"}))
    assert (timed_out.phase, timed_out.message) == (StepPhase.FAILED, "attempt 1 timed out after 90s")


def test_a_helper_failure_reads_the_failure_result_from_the_termination_message() -> None:
    said = json.dumps([{"key": "failure", "value": "inputs.sha: step 'a' has no output 'sha'\n", "type": 1}])
    status = {"startTime": "t", "conditions": cond("False", "Failed", '"step-resolve-inputs" exited with code 1'),
              "steps": [{"name": "resolve-inputs", "container": "step-resolve-inputs",
                         "terminated": {"exitCode": 1, "message": said}},
                        {"name": "execute", "container": "step-execute", "terminated": {"exitCode": 1},
                         "terminationReason": "Skipped"}]}
    got = b(taskrun(status))
    assert got.message == "inputs.sha: step 'a' has no output 'sha'"
    assert got.failure is not None and got.failure.reason == "InvalidInputs" and not got.failure.retryable


def test_without_a_failure_result_the_helper_step_and_its_exit_code_are_named() -> None:
    status = {"startTime": "t", "conditions": cond("False", "Failed", '"step-resolve-inputs" exited with code 1'),
              "steps": [{"name": "resolve-inputs", "container": "step-resolve-inputs", "terminated": {"exitCode": 1}}]}
    assert b(taskrun(status)).message == "step resolve-inputs failed with exit code 1"


def test_an_action_failure_reads_its_last_lines_and_oom() -> None:
    said = json.dumps([{"key": "failure", "value": "a\nb\nerror: no route\n", "type": 1}])
    status = {"startTime": "t", "conditions": cond("False", "Failed", '"step-execute" exited with code 3'),
              "steps": [{"name": "execute", "container": "step-execute",
                         "terminated": {"exitCode": 3, "message": said}}]}
    got = b(taskrun(status))
    assert (got.message, got.failure and got.failure.exit_code) == ("a\nb\nerror: no route", 3)
    status["steps"][0]["terminated"] = {"exitCode": 137, "reason": "OOMKilled"}
    oom = b(taskrun(status)).failure
    assert oom is not None and (oom.reason, oom.exit_code) == ("OOMKilled", 137)


@pytest.mark.parametrize(("status_message", "message"), [
    ("TaskRun cancelled as the PipelineRun it belongs to has been cancelled.", "cancelled"),
    ("TaskRun cancelled as the PipelineRun it belongs to has timed out.", "cancelled: workflow timed out after 600s"),
])
def test_cancelled_taskruns(status_message: str, message: str) -> None:
    got = b(taskrun({"startTime": "t", "conditions": cond("False", "TaskRunCancelled", "...")},
                    {"status": "TaskRunCancelled", "statusMessage": status_message}))
    assert (got.phase, got.message) == (StepPhase.CANCELLED, message)


def test_an_unfinished_taskrun_of_a_finished_run_is_being_cancelled() -> None:
    got = b(taskrun({"startTime": "t", "conditions": cond("Unknown", "Running")}), run_done=True)
    assert (got.phase, got.message) == (StepPhase.CANCELLED, "cancelled")


def run(state: str, reason: str, skipped: list[dict[str, Any]], **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "wf", "uid": "u"}, "spec": {"timeouts": {"pipeline": "10m0s"}},
            "status": {"conditions": cond(state, reason), "skippedTasks": skipped, **status}}


def done(name: str) -> StepStatus:
    return StepStatus(name, StepPhase.SUCCEEDED, 1, "t0", "t1", {"x": "1"} if name == "a" else {})


def test_skipped_tasks_get_v1s_messages() -> None:
    when = [{"input": "1", "operator": "in", "values": ["1"]}, {"input": "1", "operator": "notin", "values": ["1"]}]
    pr = run("True", "Completed", [
        {"name": "c", "reason": "When Expressions evaluated to false", "whenExpressions": when},
        {"name": "e", "reason": "Results were missing"},
    ])
    steps = step_statuses(WF, Observed(pr, {}, {n: done(n) for n in ("a", "b", "d", "f")}))
    assert [(s.name, s.phase, s.message) for s in steps if s.phase is StepPhase.SKIPPED] == [
        ("c", StepPhase.SKIPPED, "when guard is false: $(steps.a.outputs.x) notin ['1']"),
        ("e", StepPhase.SKIPPED, "outputs of skipped step 'c' are missing"),
    ]
    assert workflow_outcome(WF, pr, steps) == (WorkflowPhase.SUCCEEDED, None)


def test_parent_skips_name_the_dependency_that_cascades() -> None:
    pr = run("True", "Completed", [
        {"name": "c", "reason": "PipelineRun timeout has been reached"},
        {"name": "d", "reason": "Parent Tasks were skipped"},
    ])
    steps = {s.name: s for s in step_statuses(WF, Observed(pr, {}, {"a": done("a")}))}
    assert (steps["c"].phase, steps["c"].message) == (StepPhase.SKIPPED, NOT_RUN_WORKFLOW_FAILED)
    assert steps["d"].message == "a step it depends on was skipped: c"


def test_stopping_skips_wait_until_nothing_runs() -> None:
    skipped = [{"name": n, "reason": "PipelineRun was stopping"} for n in ("c", "d", "e")]
    failed_a = StepStatus("a", StepPhase.FAILED, 1, "t0", "t1", None, "boom")
    running_f = taskrun({"startTime": "t", "conditions": cond("Unknown", "Running")})
    pr = run("Unknown", "PipelineRunStopping", skipped)
    steps = {s.name: s for s in step_statuses(WF, Observed(pr, {"f": running_f}, {"a": failed_a}))}
    assert {n: steps[n].phase for n in "cdef"} == {"c": StepPhase.PENDING, "d": StepPhase.PENDING,
                                                  "e": StepPhase.PENDING, "f": StepPhase.RUNNING}
    assert steps["b"].phase is StepPhase.PENDING  # not listed yet
    assert workflow_outcome(WF, pr, list(steps.values()))[0] is WorkflowPhase.RUNNING
    finished = run("False", "Failed", skipped)
    steps = {s.name: s for s in step_statuses(WF, Observed(finished, {}, {"a": failed_a, "f": done("f")}))}
    assert {n: (steps[n].phase, steps[n].message) for n in "bcde"} == {
        n: (StepPhase.SKIPPED, NOT_RUN_WORKFLOW_FAILED) for n in "bcde"}
    assert workflow_outcome(WF, finished, list(steps.values())) == (WorkflowPhase.FAILED, "boom")


def test_graceful_stops_and_unknown_reasons() -> None:
    pr = run("Unknown", "CancelledRunningFinally", [
        {"name": "c", "reason": "PipelineRun was gracefully cancelled"},
        {"name": "d", "reason": "Some future reason"},
    ])
    steps = {s.name: s for s in step_statuses(WF, Observed(pr, {}, {"a": done("a")}))}
    assert (steps["c"].phase, steps["c"].message) == (StepPhase.CANCELLED, NOT_RUN_CANCELLED)
    assert (steps["d"].phase, steps["d"].message) == (StepPhase.SKIPPED, "Some future reason")


def test_a_run_that_failed_on_its_own_names_tektons_reason() -> None:
    pr = run("False", "CouldntGetPipeline", [])
    pr["status"]["conditions"][0]["message"] = "Error retrieving pipeline for pipelinerun default/wf: not found"
    steps = step_statuses(WF, Observed(pr))
    assert all((s.phase, s.message) == (StepPhase.SKIPPED, NOT_RUN_WORKFLOW_FAILED) for s in steps)
    assert workflow_outcome(WF, pr, steps) == (
        WorkflowPhase.FAILED, "Error retrieving pipeline for pipelinerun default/wf: not found")
    assert workflow_outcome(WF, None, steps) == (WorkflowPhase.RUNNING, None)


def test_the_earliest_failure_names_the_cause() -> None:
    steps = [StepStatus("a", StepPhase.FAILED, 1, "t", "2026-01-01T00:00:09Z", None, "late"),
             StepStatus("b", StepPhase.CANCELLED, 1, "t", "2026-01-01T00:00:05Z", None, None),
             StepStatus("c", StepPhase.SUCCEEDED, 1, "t", "2026-01-01T00:00:01Z")]
    assert failure_message(steps) == "step 'b' cancelled"
    assert failure_message(steps[2:]) is None
