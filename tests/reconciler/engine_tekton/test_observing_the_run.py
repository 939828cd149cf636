"""What wakes a V2 workflow, and what the engine reads when it wakes (issue 13's V2 write budget).

A TaskRun wakes its workflow only for a retry; its creation, start and end reach the workflow
through its PipelineRun's status, which Tekton writes then. So the engine must not trust a
TaskRun cache that lags the run: when the run counts more finished tasks than the cache shows,
or has finished, or does not say, the running ones are read from the API server."""

from __future__ import annotations

from typing import Any

import pytest
from tekton_engine_harness import thing, workflow

from compiler import ir
from compiler.contracts import load_catalog
from reconciler.clock import VirtualClock
from reconciler.cluster import NotFound
from reconciler.compile import WorkflowCompiler
from reconciler.controller import Key
from reconciler.engines.base import EngineContext
from reconciler.engines.tekton import TektonEngine, step_statuses, taskrun_workflow_key
from reconciler.events import EventRecorder
from reconciler.metrics import Metrics
from reconciler.status import StepPhase, StepStatus, WorkflowStatus
from reconciler.verification import ImagePolicy, ImageVerification

TEKTON = "tekton.dev/v1"
PR_UID = "pr-uid"


def cond(status: str, reason: str, message: str = "") -> list[dict[str, str]]:
    return [{"type": "Succeeded", "status": status, "reason": reason, "message": message}]


def taskrun(step: str, status: dict[str, Any] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": TEKTON, "kind": "TaskRun",
        "metadata": {"name": f"wf-{step}", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z",
                     "labels": {"tekton.dev/pipelineRun": "wf", "tekton.dev/pipelineTask": step},
                     "ownerReferences": [{"kind": "PipelineRun", "name": "wf", "uid": PR_UID, "controller": True}]}}
    if status is not None:
        obj["status"] = status
    return obj


RUNNING = {"startTime": "2026-01-01T00:00:01Z", "conditions": cond("Unknown", "Running")}
DONE = {"startTime": "2026-01-01T00:00:01Z", "completionTime": "2026-01-01T00:00:05Z",
        "conditions": cond("True", "Succeeded"), "results": [{"name": "outputs", "value": "{}"}]}


def pipelinerun(state: str, reason: str, message: str, *steps: str) -> dict[str, Any]:
    return {"apiVersion": TEKTON, "kind": "PipelineRun",
            "metadata": {"name": "wf", "namespace": "default", "uid": PR_UID},
            "status": {"conditions": cond(state, reason, message),
                       "childReferences": [{"kind": "TaskRun", "name": f"wf-{s}", "pipelineTaskName": s}
                                           for s in steps]}}


class LaggingCache:
    """``get`` answers from a cache that may lag, ``get_fresh`` from the API server; counts both."""

    def __init__(self, cached: dict[str, dict[str, Any]], server: dict[str, dict[str, Any]]) -> None:
        self.cached, self.server = cached, server
        self.fresh_reads: list[str] = []

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        if name not in self.cached:
            raise NotFound(f"{kind} {name}")
        return self.cached[name]

    def get_fresh(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        self.fresh_reads.append(name)
        if name not in self.server:
            raise NotFound(f"{kind} {name}")
        return self.server[name]


@pytest.fixture(scope="module")
def wf() -> ir.Workflow:
    compiled = WorkflowCompiler(load_catalog()[0]).compile(workflow("wf", thing("a") + thing("b", after=["a"])))
    assert compiled.workflow is not None
    return compiled.workflow


def observe(wf: ir.Workflow, cluster: LaggingCache, pr: dict[str, Any],
            known: tuple[StepStatus, ...] = ()) -> dict[str, tuple[StepPhase, int]]:
    engine = TektonEngine(ImageVerification(ImagePolicy("skip")))
    clock = VirtualClock()
    wfe = {"apiVersion": "kubernaut.ai/v1alpha1", "kind": "WorkflowExecution",
           "metadata": {"name": "wf", "namespace": "default", "uid": "wfe-uid"}}
    status = WorkflowStatus.from_json({"steps": [s.to_json() for s in known]} if known else None,
                                      [s.name for s in wf.steps])
    ctx = EngineContext(cluster, clock, wfe, wf, status, EventRecorder(cluster, clock=clock),
                        Metrics())
    return {s.name: (s.phase, s.attempts) for s in step_statuses(wf, engine._observe(ctx, wf, pr))}


def test_a_taskrun_wakes_its_workflow_only_for_a_retry() -> None:
    assert taskrun_workflow_key(taskrun("a")) == []  # just created: the run's status lists it
    assert taskrun_workflow_key(taskrun("a", RUNNING)) == []  # started: nothing kubernaut reports changed
    assert taskrun_workflow_key(taskrun("a", DONE)) == []  # finished: the run's status counts it
    retrying = {**RUNNING, "retriesStatus": [{"conditions": cond("False", "Failed")}]}
    assert taskrun_workflow_key(taskrun("a", retrying)) == [Key("default", "wf")]
    failed_for_good = {**DONE, "conditions": cond("False", "Failed"), "retriesStatus": retrying["retriesStatus"]}
    assert taskrun_workflow_key(taskrun("a", failed_for_good)) == []


def test_a_cache_in_step_with_the_run_is_trusted(wf: ir.Workflow) -> None:
    cluster = LaggingCache({"wf-a": taskrun("a", DONE), "wf-b": taskrun("b", RUNNING)}, {})
    pr = pipelinerun("Unknown", "Running", "Tasks Completed: 1 (Failed: 0, Cancelled 0), Incomplete: 1, Skipped: 0",
                     "a", "b")
    assert observe(wf, cluster, pr) == {"a": (StepPhase.SUCCEEDED, 1), "b": (StepPhase.RUNNING, 1)}
    assert cluster.fresh_reads == []


def test_a_cache_behind_the_runs_count_is_read_again(wf: ir.Workflow) -> None:
    # The run counts a finished, the TaskRuns' informer has not delivered it yet: without reading
    # it again, nothing would wake the workflow for it (a finished TaskRun wakes no one).
    cluster = LaggingCache({"wf-a": taskrun("a", RUNNING)}, {"wf-a": taskrun("a", DONE), "wf-b": taskrun("b")})
    pr = pipelinerun("Unknown", "Running", "Tasks Completed: 1 (Failed: 0, Cancelled 0), Incomplete: 1, Skipped: 0",
                     "a", "b")
    assert observe(wf, cluster, pr) == {"a": (StepPhase.SUCCEEDED, 1), "b": (StepPhase.RUNNING, 1)}
    assert cluster.fresh_reads == ["wf-b", "wf-a"]  # b: not in the cache yet; a: behind the count


def test_a_step_recorded_finished_counts_as_seen(wf: ir.Workflow) -> None:
    cluster = LaggingCache({"wf-b": taskrun("b", RUNNING)}, {})
    pr = pipelinerun("Unknown", "Running", "Tasks Completed: 1 (Failed: 0, Cancelled 0), Incomplete: 1, Skipped: 0",
                     "a", "b")
    a_done = StepStatus("a", StepPhase.SUCCEEDED, 1, "2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z", {})
    assert observe(wf, cluster, pr, (a_done, StepStatus("b")))["b"] == (StepPhase.RUNNING, 1)
    assert cluster.fresh_reads == []


@pytest.mark.parametrize("pr", [
    pipelinerun("True", "Succeeded", "Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 0", "a", "b"),
    pipelinerun("Unknown", "Running", "a message that counts nothing", "a", "b"),
], ids=["run finished", "run does not count"])
def test_a_run_that_finished_or_does_not_count_is_not_trusted_to_match_the_cache(
        wf: ir.Workflow, pr: dict[str, Any]) -> None:
    cluster = LaggingCache({"wf-a": taskrun("a", DONE), "wf-b": taskrun("b", RUNNING)},
                           {"wf-b": taskrun("b", DONE)})
    assert observe(wf, cluster, pr)["b"] == (StepPhase.SUCCEEDED, 1)
    assert cluster.fresh_reads == ["wf-b"]
