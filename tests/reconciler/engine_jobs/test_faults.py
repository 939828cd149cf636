"""Issue 5 acceptance (4): crash safety. The controller is thrown away and rebuilt on the same
cluster at every reconcile boundary, and runs with 10% injected API errors (lost responses
included). Never a duplicate Job, every workflow in the right final phase, the workspace PVC
deleted exactly once and never before its workflow ended."""

from __future__ import annotations

import random

import pytest
from jobs_engine_harness import Harness, echo_step, outcomes, workflow

from reconciler.cluster import FaultInjector


def thing(name: str, **fields: object) -> str:
    return echo_step(name, action_type="custom/thing", **fields)  # type: ignore[arg-type]


SUCCEEDS = workflow("fix", "".join([
    thing("clone", usesWorkspace=True),
    thing("scale", retries=2),
    thing("pr", after=["scale"], usesWorkspace=True, inputs={"sha": "$(steps.clone.outputs.sha)"}),
    thing("skip", when=["$(steps.clone.outputs.sha) == 'other'"]),
]))
FAILS = workflow("broken", "".join([
    thing("prep", usesWorkspace=True),
    thing("bad", after=["prep"], retries=1),
    thing("after-bad", after=["bad"]),
]))
SCRIPT = """
    steps:
      clone: [{outputs: {sha: abc123}, duration: 2s}]
      scale: [{result: failed, message: "conflict"}, {duration: 1s}]
      pr: [{outputs: {url: "https://example/pr/7"}}]
      bad: [{result: failed, message: "quota exceeded"}]
"""
EXPECTED = {
    "fix": ("Succeeded", {"clone": ("Succeeded", 1), "scale": ("Succeeded", 2), "pr": ("Succeeded", 1),
                          "skip": ("Skipped", 0)}),
    "broken": ("Failed", {"prep": ("Succeeded", 1), "bad": ("Failed", 2), "after-bad": ("Skipped", 0)}),
}


def harness(faults: FaultInjector | None = None) -> Harness:
    h = Harness(outcomes=outcomes(SCRIPT), faults=faults)
    h.create(SUCCEEDS)
    h.create(FAILS)
    return h


def check(h: Harness) -> None:
    for name, (phase, steps) in EXPECTED.items():
        assert h.status(name)["phase"] == phase, (name, h.status(name))
        assert h.steps(name) == steps, name
    assert h.status("fix")["steps"][2]["outputs"] == {"url": "https://example/pr/7"}
    # At most one Job per (workflow, step, attempt), ever; attempts numbered 1..n without gaps.
    created = [(j.label("kubernaut.ai/workflow"), j.label("kubernaut.ai/step"), j.label("kubernaut.ai/attempt"))
               for j in h.job_creations()]
    assert len(created) == len(set(created)), sorted(created)
    assert len({j.name for j in h.job_creations()}) == len(created)
    for name, (_, steps) in EXPECTED.items():
        for step, (_, attempts) in steps.items():
            got = sorted(int(a or 0) for w, s, a in created if w == name and s == step)
            assert got == list(range(1, attempts + 1)), (name, step, got)
    # One ActionExecution per started step, never re-created.
    aes = [(e.obj["spec"]["workflowName"], e.obj["spec"]["step"]) for e in h.seen("ActionExecution")
           if e.type == "ADDED"]
    assert len(aes) == len(set(aes))
    # The workspace: created once, deleted once, and only after the workflow's final status.
    for name in EXPECTED:
        claim = [e for e in h.seen("PersistentVolumeClaim") if e.label("kubernaut.ai/workflow") == name]
        assert [e.type for e in claim if e.type != "MODIFIED"] == ["ADDED", "DELETED"], name
        final = min(e.rv for e in h.seen("WorkflowExecution")
                    if e.name == name and e.phase in ("Succeeded", "Failed", "Cancelled"))
        deleted = next(e.rv for e in claim if e.type == "DELETED")
        assert deleted > final, name
        # No Job of the workflow was created after it ended.
        assert all(j.rv < final for j in h.job_creations() if j.label("kubernaut.ai/workflow") == name)
    assert not h.objects("PersistentVolumeClaim")


def _uninterrupted_reconciles() -> int:
    h = harness()
    assert h.run()
    check(h)
    return sum(c.stats.reconciles for c in h.manager.controllers)


TOTAL = _uninterrupted_reconciles()


def test_the_baseline_run_is_clean() -> None:
    assert TOTAL > 20


@pytest.mark.parametrize("k", range(1, TOTAL + 1))
def test_restart_after_k_reconciles(k: int) -> None:
    h = harness()
    h.run_reconciles(k)
    h.restart()
    assert h.run()
    check(h)


@pytest.mark.parametrize("seed", range(8))
def test_many_restarts_a_few_reconciles_apart(seed: int) -> None:
    # A new controller after every 1-12 of kubernaut's reconciles: every timer, queue and cache
    # is lost again and again. (A life of one to four reconciles would starve every key but the
    # first few in relist order: after a restart every key is queued again, sorted by name.)
    h = harness()
    rnd = random.Random(seed)
    for _ in range(50 * TOTAL):
        if h.settled():
            break
        h.run_reconciles(rnd.randint(1, 12), kubernaut_only=True)
        h.restart()
    assert h.settled()
    assert h.restarts >= 5
    check(h)


@pytest.mark.parametrize("seed", range(12))
def test_ten_percent_api_errors_and_lost_responses(seed: int) -> None:
    faults = FaultInjector(rate=0.1, lost_response_rate=0.1, seed=seed)
    h = harness(faults)
    assert h.run()
    assert faults.injected > 10
    check(h)


@pytest.mark.parametrize("seed", range(6))
def test_api_errors_and_random_restarts_together(seed: int) -> None:
    faults = FaultInjector(rate=0.1, lost_response_rate=0.1, seed=100 + seed)
    h = harness(faults)
    rnd = random.Random(seed)
    for _ in range(200):
        if h.settled():
            break
        h.run_reconciles(rnd.randint(1, 15))
        h.restart()
    assert h.run()
    check(h)
