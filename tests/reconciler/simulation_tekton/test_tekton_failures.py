"""Failures as Tekton reports them: retries inside one TaskRun, exhausted retries stopping the
PipelineRun, per-attempt and pipeline timeouts, cancellation, missing Pipeline or Task, and the
meta-Task's own checks (outputs too large, missing outputs)."""

from __future__ import annotations

import sys
from typing import Any

from tekton_sim_helpers import NS, TEKTON, condition, echo_step, lower, reason

from reconciler.simulation.tekton import run_finished


def test_retries_happen_inside_the_taskrun_until_attempt_three_succeeds(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("flaky", "{}", "retries: 3") + echo_step("next", "{}", "runAfter: [flaky]")), """
        steps:
          flaky:
            - {result: failed, message: "connection reset", duration: 3s}
            - {result: failed, exitCode: 7, duration: 3s}
            - {result: succeeded, outputs: {sha: abc}, duration: 3s}
    """)
    run.create()
    pr = run.run()
    assert condition(pr)[:2] == ("True", "Succeeded")
    tr = run.taskrun("flaky")
    assert condition(tr) == ("True", "Succeeded", "All Steps have completed executing")
    retries = tr["status"]["retriesStatus"]
    assert [condition(r) for r in retries] == [
        ("False", "Failed", '"step-execute" exited with code 1'),
        ("False", "Failed", '"step-execute" exited with code 7'),
    ]
    assert [r["podName"] for r in retries] == ["wf-flaky-pod", "wf-flaky-pod-retry1"]
    assert tr["status"]["podName"] == "wf-flaky-pod-retry2"
    assert all("retriesStatus" not in r for r in retries)
    assert [r["startTime"] for r in retries] == ["2026-01-01T00:00:00Z", "2026-01-01T00:00:03Z"]
    assert tr["status"]["startTime"] == "2026-01-01T00:00:06Z"  # reset for every attempt
    assert run.outputs("flaky") == {"sha": "abc"}
    assert run.tekton.taskruns.step_logs(tr, attempt=1)["execute"] == "connection reset"
    assert run.taskrun("next")["status"]["startTime"] == "2026-01-01T00:00:09Z"


def test_exhausted_retries_fail_the_run_and_skip_what_did_not_start(tekton_run: Any) -> None:
    wf = lower(echo_step("breaks", "{}", "retries: 1")
               + echo_step("slow", "{}")
               + echo_step("after", "{}", "runAfter: [breaks]")
               + echo_step("after-slow", "{}", "runAfter: [slow]"))
    run = tekton_run(wf, """
        steps:
          breaks: [{result: failed, duration: 1s}]
          slow: [{duration: 10s}]
    """)
    run.create()
    assert run.sim.run_until(lambda: reason(run.pr()) == "PipelineRunStopping", 3600)
    # Stopping: the running task goes on; every task not started is skipped at once, even one
    # whose parent still runs.
    assert condition(run.pr()) == ("Unknown", "PipelineRunStopping",
                                   "Tasks Completed: 1 (Failed: 1, Cancelled 0), Incomplete: 1, Skipped: 2")
    pr = run.run()
    assert condition(pr) == ("False", "Failed", "Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 2")
    assert run.skipped() == {"after": "PipelineRun was stopping", "after-slow": "PipelineRun was stopping"}
    assert condition(run.taskrun("slow"))[:2] == ("True", "Succeeded")
    breaks = run.taskrun("breaks")
    assert len(breaks["status"]["retriesStatus"]) == 1
    assert condition(breaks) == ("False", "Failed", '"step-execute" exited with code 1')
    steps = {s["name"]: s for s in breaks["status"]["steps"]}
    assert steps["execute"]["terminated"]["exitCode"] == 1
    assert steps["publish-outputs"]["terminationReason"] == "Skipped"
    assert "results" not in breaks["status"]


def test_a_step_timeout_is_per_attempt_and_retried(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("hangs", "{}", "retries: 1\ntimeout: 2m")),
                     "steps: {hangs: [{duration: 5m}]}")
    run.create()
    pr = run.run()
    tr = run.taskrun("hangs")
    expected = ("False", "TaskRunTimeout", 'TaskRun "wf-hangs" failed to finish within "2m0s"')
    assert condition(tr) == expected
    assert [condition(r) for r in tr["status"]["retriesStatus"]] == [expected]
    assert tr["status"]["startTime"] == "2026-01-01T00:02:00Z"
    assert tr["status"]["completionTime"] == "2026-01-01T00:04:00Z"
    execute = next(s for s in tr["status"]["steps"] if s["name"] == "execute")
    assert execute["terminationReason"] == "TaskRunTimeout"
    assert execute["terminated"]["message"] == "Step execute terminated as pod wf-hangs-pod-retry1 is terminated"
    assert condition(pr) == ("False", "Failed", "Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0")


def test_the_pipeline_timeout_cancels_running_taskruns(tekton_run: Any) -> None:
    wf = lower(echo_step("long", "{}", "timeout: 1h") + echo_step("later", "{}", "runAfter: [long]"),
               extra_spec="timeout: 5m")
    run = tekton_run(wf, "steps: {long: [{duration: 30m}]}")
    run.create()
    pr = run.run()
    assert condition(pr) == ("False", "PipelineRunTimeout", 'PipelineRun "wf" failed to finish within "5m0s"')
    assert pr["status"]["completionTime"] == "2026-01-01T00:05:00Z"
    assert run.sim.run_until(lambda: run_finished(run.taskrun("long")), 60)
    tr = run.taskrun("long")
    assert tr["spec"]["status"] == "TaskRunCancelled"
    assert tr["spec"]["statusMessage"] == "TaskRun cancelled as the PipelineRun it belongs to has timed out."
    assert condition(tr) == ("False", "TaskRunCancelled", 'TaskRun "wf-long" was cancelled. TaskRun cancelled as '
                             "the PipelineRun it belongs to has timed out.")
    assert set(run.taskruns()) == {"long"}


def test_cancelling_stops_running_taskruns_and_starts_nothing(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a", "{}", "retries: 2") + echo_step("b", "{}", "runAfter: [a]")),
                     "steps: {a: [{duration: 1h}]}")
    run.create()
    assert run.sim.run_until(lambda: "startTime" in (run.taskruns().get("a", {}).get("status") or {}), 60)
    run.sim.clock.advance(60)
    pr = run.pr()
    pr["spec"]["status"] = "Cancelled"
    run.sim.cluster.update(pr)
    pr = run.run()
    assert condition(pr) == ("False", "Cancelled", 'PipelineRun "wf" was cancelled')
    assert run.sim.run_until(lambda: run_finished(run.taskrun("a")), 60)
    tr = run.taskrun("a")
    assert condition(tr)[:2] == ("False", "TaskRunCancelled")
    assert "retriesStatus" not in tr["status"]  # a cancelled attempt is never retried
    assert set(run.taskruns()) == {"a"}


def test_gracefully_stopping_lets_running_tasks_finish(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a") + echo_step("b", "{}", "runAfter: [a]")), "steps: {a: [{duration: 1m}]}")
    run.create()
    assert run.sim.run_until(lambda: "a" in run.taskruns(), 60)
    pr = run.pr()
    pr["spec"]["status"] = "StoppedRunFinally"
    run.sim.cluster.update(pr)
    assert run.sim.run_until(lambda: reason(run.pr()) == "StoppedRunningFinally", 10)
    pr = run.run()
    assert condition(pr) == ("False", "Cancelled", 'PipelineRun "wf" was cancelled')
    assert condition(run.taskrun("a"))[:2] == ("True", "Succeeded")
    assert run.skipped() == {"b": "PipelineRun was gracefully stopped"}


def test_gracefully_cancelling_cancels_running_tasks(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a") + echo_step("b", "{}", "runAfter: [a]")), "steps: {a: [{duration: 1m}]}")
    run.create(pr_patch=lambda pr: pr["spec"].update(status="CancelledRunFinally"))
    pr = run.run()
    # Cancelled before anything ran: nothing is scheduled, every task is skipped.
    assert condition(pr) == ("False", "Cancelled", 'PipelineRun "wf" was cancelled')
    assert run.skipped() == {"a": "PipelineRun was gracefully cancelled", "b": "PipelineRun was gracefully cancelled"}
    assert run.taskruns() == {}


def test_a_missing_pipeline_fails_the_run(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a")))
    run.create(skip=("Pipeline",))
    pr = run.run()
    assert condition(pr) == ("False", "CouldntGetPipeline",
                             f"Error retrieving pipeline for pipelinerun {NS}/wf: error when getting Pipeline for "
                             'PipelineRun wf: pipelines.tekton.dev "wf" not found')
    assert pr["status"]["startTime"] and pr["status"]["completionTime"]


def test_a_missing_task_fails_the_run(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a")))
    run.create(skip=("Task",))
    pr = run.run()
    assert condition(pr) == ("False", "CouldntGetTask",
                             f"Pipeline {NS}/wf can't be Run; it contains Tasks that don't exist: Couldn't retrieve "
                             'Task "kubernaut-action": tasks.tekton.dev "kubernaut-action" not found')
    assert run.sim.cluster.list(TEKTON, "TaskRun", NS).items == []


def test_outputs_over_4096_bytes_fail_the_publish_step(tekton_run: Any) -> None:
    big = "x" * 5000
    run = tekton_run(lower(echo_step("big", "{}") + echo_step("next", "{}", "runAfter: [big]")),
                     f"steps: {{big: [{{outputs: {{blob: {big}}}}}]}}")
    run.create()
    pr = run.run()
    tr = run.taskrun("big")
    assert condition(tr) == ("False", "Failed", '"step-publish-outputs" exited with code 1')
    log = run.tekton.taskruns.step_logs(tr)["publish-outputs"]
    assert log == "kubernaut: step 'big': outputs exceed the 4096-byte termination-message limit (5011 bytes)"
    assert condition(pr)[:2] == ("False", "Failed")
    assert run.skipped() == {"next": "PipelineRun was stopping"}


def test_a_guarded_output_the_producer_did_not_print_fails_the_producer(tekton_run: Any) -> None:
    wf = lower(echo_step("p", "{a: 1}") + echo_step("q", "{}", "when: [\"$(steps.p.outputs.a) == '1'\"]"))
    run = tekton_run(wf, "steps: {p: [{outputs: {b: 2}}]}")
    run.create()
    run.run()
    tr = run.taskrun("p")
    assert condition(tr)[2] == '"step-publish-outputs" exited with code 1'
    logs = run.tekton.taskruns.step_logs(tr)
    assert logs["publish-outputs"] == "kubernaut: step 'p': step 'p' did not produce output 'a' (read by later steps)"


def test_an_input_referencing_a_missing_output_fails_the_producer_not_the_consumer(tekton_run: Any) -> None:
    wf = lower(echo_step("p", "{a: 1}") + echo_step("q", '{x: ["$(steps.p.outputs.a)"]}'))
    run = tekton_run(wf, "steps: {p: [{outputs: {b: 2}}]}")
    run.create()
    pr = run.run()
    tr = run.taskrun("p")
    assert condition(tr) == ("False", "Failed", '"step-publish-outputs" exited with code 1')
    logs = run.tekton.taskruns.step_logs(tr)
    assert logs["publish-outputs"] == "kubernaut: step 'p': step 'p' did not produce output 'a' (read by later steps)"
    assert [s.get("terminationReason") for s in tr["status"]["steps"]] == ["Completed", "Completed", "Error"]
    # The consumer never starts: no resolve-inputs ever meets a missing key.
    assert set(run.taskruns()) == {"p"}
    assert run.skipped() == {"q": "PipelineRun was stopping"}
    assert condition(pr)[:2] == ("False", "Failed")


PROMISE = """
    steps:
      p:
        - {outputs: {other: 1}}
        - {outputs: {a: 1, ready: true}}
"""


def _promise(retries: int) -> Any:
    return lower(echo_step("p", "{a: 1, ready: true}", f"retries: {retries}")
                 + echo_step("q", '{x: ["$(steps.p.outputs.a)"]}', "when: [\"$(steps.p.outputs.ready) == true\"]")
                 + echo_step("r", "{}", "runAfter: [p]"))


def test_an_attempt_without_a_consumed_output_is_retried_and_the_retry_provides_it(tekton_run: Any) -> None:
    run = tekton_run(_promise(retries=1), PROMISE)
    run.create()
    pr = run.run()
    assert condition(pr)[:2] == ("True", "Succeeded")
    tr = run.taskrun("p")
    assert condition(tr)[:2] == ("True", "Succeeded")
    (first,) = tr["status"]["retriesStatus"]
    assert condition(first) == ("False", "Failed", '"step-publish-outputs" exited with code 1')
    assert run.tekton.taskruns.step_logs(tr, attempt=1)["publish-outputs"] == (
        "kubernaut: step 'p': step 'p' did not produce output 'a' (read by later steps)")
    assert run.outputs("p") == {"a": 1, "ready": True}
    # The Pipeline asks for what V1's ActionExecution asks for: q's input key, then its guard's.
    (task,) = [t for t in run.pr()["status"]["pipelineSpec"]["tasks"] if t["name"] == "p"]
    assert {p["name"]: p["value"] for p in task["params"]}["requiredOutputs"] == ["a", "ready"]
    assert set(run.taskruns()) == {"p", "q", "r"} and run.skipped() == {}
    assert run.outputs("q") == {"x": [1]}


def test_exhausted_retries_without_a_consumed_output_fail_the_producer(tekton_run: Any) -> None:
    run = tekton_run(_promise(retries=1), "steps: {p: [{outputs: {a: 1}}, {outputs: {}}]}")
    run.create()
    pr = run.run()
    tr = run.taskrun("p")
    assert condition(tr)[:2] == ("False", "Failed")
    logs = [run.tekton.taskruns.step_logs(tr, attempt=n)["publish-outputs"] for n in (1, 2)]
    assert logs == ["kubernaut: step 'p': step 'p' did not produce output 'ready' (read by later steps)",
                    "kubernaut: step 'p': step 'p' did not produce output 'a' (read by later steps)"]
    assert set(run.taskruns()) == {"p"}
    assert run.skipped() == {"q": "PipelineRun was stopping", "r": "PipelineRun was stopping"}
    assert condition(pr)[:2] == ("False", "Failed")


def test_an_entrypoint_failing_fails_the_attempt_with_its_exit_code(tekton_run: Any) -> None:
    fail = (sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)")
    run = tekton_run(lower(echo_step("x")), entrypoints={"kubernaut/echo": fail})
    run.create()
    run.run()
    tr = run.taskrun("x")
    assert condition(tr) == ("False", "Failed", '"step-execute" exited with code 3')
    assert run.tekton.taskruns.step_logs(tr)["execute"] == "boom"


def test_a_pending_pipelinerun_starts_when_released(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a")))
    run.create(pr_patch=lambda pr: pr["spec"].update(status="PipelineRunPending"))
    assert run.sim.run_until(lambda: reason(run.pr()) == "PipelineRunPending", 60)
    run.sim.clock.advance(30)
    assert "startTime" not in run.pr()["status"] and run.taskruns() == {}
    pr = run.pr()
    del pr["spec"]["status"]
    run.sim.cluster.update(pr)
    pr = run.run()
    assert condition(pr)[:2] == ("True", "Succeeded")
    assert pr["status"]["startTime"] == "2026-01-01T00:00:30Z"
