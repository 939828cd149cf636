"""Restart safety (a new Manager on the same cluster never creates a second PipelineRun), the
sticky engine across routing changes, and the fallback to V1 when Tekton is absent."""

from __future__ import annotations

import random

import pytest
from tekton_engine_harness import ALL_JOBS, ALL_TEKTON, Harness, outcomes, policy, step, thing, wfe_condition, workflow

from reconciler.cluster import FaultInjector
from reconciler.routing import RoutingPolicy

STEPS = (step("a", inputs={"x": 1}) + step("b", inputs={"x": "$(steps.a.outputs.x)"}, retries=1)
         + step("c", after=["a"]) + step("d", after=["b", "c"], when=["$(steps.b.outputs.x) == 1"]))
FLAKY = outcomes("""
    steps:
      b: [{result: failed}, {result: succeeded, outputs: {x: 1}}]
""")


def _final(h: Harness, name: str) -> dict[str, object]:
    status = h.status(name)
    return {s["name"]: (s["phase"], s["attempts"], s["outputs"], s.get("message")) for s in status["steps"]}


def _reference() -> tuple[dict[str, object], int]:
    h = Harness(outcomes=FLAKY)
    h.create(workflow("restart", STEPS))
    assert h.run()
    return _final(h, "restart"), h.reconciles(kubernaut_only=True)


REFERENCE, TOTAL = _reference()


def _check(h: Harness) -> None:
    assert h.settled()
    assert _final(h, "restart") == REFERENCE
    assert len([s for s in h.seen("PipelineRun") if s.type == "ADDED"]) == 1
    taskruns = [s.name for s in h.seen("TaskRun") if s.type == "ADDED"]
    assert len(taskruns) == len(set(taskruns)) == 4


@pytest.mark.parametrize("k", range(1, TOTAL + 1))
def test_restart_after_k_reconciles_never_duplicates_a_run(k: int) -> None:
    h = Harness(outcomes=FLAKY)
    h.create(workflow("restart", STEPS))
    h.run_reconciles(k, kubernaut_only=True)
    h.restart()
    assert h.run()
    _check(h)


@pytest.mark.parametrize("seed", range(4))
def test_many_restarts_a_few_reconciles_apart(seed: int) -> None:
    h = Harness(outcomes=FLAKY)
    h.create(workflow("restart", STEPS))
    rnd = random.Random(seed)
    for _ in range(50 * TOTAL):
        if h.settled():
            break
        h.run_reconciles(rnd.randint(1, 6), kubernaut_only=True)
        h.restart()
    assert h.restarts >= 3
    _check(h)


@pytest.mark.parametrize("seed", range(6))
def test_api_errors_and_lost_responses(seed: int) -> None:
    faults = FaultInjector(rate=0.1, lost_response_rate=0.1, seed=seed)
    h = Harness(outcomes=FLAKY, faults=faults)
    h.create(workflow("restart", STEPS))
    assert h.run()
    # Enough faults to exercise recovery (fewer than before issue 13: the simulated Tekton
    # controllers read from informers, so a run makes fewer requests to fail).
    assert faults.injected >= 5
    _check(h)


def test_a_workflow_started_on_tekton_stays_there_after_the_policy_changes() -> None:
    current: dict[str, RoutingPolicy] = {"policy": policy(ALL_TEKTON)}
    h = Harness(outcomes=outcomes("steps: {a: [{duration: 30s}]}"), policy_provider=lambda: current["policy"])
    h.create(workflow("before", thing("a"), spec=""))
    assert h.run_until(lambda: h.steps("before").get("a") == ("Running", 1))
    current["policy"] = policy(ALL_JOBS)  # the operator rolls back
    h.create(workflow("after", thing("a"), spec=""))
    assert h.run()
    assert (h.status("before")["engine"], h.status("before")["phase"]) == ("tekton", "Succeeded")
    assert (h.status("after")["engine"], h.status("after")["phase"]) == ("jobs", "Succeeded")
    assert [p["metadata"]["name"] for p in h.objects("PipelineRun")] == ["before"]
    assert [a["spec"]["workflowName"] for a in h.objects("ActionExecution")] == ["after"]


def test_without_tekton_a_tekton_route_runs_on_jobs_with_a_warning() -> None:
    h = Harness(tekton_installed=False, policy_provider=lambda: policy(ALL_TEKTON))
    h.create(workflow("by-policy", step("a", inputs={"x": 1}) + step("b", inputs={"x": "$(steps.a.outputs.x)"}),
                      spec=""))
    h.create(workflow("by-spec", step("a"), spec="engine: tekton"))
    assert h.run(max_seconds=600)
    for name, why in (("by-policy", "no rules; defaultEngine is tekton"), ("by-spec", "spec.engine is 'tekton'")):
        status = h.status(name)
        assert (status["phase"], status["engine"]) == ("Succeeded", "jobs"), name
        reason = f"{why}; Tekton is not installed (no tekton.dev CRDs): falling back to jobs"
        assert wfe_condition(status, "EngineFallback") == ("True", "EngineUnavailable", reason)
        assert ("Warning", "EngineFallback", reason) in h.events(name)
    assert h.step("by-policy", "b")["outputs"] == {"x": 1}
    assert "kubernaut_engine_fallbacks_total 2.0" in h.app.metrics.exposition().decode()


def test_tekton_removed_under_a_running_workflow_fails_it_instead_of_hanging() -> None:
    h = Harness(outcomes=outcomes("steps: {long: [{duration: 10m}]}"))
    h.create(workflow("orphaned", thing("first") + thing("long", after=["first"]) + thing("last", after=["long"])))
    assert h.run_until(lambda: h.steps("orphaned").get("long") == ("Running", 1))
    h.cluster.set_tekton_installed(False)
    assert h.run(max_seconds=600)
    status = h.status("orphaned")
    assert (status["phase"], status["engine"]) == ("Failed", "tekton")  # sticky: never moved to jobs
    assert status["message"] == ("Tekton Pipelines is not installed any more (no tekton.dev CRDs): the workflow "
                                 "cannot continue on the tekton engine")
    assert h.steps("orphaned") == {"first": ("Succeeded", 1), "long": ("Cancelled", 1), "last": ("Skipped", 0)}
