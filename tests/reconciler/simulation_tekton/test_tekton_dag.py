"""DAG readiness, parallelism, ``when`` and skipping — with Tekton's rules, including where they
reach further than kubernaut's own (a ``runAfter`` child of a task skipped for missing results)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tekton_sim_helpers import NS, TEKTON, condition, echo_step, lower

from reconciler.clock import parse_rfc3339

T0 = datetime.fromisoformat("2026-01-01T00:00:00+00:00")


def started(run: Any, task: str) -> float:
    return (parse_rfc3339(run.taskrun(task)["status"]["startTime"]) - T0).total_seconds()


def finished(run: Any, task: str) -> float:
    return (parse_rfc3339(run.taskrun(task)["status"]["completionTime"]) - T0).total_seconds()


def test_tasks_start_when_their_parents_are_done_and_run_in_parallel(tekton_run: Any) -> None:
    wf = lower(echo_step("a", "{n: 1}")
               + echo_step("b", '{x: "$(steps.a.outputs.n)"}')      # depends on a through a result
               + echo_step("c", "{}", "runAfter: [a]")             # depends on a through runAfter
               + echo_step("d", "{}", "runAfter: [b, c]")
               + echo_step("e", "{}"))                             # a root, in parallel with a
    run = tekton_run(wf, """
        steps:
          a: [{outputs: {n: 1}, duration: 2s}]
          b: [{duration: 5s}]
          c: [{duration: 10s}]
          d: [{duration: 1s}]
          e: [{duration: 30s}]
    """)
    run.create()
    pr = run.run()
    assert condition(pr)[:2] == ("True", "Succeeded")
    assert {t: started(run, t) for t in "abcde"} == {"a": 0, "b": 2, "c": 2, "d": 12, "e": 0}
    assert finished(run, "d") == 13
    assert (parse_rfc3339(pr["status"]["completionTime"]) - T0).total_seconds() == 30
    # childReferences follow the Pipeline's task order.
    assert [r["pipelineTaskName"] for r in pr["status"]["childReferences"]] == list("abcde")


def test_running_pipelinerun_reports_progress_like_tekton(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a") + echo_step("b", "{}", "runAfter: [a]")),
                     "steps: {a: [{duration: 10s}], b: [{duration: 10s}]}")
    run.create()
    assert run.sim.run_until(lambda: "startTime" in (run.taskruns().get("b", {}).get("status") or {}), 3600)
    pr = run.pr()
    assert condition(pr) == ("Unknown", "Running", "Tasks Completed: 1 (Failed: 0, Cancelled 0), Incomplete: 1, "
                             "Skipped: 0")
    tr = run.taskrun("b")
    assert condition(tr) == ("Unknown", "Running", "Not all Steps in the Task have finished executing")
    states = [next(k for k in ("running", "terminated") if k in s) for s in tr["status"]["steps"]]
    assert states == ["terminated", "running", "running"]


def test_when_expressions_skip_only_their_own_task(tekton_run: Any) -> None:
    wf = lower(echo_step("check", "{ok: false, env: prod}")
               + echo_step("guarded", "{}", "when: [\"$(steps.check.outputs.ok) == 'true'\"]")
               + echo_step("allowed", "{}", "when: [\"$(steps.check.outputs.env) in ['prod', 'staging']\"]")
               + echo_step("after-guarded", "{}", "runAfter: [guarded]"))
    run = tekton_run(wf)
    run.create()
    pr = run.run()
    assert condition(pr) == ("True", "Completed", "Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 1")
    (skipped,) = pr["status"]["skippedTasks"]
    assert skipped == {"name": "guarded", "reason": "When Expressions evaluated to false",
                       "whenExpressions": [{"input": "false", "operator": "in", "values": ["true"]}]}
    # A when-skipped parent does not skip its runAfter children.
    assert set(run.taskruns()) == {"check", "allowed", "after-guarded"}


def test_skips_propagate_through_result_references(tekton_run: Any) -> None:
    wf = lower(echo_step("gate", "{go: no}")
               + echo_step("skipped", "{v: 1}", "when: [\"$(steps.gate.outputs.go) == 'yes'\"]")
               + echo_step("reader", '{v: "$(steps.skipped.outputs.v)"}')
               + echo_step("reader-child", "{}", "runAfter: [reader]")
               + echo_step("guard-eq", "{}", "when: [\"$(steps.skipped.outputs.v) == '1'\"]")
               + echo_step("guard-ne", "{}", "when: [\"$(steps.skipped.outputs.v) != '2'\"]")
               + echo_step("sibling", "{}", "runAfter: [skipped]"))
    run = tekton_run(wf)
    run.create()
    pr = run.run()
    assert run.skipped() == {
        "skipped": "When Expressions evaluated to false",
        "reader": "Results were missing",
        # Tekton skips a child of a task skipped for any reason but its own `when`.
        "reader-child": "Parent Tasks were skipped",
        # The guard's input stays "$(tasks.skipped.results.guardValues[0])": `in` is false...
        "guard-eq": "When Expressions evaluated to false",
        # ...and `notin` true, so the missing result decides.
        "guard-ne": "Results were missing",
    }
    assert set(run.taskruns()) == {"gate", "sibling"}
    assert condition(pr) == ("True", "Completed", "Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 5")
    unresolved = {s["name"]: s.get("whenExpressions") for s in pr["status"]["skippedTasks"]}
    assert unresolved["guard-eq"] == [{"input": "$(tasks.skipped.results.guardValues[0])", "operator": "in",
                                       "values": ["1"]}]


def test_an_invalid_graph_fails_the_pipelinerun(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a") + echo_step("b", "{}", "runAfter: [a]")))
    pipeline = next(o for o in run.objects if o["kind"] == "Pipeline")
    pipeline["spec"]["tasks"][0]["runAfter"] = ["b"]  # a cycle no compiler would emit
    run.create()
    pr = run.run()
    status, reason, message = condition(pr)
    assert (status, reason) == ("False", "PipelineInvalidGraph")
    assert message.startswith(f"PipelineRun {NS}/wf's Pipeline DAG is invalid: cycle detected")
    assert run.sim.cluster.list(TEKTON, "TaskRun", NS).items == []


def test_missing_result_of_a_succeeded_task_fails_validation(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a", "{v: 1}") + echo_step("b", '{v: "$(steps.a.outputs.v)"}')))
    pipeline = next(o for o in run.objects if o["kind"] == "Pipeline")
    params = pipeline["spec"]["tasks"][1]["params"]
    for param in params:
        if param["name"] == "upstreamOutputs":
            param["value"] = ["$(tasks.a.results.nothing)"]  # a result the Task never writes
    run.create()
    pr = run.run()
    status, reason, message = condition(pr)
    assert (status, reason) == ("False", "PipelineValidationFailed")
    assert message == ('Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0, Failed Validation: 1 '
                       '(task "a" completed successfully but did not emit the result "nothing", which is '
                       'referenced by task "b")')
