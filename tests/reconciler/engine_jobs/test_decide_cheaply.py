"""Issue 13 (throughput): what a reconcile decides from immutable inputs is worked out once, not
on every reconcile — the spec's digest once per generation, a "did you mean" hint once per
question, a workflow's deadline gauge once per workflow — with the same results as before."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from jobs_engine_harness import Harness, echo_step, workflow

import compiler.didyoumean
import reconciler.compile
from compiler.contracts import load_catalog
from reconciler.compile import WorkflowCompiler
from reconciler.metrics import Metrics
from reconciler.status import StepPhase, StepStatus, WorkflowPhase, WorkflowStatus, spec_digest

CATALOG = load_catalog()[0]


def _counting(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []
    original: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_the_spec_digest_is_computed_once_per_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch, reconciler.compile, "spec_digest")
    h = Harness()
    created = h.create(workflow("wf", echo_step("a") + echo_step("b", after=["a"]) + echo_step("c", after=["b"])))
    assert h.run()
    status = h.status("wf")
    assert status["phase"] == "Succeeded"
    # Every reconcile compares the spec with status.specHash; the digest was taken once.
    assert status["specHash"] == spec_digest(created["spec"])
    assert len(calls) == 1


def test_a_new_generation_gets_its_own_digest() -> None:
    h = Harness()
    created = h.create(workflow("wf", echo_step("a")))
    workflows = WorkflowCompiler(CATALOG)
    assert workflows.spec_digest(created) == spec_digest(created["spec"])
    edited = copy.deepcopy(created)
    edited["metadata"]["generation"] = created["metadata"]["generation"] + 1
    edited["spec"]["steps"][0]["retries"] = 3
    assert workflows.spec_digest(edited) == spec_digest(edited["spec"]) != spec_digest(created["spec"])
    unversioned = copy.deepcopy(edited)
    del unversioned["metadata"]["uid"]  # not from a server: nothing to key on, digested each time
    unversioned["spec"]["steps"][0]["retries"] = 4
    assert workflows.spec_digest(unversioned) == spec_digest(unversioned["spec"])


def test_a_hint_for_a_valid_workflow_asks_difflib_once(monkeypatch: pytest.MonkeyPatch) -> None:
    compiler.didyoumean._closest.cache_clear()
    calls = _counting(monkeypatch, compiler.didyoumean, "get_close_matches")
    workflows = WorkflowCompiler(CATALOG)
    for i in range(3):
        obj = workflow(f"wf{i}", echo_step("a", action_type="custom/thing"))
        obj["metadata"].update(uid=f"u{i}", generation=1)
        compiled = workflows.compile(obj)
        assert compiled.ok  # valid: the hint belongs to a warning (no contract known)
        assert [d.code for d in compiled.diagnostics] == ["KN043"]
    assert len(calls) == 1


def test_suggestions_are_unchanged() -> None:
    compiler.didyoumean._closest.cache_clear()
    did_you_mean = compiler.didyoumean.did_you_mean
    assert did_you_mean("git/clne", ["git/clone", "kubectl/apply"]) == "did you mean 'git/clone'?"
    assert did_you_mean("git/clne", ("kubectl/apply", "git/clone")) == "did you mean 'git/clone'?"
    assert did_you_mean("GIT", iter(["git", "other"])) == "did you mean 'git'?"
    assert did_you_mean("zzz", {"git/clone": 0}) is None
    assert compiler.didyoumean.suggest("Nme", ["name", "nme"]) == "nme"


def test_the_stored_status_in_workflow_order_is_what_parsing_it_again_gives() -> None:
    data = {"phase": "Running", "engine": "jobs", "conditions": [{"type": "Ready", "status": "Unknown"}],
            "steps": [{"name": "b", "phase": "Running", "attempts": 1}, {"name": "x", "phase": "Succeeded"},
                      {"name": "a", "phase": "Succeeded", "outputs": {"k": 1}}]}
    stored = WorkflowStatus.from_json(data)
    for names in (["a", "b", "c"], ["c"], []):
        ordered = stored.in_order(names)
        assert ordered == WorkflowStatus.from_json(data, names)
        assert ordered.conditions is not stored.conditions
    assert [s.name for s in stored.in_order(["a", "b", "c"]).steps] == ["a", "b", "c"]
    assert stored.in_order(["c"]).steps == [StepStatus("c", StepPhase.PENDING)]


def test_the_deadline_gauge_is_set_once_per_workflow_and_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    metrics = Metrics()
    calls = _counting(monkeypatch, metrics.workflow_deadline, "labels")
    for _ in range(3):
        metrics.workflow_running("ns", "wf", "jobs", 100.0)
    assert len(calls) == 1
    metrics.workflow_running("ns", "wf", "tekton", 100.0)  # moved: the old series goes
    metrics.workflow_gone("ns", "wf")
    metrics.workflow_running("ns", "wf", "tekton", 100.0)  # gone and back: exported again
    assert len(calls) == 3
    exposed = metrics.exposition().decode()
    assert 'kubernaut_workflow_deadline_timestamp_seconds{engine="tekton",name="wf",namespace="ns"} 100.0' in exposed
    assert 'engine="jobs",name="wf"' not in exposed


def test_a_reconcile_that_starts_steps_schedules_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import reconciler.engines.jobs.engine as jobs_engine

    schedules = _counting(monkeypatch, jobs_engine, "schedule")
    passes = _counting(monkeypatch, jobs_engine.JobsEngine, "reconcile")
    h = Harness()
    reads_b = {"x": "$(steps.b.outputs.y)"}
    h.create(workflow("wf", echo_step("a") + echo_step("b", after=["a"], inputs={"y": "v"})
                      + echo_step("c", after=["a"]) + echo_step("d", after=["c"], inputs=reads_b)))
    assert h.run()
    status = h.status("wf")
    assert status["phase"] == "Succeeded"
    assert [(s["name"], s["phase"]) for s in status["steps"]] == [
        ("a", "Succeeded"), ("b", "Succeeded"), ("c", "Succeeded"), ("d", "Succeeded")]
    [d] = [ae for ae in h.objects("ActionExecution", "wf") if ae["spec"]["step"] == "d"]
    assert d["spec"]["resolvedInputs"] == {"x": "v"}
    # One schedule per engine reconcile: the steps a pass starts are not scheduled again.
    assert len(schedules) == len(passes)


def test_statuses_compare_equal_exactly_when_their_json_does() -> None:
    # The workflow controller writes a status only when it changed, comparing the dataclasses.
    from reconciler.failures import FailureReason, StepFailure

    def status(**changes: Any) -> WorkflowStatus:
        base = WorkflowStatus.from_json({
            "phase": "Running", "engine": "jobs", "startTime": "t0", "observedGeneration": 1,
            "conditions": [{"type": "Ready", "status": "Unknown"}], "specHash": "sha256:x",
            "steps": [{"name": "a", "phase": "Succeeded", "attempts": 1, "outputs": {"k": 1}},
                      {"name": "b", "phase": "Failed", "attempts": 2,
                       "failure": {"reason": "ActionFailed", "exitCode": 3, "message": "m", "retryable": False}}]})
        for key, value in changes.items():
            setattr(base, key, value)
        return base

    same = status()
    variants = [status(phase=WorkflowPhase.FAILED), status(engine="tekton"), status(start_time=None),
                status(completion_time="t1"), status(message="m"), status(observed_generation=2),
                status(conditions=[]), status(diagnostics=[]), status(diagnostics=["d"]),
                status(failure_details={}), status(spec_hash=None), status(steps=same.steps[:1])]
    step_variants = [{"attempts": 3}, {"outputs": {"k": 2}}, {"outputs": None}, {"message": ""},
                     {"failure": StepFailure.of(FailureReason.ACTION_FAILED, "m", 3, retryable=True)},
                     {"start_time": "t"}, {"completion_time": "t"}, {"phase": StepPhase.CANCELLED}]
    for change in step_variants:
        variant = status()
        variant.steps = [variant.steps[0], dataclasses.replace(variant.steps[1], **change)]
        variants.append(variant)
    assert (same == status()) and same.to_json() == status().to_json()
    for variant in variants:
        assert (variant == same) == (variant.to_json() == same.to_json())
    assert sum(variant != same for variant in variants) == len(variants) - 1  # b had no outputs already
