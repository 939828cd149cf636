"""The simulated Tekton controllers read PipelineRuns, TaskRuns, Tasks and Pipelines from one
shared informer cache, like Tekton's controller process (issue 13): no GET per reconcile."""

from __future__ import annotations

from typing import Any

from tekton_sim_helpers import echo_step, lower


def test_no_get_of_what_the_informers_hold(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("a") + echo_step("b", "{}", "runAfter: [a]") + echo_step("c", "{}")),
                     "steps: {}")
    run.create()
    run.sim.cluster.reset_requests()
    pr = run.run()
    assert pr["status"]["conditions"][0]["status"] == "True"
    cluster = run.sim.cluster
    assert {kind: cluster.count("get", kind) for kind in ("TaskRun", "Task", "Pipeline")} == {
        "TaskRun": 0, "Task": 0, "Pipeline": 0}
    # One list per kind for both simulated controllers together (one process, shared informers).
    assert {kind: cluster.count("list", kind) for kind in ("PipelineRun", "TaskRun", "Task", "Pipeline")} == {
        "PipelineRun": 1, "TaskRun": 1, "Task": 1, "Pipeline": 1}
    assert cluster.count("create", "TaskRun") == 3
