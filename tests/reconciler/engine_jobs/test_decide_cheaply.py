"""Issue 13 (throughput): what a reconcile decides from immutable inputs is worked out once, not
on every reconcile — the spec's digest once per generation, a "did you mean" hint once per
question, a workflow's deadline gauge once per workflow — with the same results as before."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from jobs_engine_harness import Harness, echo_step, workflow

import compiler.didyoumean
import reconciler.compile
from compiler.contracts import load_catalog
from reconciler.compile import WorkflowCompiler
from reconciler.metrics import Metrics
from reconciler.status import StepPhase, StepStatus, WorkflowStatus, spec_digest

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
