"""The ActionExecution controller on its own terms: status shape, the order of "record the
attempt, then create its Job" under lost answers and failed requests, cancellation."""

from __future__ import annotations

import re
from typing import Any

from jobs_engine_harness import AE, Harness, echo_step, outcomes, workflow

from reconciler.cluster import FaultInjector
from reconciler.status import NOT_RUN_CANCELLED

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def thing(name: str, **fields: object) -> str:
    return echo_step(name, action_type="custom/thing", **fields)  # type: ignore[arg-type]


def the_ae(h: Harness, step: str) -> dict[str, Any]:
    (ae,) = [a for a in h.objects("ActionExecution") if a["spec"]["step"] == step]
    return ae


def test_status_shape_and_ownership() -> None:
    h = Harness(outcomes=outcomes("steps: {s: [{result: failed, message: x}, {outputs: {k: null}, duration: 2s}]}"))
    created = h.create(workflow("shape", thing("s", retries=1)))
    assert h.run()
    ae = the_ae(h, "s")
    status = ae["status"]
    assert set(status) == {"phase", "attempts", "startTime", "completionTime", "outputs", "attemptHistory"}
    assert (status["phase"], status["attempts"]) == ("Succeeded", 2)
    assert RFC3339.match(status["startTime"]) and RFC3339.match(status["completionTime"])
    for entry in status["attemptHistory"]:
        assert {"attempt", "job", "phase", "message", "startTime", "completionTime"} <= set(entry)
    # The exact outputs, null included, reach the workflow's status through the history entry.
    assert status["attemptHistory"][-1]["outputs"] == {"k": None}
    assert h.step("shape", "s")["outputs"] == {"k": None}
    owner = ae["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("WorkflowExecution", created["metadata"]["uid"], True)
    for job in h.objects("Job"):
        job_owner = job["metadata"]["ownerReferences"][0]
        assert (job_owner["kind"], job_owner["name"]) == ("ActionExecution", ae["metadata"]["name"])
    assert ae["spec"]["resolvedInputs"] == {}


def test_a_lost_answer_to_the_job_create_does_not_duplicate_the_job() -> None:
    faults = FaultInjector()
    faults.schedule("create", kind="Job", lose_response=True)
    faults.schedule("create", kind="Job", status=500)
    h = Harness(faults=faults)
    h.create(workflow("lost", thing("a") + thing("b", after=["a"])))
    assert h.run()
    assert h.steps("lost") == {"a": ("Succeeded", 1), "b": ("Succeeded", 1)}
    assert [j.name for j in h.job_creations()] == ["lost-a-1", "lost-b-1"]
    assert faults.injected == 2


def test_a_failed_status_write_creates_no_job() -> None:
    faults = FaultInjector()
    faults.schedule("patch_status", kind="ActionExecution", status=409, times=3)
    h = Harness(faults=faults)
    h.create(workflow("conflicts", thing("a")))
    assert h.run()
    assert h.steps("conflicts") == {"a": ("Succeeded", 1)}
    assert len(h.job_creations()) == 1


def test_a_cancelled_action_execution_never_starts() -> None:
    h = Harness()
    h.create(workflow("pre", thing("a")))
    assert h.manager.run_until(lambda: bool(h.objects("ActionExecution")))
    ae = the_ae(h, "a")
    assert not ae.get("status")  # created; its controller has not seen it yet
    ae["spec"]["cancel"] = True
    h.cluster.update(ae)
    h.manager.run_until_idle()
    status = the_ae(h, "a")["status"]
    assert (status["phase"], status["message"], status.get("attempts")) == ("Cancelled", NOT_RUN_CANCELLED, None)
    assert not h.objects("Job")


def test_action_executions_are_only_read_by_name() -> None:
    # A labelled list reads every object of the kind on a real API server (and on MemoryCluster):
    # the steady-state loop gets objects by their deterministic names instead.
    h = Harness()
    h.create(workflow("gets", thing("a") + thing("b", after=["a"], usesWorkspace=True)))
    assert h.run()
    lists = {(r.kind, r.name) for r in h.cluster.requests if r.verb == "list" and r.kind in (AE[1], "Job", "Pod")}
    assert lists == {(AE[1], None), ("Job", None), ("Pod", None)}  # the watches' initial lists only
