"""The V1 scheduler is a pure function: every rule of docs/architecture.md's runtime semantics,
case by case, then as properties over random DAGs and outcomes (hypothesis)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jobs_engine_harness import echo_step as harness_step
from jobs_engine_harness import workflow

from compiler import ir
from compiler.contracts import load_catalog
from reconciler.compile import compile_object
from reconciler.engines.jobs.scheduler import Identity, SkipReason, schedule, skip_decisions, topological_order
from reconciler.status import NOT_RUN_WORKFLOW_FAILED, StepPhase, StepStatus, WorkflowPhase

CATALOG = load_catalog()[0]
ID = Identity("wf", "ns", "uid-1")
S, F, R, K, C = StepPhase.SUCCEEDED, StepPhase.FAILED, StepPhase.RUNNING, StepPhase.SKIPPED, StepPhase.CANCELLED


def ir_of(*steps: str, name: str = "wf") -> ir.Workflow:
    compiled = compile_object(workflow(name, "".join(steps), namespace="ns"), CATALOG)
    assert compiled.workflow is not None, compiled.render()
    return compiled.workflow


def echo_step(name: str, **fields: Any) -> str:
    """A step whose outputs the compiler does not check (no contract): the scheduler gets them
    from ``known`` in these tests."""
    return harness_step(name, action_type="custom/thing", **fields)


def done(name: str, phase: StepPhase = S, outputs: dict[str, Any] | None = None, *, at: str = "2026-01-01T00:00:05Z",
         message: str | None = None, attempts: int = 1) -> StepStatus:
    return StepStatus(name, phase, attempts, "2026-01-01T00:00:00Z", at if phase is not R else None,
                      (outputs or {}) if phase is S else None, message)


def phases(result: Any) -> dict[str, str]:
    return {s.name: s.phase.value for s in result.steps}


def started(result: Any) -> dict[str, dict[str, Any]]:
    return {s.step: s.inputs for s in result.start}


CHAIN = (echo_step("a", inputs={"x": 1}), echo_step("b", inputs={"y": "$(steps.a.outputs.x)"}),
         echo_step("c", after=["b"]))


def test_roots_start_first_with_their_inputs_and_the_rest_waits() -> None:
    wf = ir_of(*CHAIN, echo_step("d", inputs={"who": "$(workflow.name)@$(workflow.namespace)/$(workflow.uid)"}))
    result = schedule(wf, {}, ID)
    assert started(result) == {"a": {"x": 1}, "d": {"who": "wf@ns/uid-1"}}
    assert phases(result) == {"a": "Running", "b": "Pending", "c": "Pending", "d": "Running"}
    assert result.phase is WorkflowPhase.RUNNING and result.message is None


def test_running_steps_are_not_started_again_and_dependents_wait() -> None:
    wf = ir_of(*CHAIN)
    result = schedule(wf, {"a": done("a", R)}, ID)
    assert result.start == ()
    assert phases(result) == {"a": "Running", "b": "Pending", "c": "Pending"}


def test_a_step_starts_when_its_dependencies_succeeded_with_inputs_resolved_now() -> None:
    wf = ir_of(*CHAIN)
    result = schedule(wf, {"a": done("a", outputs={"x": [1, {"k": None}]})}, ID)
    assert started(result) == {"b": {"y": [1, {"k": None}]}}  # a whole reference keeps the JSON value


def test_interpolation_uses_compact_sorted_json_for_non_strings() -> None:
    wf = ir_of(echo_step("a"), echo_step("b", inputs={"t": "v=$(steps.a.outputs.v) s=$(steps.a.outputs.s) "
                                                            "b=$(steps.a.outputs.b) n=$(steps.a.outputs.n)"}))
    result = schedule(wf, {"a": done("a", outputs={"v": {"z": 1, "a": [True]}, "s": "text", "b": False,
                                                    "n": None})}, ID)
    assert started(result) == {"b": {"t": 'v={"a":[true],"z":1} s=text b=false n=null'}}


def test_workspace_path_and_literals() -> None:
    wf = ir_of(echo_step("a", inputs={"p": "$(workspace.path)/x", "lit": "$$(date) $$(steps.a.outputs.x)"},
                         usesWorkspace=True))
    assert started(schedule(wf, {}, ID)) == {"a": {"p": "/workspace/x", "lit": "$(date) $(steps.a.outputs.x)"}}


@pytest.mark.parametrize(("guard", "runs"), [
    ("$(steps.a.outputs.flag) == 'true'", True),
    ("$(steps.a.outputs.flag) == true", True),
    ("$(steps.a.outputs.flag) != 'true'", False),
    ("$(steps.a.outputs.n) in [1, 2]", True),
    ("$(steps.a.outputs.n) in ['2', 3]", False),
    ("$(steps.a.outputs.n) notin [3]", True),
    ("$(steps.a.outputs.n) == 1.0", False),  # compared as text: "1" vs "1.0"
])
def test_guards_compare_as_text(guard: str, runs: bool) -> None:
    wf = ir_of(echo_step("a"), echo_step("b", when=[guard]))
    result = schedule(wf, {"a": done("a", outputs={"flag": True, "n": 1})}, ID)
    if runs:
        assert started(result) == {"b": {}}
    else:
        assert result.start == ()
        assert (result.status("b").phase, result.status("b").message) == (K, f"when guard is false: {guard}")


def test_all_guards_must_hold_and_the_first_false_one_is_named() -> None:
    wf = ir_of(echo_step("a"), echo_step("b", when=["$(steps.a.outputs.x) == 1", "$(steps.a.outputs.y) == 1",
                                                   "$(steps.a.outputs.x) == 2"]))
    result = schedule(wf, {"a": done("a", outputs={"x": 1, "y": 2})}, ID)
    assert result.status("b").message == "when guard is false: $(steps.a.outputs.y) == 1"


def test_literal_guard_without_references() -> None:
    wf = ir_of(echo_step("a", when=["'x' in ['x', 'y']"]), echo_step("b", when=["1 == 2"]))
    result = schedule(wf, {}, ID)
    assert started(result) == {"a": {}}
    assert result.status("b").phase is K


def test_skipping_does_not_cascade_by_itself_but_references_to_skipped_outputs_do() -> None:
    wf = ir_of(
        echo_step("a"),
        echo_step("skipped", after=["a"], when=["$(steps.a.outputs.go) == 'yes'"]),
        echo_step("after", after=["skipped"]),
        echo_step("refs", inputs={"v": "x=$(steps.skipped.outputs.v)"}),
        echo_step("guards", when=["$(steps.refs.outputs.v) != 'x'"]),
        echo_step("tail", after=["guards"]),
    )
    result = schedule(wf, {"a": done("a", outputs={"go": "no"})}, ID)
    assert phases(result) == {"a": "Succeeded", "skipped": "Skipped", "after": "Running", "refs": "Skipped",
                              "guards": "Skipped", "tail": "Skipped"}
    assert result.status("refs").message == "outputs of skipped step 'skipped' are missing"
    # refs was not skipped by its own guard: that cascades (Tekton's "Parent Tasks were skipped").
    assert result.status("guards").message == "a step it depends on was skipped: refs"
    assert result.status("tail").message == "a step it depends on was skipped: guards"
    assert started(result) == {"after": {}}


# -- the skip rules one by one (docs/architecture.md, "Skipping follows Tekton exactly") ----------


def reasons(wf: ir.Workflow, known: dict[str, StepStatus]) -> dict[str, tuple[SkipReason, str]]:
    return {name: (skip.reason, skip.message) for name, skip in skip_decisions(wf, known, ID).items()}


SKIPPED_A = (echo_step("a", when=["1 == 2"]),)  # a is skipped by its own guard


@pytest.mark.parametrize(("guard", "outcome"), [
    # Unresolvable (a was skipped): equal to no literal, so == and in are false ...
    ("$(steps.a.outputs.v) == 'x'", (SkipReason.GUARD, "when guard is false: $(steps.a.outputs.v) == 'x'")),
    ("$(steps.a.outputs.v) in ['x', '']", (SkipReason.GUARD, "when guard is false: $(steps.a.outputs.v) in ['x', '']")),
    # ... != and notin are true, and the step reads outputs of a guard-skipped step (rule 4).
    ("$(steps.a.outputs.v) != 'x'", (SkipReason.MISSING_OUTPUTS, "outputs of skipped step 'a' are missing")),
    ("$(steps.a.outputs.v) notin ['x']", (SkipReason.MISSING_OUTPUTS, "outputs of skipped step 'a' are missing")),
])
def test_a_guard_reading_a_skipped_step_equals_no_literal(guard: str, outcome: tuple[SkipReason, str]) -> None:
    wf = ir_of(*SKIPPED_A, echo_step("b", when=[guard]))
    assert reasons(wf, {})["b"] == outcome


def test_references_are_resolved_all_or_nothing() -> None:
    # b's input reads skipped a, so its guard on p (which succeeded, flag = true) is unresolved
    # too: `== true` is false although p printed true, and `!= true` holds although it did not.
    wf = ir_of(echo_step("p"), *SKIPPED_A,
               echo_step("b", inputs={"v": "$(steps.a.outputs.v)"}, when=["$(steps.p.outputs.flag) == true"]),
               echo_step("c", inputs={"v": "$(steps.a.outputs.v)"}, when=["$(steps.p.outputs.flag) != true"]),
               echo_step("d", when=["$(steps.p.outputs.flag) == true"]))
    known = {"p": done("p", outputs={"flag": True})}
    assert reasons(wf, known) == {
        "a": (SkipReason.GUARD, "when guard is false: 1 == 2"),
        "b": (SkipReason.GUARD, "when guard is false: $(steps.p.outputs.flag) == true"),
        "c": (SkipReason.MISSING_OUTPUTS, "outputs of skipped step 'a' are missing"),
    }
    assert started(schedule(wf, known, ID)) == {"d": {}}


def test_guards_without_step_references_stay_resolved() -> None:
    wf = ir_of(*SKIPPED_A, echo_step("b", inputs={"v": "$(steps.a.outputs.v)"}, usesWorkspace=True,
                                     when=["$(workflow.name) == 'wf'", "$(workspace.path) == '/workspace'",
                                           "$(steps.a.outputs.v) notin ['x']"]))
    # Every guard holds (the last one because it is unresolved): rule 4 decides.
    assert reasons(wf, {})["b"] == (SkipReason.MISSING_OUTPUTS, "outputs of skipped step 'a' are missing")
    wf = ir_of(*SKIPPED_A, echo_step("b", inputs={"v": "$(steps.a.outputs.v)"}, when=["$(workflow.name) == 'x'"]))
    assert reasons(wf, {})["b"] == (SkipReason.GUARD, "when guard is false: $(workflow.name) == 'x'")


def test_guards_wait_for_every_dependency() -> None:
    # Tekton evaluates `when` only once all parents are done: b stays pending while a runs.
    wf = ir_of(echo_step("a"), echo_step("b", after=["a"], when=["1 == 2"]))
    result = schedule(wf, {"a": done("a", R)}, ID)
    assert phases(result) == {"a": "Running", "b": "Pending"} and reasons(wf, {"a": done("a", R)}) == {}
    assert reasons(wf, {"a": done("a", outputs={})}) == {"b": (SkipReason.GUARD, "when guard is false: 1 == 2")}


def test_a_false_guard_comes_before_a_skipped_dependency() -> None:
    wf = ir_of(*SKIPPED_A, echo_step("b", inputs={"v": "$(steps.a.outputs.v)"}),
               echo_step("c", after=["b"], when=["1 == 2"]), echo_step("d", after=["b"]))
    assert reasons(wf, {}) == {
        "a": (SkipReason.GUARD, "when guard is false: 1 == 2"),
        "b": (SkipReason.MISSING_OUTPUTS, "outputs of skipped step 'a' are missing"),
        "c": (SkipReason.GUARD, "when guard is false: 1 == 2"),
        "d": (SkipReason.DEPENDENCY, "a step it depends on was skipped: b"),
    }


def test_a_skipped_dependency_cascades_without_waiting_for_the_others() -> None:
    # Tekton's "Parent Tasks were skipped" needs no other parent to be done.
    wf = ir_of(*SKIPPED_A, echo_step("b", inputs={"v": "$(steps.a.outputs.v)"}), echo_step("long"),
               echo_step("c", after=["long", "b"]), echo_step("d", after=["c"]))
    result = schedule(wf, {"long": done("long", R)}, ID)
    assert phases(result) == {"a": "Skipped", "b": "Skipped", "long": "Running", "c": "Skipped", "d": "Skipped"}
    assert result.status("c").message == "a step it depends on was skipped: b"
    assert result.status("d").message == "a step it depends on was skipped: c"


def test_the_first_dependency_skipped_for_another_reason_is_named() -> None:
    wf = ir_of(*SKIPPED_A, echo_step("x", inputs={"v": "$(steps.a.outputs.v)"}),
               echo_step("y", inputs={"v": "$(steps.a.outputs.v)"}), echo_step("c", after=["a", "y", "x"]))
    # Dependencies are named in workflow order; a (skipped by its own guard) never is.
    assert reasons(wf, {})["c"] == (SkipReason.DEPENDENCY, "a step it depends on was skipped: x")


def test_the_first_guard_skipped_step_read_is_named_guards_first() -> None:
    wf = ir_of(echo_step("x", when=["1 == 2"]), echo_step("y", when=["1 == 2"]),
               echo_step("c", inputs={"v": "$(steps.x.outputs.v)"}, when=["$(steps.y.outputs.v) != 'z'"]))
    assert reasons(wf, {})["c"] == (SkipReason.MISSING_OUTPUTS, "outputs of skipped step 'y' are missing")


def test_skips_are_derived_again_from_the_facts_not_remembered() -> None:
    # While `long` runs, c is skipped because b was (rule 3, without waiting). Once long is done,
    # c's guard decides first (unresolved: it reads b), so c is skipped by its guard, and d,
    # which does not read c, runs: exactly what Tekton concludes from the same facts.
    wf = ir_of(*SKIPPED_A, echo_step("b", inputs={"v": "$(steps.a.outputs.v)"}), echo_step("long"),
               echo_step("c", after=["long"], when=["$(steps.b.outputs.v) == 'z'"]), echo_step("d", after=["c"]))
    running = schedule(wf, {"long": done("long", R)}, ID)
    assert (running.status("c").message, running.status("d").message) == (
        "a step it depends on was skipped: b", "a step it depends on was skipped: c")
    # The engine passes earlier decisions back in `known`: they do not count.
    known = {s.name: s for s in running.steps if s.phase is K} | {"long": done("long", outputs={})}
    ended = schedule(wf, known, ID)
    assert ended.status("c").message == "when guard is false: $(steps.b.outputs.v) == 'z'"
    assert started(ended) == {"d": {}}


def test_once_a_step_failed_every_unstarted_step_is_not_run_even_one_skipped_before() -> None:
    wf = ir_of(echo_step("a"), echo_step("b"), echo_step("g", when=["1 == 2"]), echo_step("c", after=["a"]))
    assert reasons(wf, {}) == {"g": (SkipReason.GUARD, "when guard is false: 1 == 2")}
    known = {"a": done("a", F, message="boom"), "b": done("b", R), "g": done("g", K, message="x")}
    assert reasons(wf, known) == {n: (SkipReason.STOPPING, NOT_RUN_WORKFLOW_FAILED) for n in ("g", "c")}
    # Rule 1 waits for running steps to finish before writing anything off (both engines).
    running = schedule(wf, known, ID)
    assert phases(running) == {"a": "Failed", "b": "Running", "g": "Pending", "c": "Pending"}
    assert running.not_run == ()
    ended = schedule(wf, {**known, "b": done("b", outputs={})}, ID)
    assert phases(ended) == {"a": "Failed", "b": "Succeeded", "g": "Skipped", "c": "Skipped"}
    assert ended.not_run == ("g", "c") and ended.status("g").message == NOT_RUN_WORKFLOW_FAILED


def test_a_missing_output_fails_the_step_without_running_it_and_stops_new_starts() -> None:
    wf = ir_of(echo_step("a"), echo_step("b", inputs={"n": {"deep": ["$(steps.a.outputs.nope)"]}}),
               echo_step("c", after=["a"]), echo_step("d", after=["b"]), echo_step("long"))
    result = schedule(wf, {"a": done("a", outputs={"x": 1, "y": 2}), "long": done("long", R)}, ID)
    assert result.status("b").phase is F and result.status("b").attempts == 0
    assert result.status("b").message == "inputs.n.deep[0]: step 'a' has no output 'nope' (it produced: x, y)"
    # c became ready in the same pass: a failure stops it too. long still runs, so nothing is
    # written off yet and the workflow is still running.
    assert result.start == ()
    assert phases(result) == {"a": "Succeeded", "b": "Failed", "c": "Pending", "d": "Pending", "long": "Running"}
    assert result.phase is WorkflowPhase.RUNNING


def test_a_missing_output_in_a_guard_fails_the_step() -> None:
    wf = ir_of(echo_step("a"), echo_step("b", when=["$(steps.a.outputs.gone) == 1"]))
    result = schedule(wf, {"a": done("a", outputs={})}, ID)
    assert (result.status("b").phase, result.status("b").message) == (F, "step 'a' has no output 'gone' "
                                                                         "(it produced no outputs)")
    assert result.phase is WorkflowPhase.FAILED


def test_after_a_failure_nothing_starts_and_unstarted_steps_end_not_run_once_nothing_runs() -> None:
    wf = ir_of(echo_step("a"), echo_step("b"), echo_step("c", after=["a"]), echo_step("d", after=["b"]))
    failing = done("a", F, message="connection reset", attempts=3)
    running = schedule(wf, {"a": failing, "b": done("b", R)}, ID)
    assert running.start == () and running.phase is WorkflowPhase.RUNNING
    assert phases(running) == {"a": "Failed", "b": "Running", "c": "Pending", "d": "Pending"}
    # b finishes: d is ready, but the workflow has failed, so it never starts.
    ended = schedule(wf, {"a": failing, "b": done("b", outputs={})}, ID)
    assert ended.start == ()
    assert phases(ended) == {"a": "Failed", "b": "Succeeded", "c": "Skipped", "d": "Skipped"}
    assert ended.status("d").message == NOT_RUN_WORKFLOW_FAILED
    assert ended.not_run == ("c", "d")
    assert (ended.phase, ended.message) == (WorkflowPhase.FAILED, "connection reset")


def test_the_workflow_message_is_the_first_failure() -> None:
    wf = ir_of(echo_step("a"), echo_step("b"), echo_step("c"))
    result = schedule(wf, {"a": done("a", F, at="2026-01-01T00:00:09Z", message="late"),
                           "b": done("b", F, at="2026-01-01T00:00:03Z", message="early"),
                           "c": done("c", outputs={})}, ID)
    assert (result.phase, result.message) == (WorkflowPhase.FAILED, "early")


def test_a_cancelled_step_stops_the_workflow_like_a_failure() -> None:
    wf = ir_of(echo_step("a"), echo_step("b", after=["a"]))
    result = schedule(wf, {"a": done("a", C, message="cancelled")}, ID)
    assert result.start == () and phases(result) == {"a": "Cancelled", "b": "Skipped"}
    assert result.phase is WorkflowPhase.FAILED


@pytest.mark.parametrize(("steps", "known"), [
    (CHAIN, {"a": done("a", outputs={"x": 1}), "b": done("b", outputs={}), "c": done("c", outputs={})}),
    ((echo_step("a"), echo_step("b", after=["a"], when=["$(steps.a.outputs.x) == 2"]), echo_step("c", after=["b"])),
     {"a": done("a", outputs={"x": 1}), "c": done("c", outputs={})}),
    ((echo_step("a", when=["1 == 2"]), echo_step("b", inputs={"y": "$(steps.a.outputs.x)"}),
      echo_step("c", after=["b"])), {}),
])
def test_the_workflow_succeeds_when_every_step_succeeded_or_was_skipped(steps: tuple[str, ...],
                                                                       known: dict[str, StepStatus]) -> None:
    result = schedule(ir_of(*steps), known, ID)
    assert (result.phase, result.message, result.start) == (WorkflowPhase.SUCCEEDED, None, ())


def test_skip_decisions_in_known_are_derived_again() -> None:
    wf = ir_of(*CHAIN)
    earlier = done("b", K, message="decided before")
    known = {"a": done("a", outputs={"x": 1}), "b": earlier}
    result = schedule(wf, known, ID)
    assert started(result) == {"b": {"y": 1}}  # a skip is not a fact: b has not started
    assert known["b"] is earlier and earlier.phase is K  # the caller's statuses are never mutated
    assert result.status("a") == known["a"] and result.status("a") is not known["a"]


def test_steps_stay_in_workflow_order_and_starts_in_dependency_order() -> None:
    wf = ir_of(echo_step("late", after=["early"]), echo_step("early"), echo_step("other"))
    assert [s.name for s in topological_order(wf)] == ["early", "late", "other"]
    result = schedule(wf, {"early": done("early", outputs={})}, ID)
    assert [s.name for s in result.steps] == ["late", "early", "other"]
    assert [s.step for s in result.start] == ["late", "other"]


def test_same_input_same_decision() -> None:
    wf = ir_of(*CHAIN, echo_step("d", when=["$(steps.a.outputs.x) == 2"]))
    known = {"a": done("a", outputs={"x": 1})}
    assert schedule(wf, known, ID) == schedule(wf, known, ID)


# -- properties over random DAGs --------------------------------------------------------------------

OUTCOMES = ("succeed", "fail", "skip")


@st.composite
def dags(draw: st.DrawFn) -> tuple[ir.Workflow, dict[str, str]]:
    count = draw(st.integers(1, 7))
    steps = []
    fate: dict[str, str] = {}
    for i in range(count):
        deps = draw(st.lists(st.integers(0, i - 1), unique=True, max_size=3)) if i else []
        outcome = draw(st.sampled_from(OUTCOMES))
        fate[f"s{i}"] = outcome
        uses = draw(st.booleans()) and deps
        inputs = {"v": f"$(steps.s{deps[0]}.outputs.v)"} if uses else {"v": i}
        guard = ["'go' == 'stop'"] if outcome == "skip" else []
        steps.append(ir.Step(
            name=f"s{i}", action_type="kubernaut/echo", image="img@sha256:" + "0" * 64, inputs=inputs,
            references=(ir.Ref(kind="step", step=f"s{deps[0]}", key="v"),) if uses else (),
            dependencies=tuple(f"s{d}" for d in deps),
            guards=(ir.Guard(source=guard[0], left_literal="go", op="==", values=("stop",)),) if guard else ()))
    return ir.Workflow(name="wf", namespace="ns", steps=tuple(steps)), fate


@given(dags(), st.randoms(use_true_random=False))
@settings(max_examples=300, deadline=None)
def test_driving_the_scheduler_to_the_end_keeps_every_rule(case: tuple[ir.Workflow, dict[str, str]],
                                                          rnd: Any) -> None:
    wf, fate = case
    known: dict[str, StepStatus] = {}
    started_at: dict[str, int] = {}
    finished_at: dict[str, int] = {}
    first_failure: int | None = None
    for clock in range(4 * len(wf.steps) + 4):
        result = schedule(wf, known, ID)
        for decided in result.steps:
            if decided.name not in known and decided.phase in (K, F):
                known[decided.name] = decided
                finished_at[decided.name] = clock
        for start in result.start:
            assert first_failure is None, "a step started after a failure"
            for dep in wf.step(start.step).dependencies:
                assert known[dep].phase in (S, K), "a step started before its dependencies completed"
            started_at[start.step] = clock
            known[start.step] = StepStatus(start.step, R, 1)
        if result.phase is not WorkflowPhase.RUNNING:
            break
        running = [n for n, s in known.items() if s.phase is R]
        # Finish a random non-empty subset of what runs (independent steps overlap).
        for name in rnd.sample(running, rnd.randint(1, len(running))) if running else []:
            failed = fate[name] == "fail"
            known[name] = dataclasses.replace(
                known[name], phase=F if failed else S, outputs=None if failed else {"v": name},
                message="boom" if failed else None, completion_time=f"2026-01-01T00:00:{clock:02d}Z")
            finished_at[name] = clock
            if failed and first_failure is None:
                first_failure = clock
    assert result.phase is not WorkflowPhase.RUNNING, "the workflow never ended"
    assert all(s.terminal for s in result.steps)
    assert (result.phase is WorkflowPhase.FAILED) == any(s.phase is F for s in result.steps)
    for step in wf.steps:
        status = result.status(step.name)
        if fate[step.name] == "skip" and status.phase is K and step.name not in started_at:
            message = status.message or ""
            assert message in ("when guard is false: 'go' == 'stop'", NOT_RUN_WORKFLOW_FAILED) or \
                message.startswith("outputs of skipped step")
