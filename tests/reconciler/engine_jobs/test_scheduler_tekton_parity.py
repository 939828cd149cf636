"""The V1 scheduler decides exactly what Tekton decides.

Random small workflows (dependencies, input references, guards of every operator on outputs,
literals and the workflow's identity) are compiled once with the real front end and the tekton
target. Then both sides are driven in lockstep through the same random run — which steps finish
when, with which outputs, and which fail:

* V1: :func:`~reconciler.engines.jobs.scheduler.schedule` and ``skip_decisions`` on the step
  statuses the engine would pass;
* Tekton: the simulation's ``PipelineFacts`` (Tekton's ``skip``, ``when`` and result resolution)
  on the Pipeline's tasks and fabricated TaskRuns, whose results ``publish-outputs`` computes.

After every change both must agree on which steps start (with the same resolved inputs), which
are skipped and why, and the messages V1 writes must name what Tekton's facts imply.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import ir
from compiler.contracts import load_catalog
from compiler.expressions import skip_message
from compiler.frontend import compile_source
from reconciler.engines.jobs.scheduler import (
    Identity,
    SkipReason,
    expression_guard,
    read_steps,
    schedule,
    skip_decisions,
)
from reconciler.simulation.tekton import conditions as c
from reconciler.simulation.tekton.dag import Graph, build_graph
from reconciler.simulation.tekton.facts import PipelineFacts
from reconciler.simulation.tekton.params import (
    Replacements,
    apply_to_param_values,
    apply_to_when,
    param_values,
)
from reconciler.status import (
    NOT_RUN_WORKFLOW_FAILED,
    SKIPPED_DEPENDENCY,
    SKIPPED_OUTPUTS_MISSING,
    StepPhase,
    StepStatus,
    WorkflowPhase,
)
from targets.tekton import interface as i
from targets.tekton import pipeline_manifests, runtime

CATALOG = load_catalog()[0]
NS, UID = "ns", "uid-1"
IMAGE = "ghcr.io/kubernaut/actions/thing@sha256:" + "c" * 64
KEYS = ("k", "m")
VALUES = ("a", "b")
TEKTON_REASON = {
    SkipReason.STOPPING: c.SKIP_STOPPING,
    SkipReason.GUARD: c.SKIP_WHEN,
    SkipReason.DEPENDENCY: c.SKIP_PARENT,
    SkipReason.MISSING_OUTPUTS: c.SKIP_MISSING_RESULTS,
}


# -- random workflows ----------------------------------------------------------------------------


@st.composite
def guards(draw: st.DrawFn, earlier: list[int]) -> str:
    kinds = ["step", "step", "step", "literal", "workflow"] if earlier else ["literal", "workflow"]
    kind = draw(st.sampled_from(kinds))
    if kind == "step":
        left = f"$(steps.s{draw(st.sampled_from(earlier))}.outputs.{draw(st.sampled_from(KEYS))})"
    elif kind == "literal":
        left = f"'{draw(st.sampled_from(VALUES))}'"
    else:
        left = "$(workflow.name)"
    op = draw(st.sampled_from(["==", "!=", "in", "notin"]))
    if op in ("==", "!="):
        return f"{left} {op} '{draw(st.sampled_from([*VALUES, 'wf']))}'"
    values = draw(st.lists(st.sampled_from([*VALUES, "wf"]), min_size=1, max_size=2, unique=True))
    return f"{left} {op} [{', '.join(repr(v) for v in values)}]"


@st.composite
def workflows(draw: st.DrawFn) -> str:
    """A workflow document: up to 7 steps, each with random declared dependencies, input
    references (whole or interpolated) and guards on earlier steps."""
    steps = []
    for index in range(draw(st.integers(1, 7))):
        earlier = list(range(index))
        step: dict[str, Any] = {"name": f"s{index}", "actionType": "custom/thing", "image": IMAGE}
        after = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=2)) if earlier else []
        if after:
            step["runAfter"] = [f"s{d}" for d in after]
        inputs: dict[str, Any] = {"n": index}
        for position, source in enumerate(draw(st.lists(st.sampled_from(earlier), max_size=2)) if earlier else []):
            ref = f"$(steps.s{source}.outputs.{draw(st.sampled_from(KEYS))})"
            inputs[f"r{position}"] = ref if draw(st.booleans()) else f"x-{ref}"
        step["inputs"] = inputs
        when = draw(st.lists(guards(earlier), max_size=2))
        if when:
            step["when"] = when
        steps.append(step)
    doc = {"apiVersion": "workflowexecution.kubernaut.ai/v1alpha1", "kind": "WorkflowExecution",
           "metadata": {"name": "wf", "namespace": NS}, "spec": {"steps": steps}}
    return yaml.safe_dump(doc, sort_keys=False)


# -- the Tekton side -----------------------------------------------------------------------------


@dataclass
class TektonSide:
    """The Pipeline's tasks as the PipelineRun controller sees them (params and context
    substituted) and the TaskRuns so far (None: not created)."""

    tasks: list[dict[str, Any]]
    graph: Graph
    taskruns: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    @classmethod
    def of(cls, wf: ir.Workflow) -> TektonSide:
        _, pipeline, pipeline_run = pipeline_manifests(wf)
        tasks = [dict(t) for t in pipeline["spec"]["tasks"]]
        params = param_values(pipeline["spec"]["params"], pipeline_run["spec"]["params"])
        context = Replacements({"context.pipelineRun.name": wf.name, "context.pipelineRun.namespace": NS,
                                "context.pipelineRun.uid": UID})
        for repl in (params, context):  # the order of PipelineRunSimulator._prepare
            for task in tasks:
                task["params"] = apply_to_param_values(task.get("params") or [], repl)
                if task.get("when"):
                    task["when"] = apply_to_when(task["when"], repl)
        return cls(tasks, build_graph(tasks), {t["name"]: None for t in tasks})

    def facts(self) -> PipelineFacts:
        return PipelineFacts(self.tasks, self.taskruns, self.graph)

    def param(self, task: str, name: str) -> Any:
        params = {p["name"]: p["value"] for p in next(t for t in self.tasks if t["name"] == task)["params"]}
        return params.get(name, [])


def taskrun(name: str, state: str, results: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    reason = {"Unknown": c.TR_REASON_RUNNING, "True": c.TR_REASON_SUCCEEDED, "False": c.TR_REASON_FAILED}[state]
    status: dict[str, Any] = {"conditions": [{"type": c.SUCCEEDED, "status": state, "reason": reason}]}
    if results is not None:
        status["results"] = results
    return {"metadata": {"name": f"wf-{name}"}, "spec": {}, "status": status}


def published(side: TektonSide, name: str, outputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The results of a succeeded attempt, as ``publish-outputs`` writes them for this task."""
    text, values = runtime.publish(json.dumps(outputs), side.param(name, i.PARAM_GUARD_KEYS), name,
                                   side.param(name, i.PARAM_REQUIRED_OUTPUTS))
    return [{"name": i.RESULT_OUTPUTS, "type": "string", "value": text},
            {"name": i.RESULT_GUARD_VALUES, "type": "array", "value": values}]


def tekton_inputs(side: TektonSide, facts: PipelineFacts, name: str) -> Any:
    """The inputs ``resolve-inputs`` computes from the TaskRun's params."""
    params = {p["name"]: p["value"] for p in facts.effective_task(name)["params"]}
    upstream = runtime.upstream_results(params.get(i.PARAM_UPSTREAM_STEPS, []),
                                        params.get(i.PARAM_UPSTREAM_OUTPUTS, []))
    identity = runtime.WorkflowIdentity(params[i.PARAM_WORKFLOW_NAME], params[i.PARAM_WORKFLOW_NAMESPACE],
                                        params[i.PARAM_WORKFLOW_UID])
    return runtime.resolve_step_inputs(params[i.PARAM_INPUTS], upstream, identity)


# -- what V1's messages must say, from Tekton's facts ---------------------------------------------


def expected_message(step: ir.Step, facts: PipelineFacts) -> str:
    reason = facts.skip(step.name)
    if reason == c.SKIP_STOPPING:
        return NOT_RUN_WORKFLOW_FAILED
    if reason == c.SKIP_WHEN:
        # The first guard whose when expression (as Tekton resolved it) does not hold.
        expressions = facts.effective_task(step.name)["when"]
        for guard, expression in zip(step.guards, expressions, strict=True):
            holds = expression["input"] in expression["values"]
            if holds == (expression["operator"] == "notin"):
                return skip_message(expression_guard(guard))
        raise AssertionError(f"{step.name}: skipped by when, but every expression holds")
    if reason == c.SKIP_PARENT:
        dep = next(d for d in step.dependencies if facts.skip(d) not in (None, c.SKIP_WHEN))
        return SKIPPED_DEPENDENCY.format(step=dep)
    assert reason == c.SKIP_MISSING_RESULTS, reason
    producer = next(s for s in read_steps(step) if facts.skip(s) == c.SKIP_WHEN)
    return SKIPPED_OUTPUTS_MISSING.format(step=producer)


# -- driving both ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fate:
    """How a step's attempt ends: failed, or succeeded with these outputs."""

    failed: bool
    outputs: dict[str, str]


def run_both(wf: ir.Workflow, fates: Mapping[str, Fate], rnd: random.Random) -> tuple[dict[str, StepStatus],
                                                                                       PipelineFacts]:
    identity = Identity(wf.name, NS, UID)
    side = TektonSide.of(wf)
    known: dict[str, StepStatus] = {}
    result = schedule(wf, known, identity)
    for _ in range(3 * len(wf.steps) + 3):
        result = schedule(wf, known, identity)
        facts = side.facts()
        queue = facts.execution_queue()
        # The producer's promise: Tekton never meets a missing result.
        assert not facts.check_missing_results(queue)
        tekton_starts = [t for t in queue if facts.skip(t) is None]
        assert sorted(s.step for s in result.start) == sorted(tekton_starts)
        skips = skip_decisions(wf, known, identity)
        for step in wf.steps:
            skip = skips.get(step.name)
            assert (TEKTON_REASON[skip.reason] if skip else None) == facts.skip(step.name), step.name
            if skip is not None:
                assert skip.message == expected_message(step, facts), step.name
        for start in result.start:
            assert start.inputs == tekton_inputs(side, facts, start.step), start.step
        # Both engines show a run as finished at the same moment.
        assert (result.phase is WorkflowPhase.RUNNING) == (facts.counts().incomplete > 0)
        if result.phase is not WorkflowPhase.RUNNING:
            return {s.name: s for s in result.steps}, facts
        for start in result.start:
            known[start.step] = StepStatus(start.step, StepPhase.RUNNING, 1)
            side.taskruns[start.step] = taskrun(start.step, "Unknown")
        running = sorted(n for n, s in known.items() if s.phase is StepPhase.RUNNING)
        assert running, "nothing runs and nothing starts, yet the workflow has not ended"
        for name in rnd.sample(running, rnd.randint(1, len(running))):
            fate = fates[name]
            if fate.failed:
                known[name] = StepStatus(name, StepPhase.FAILED, 1, message="boom")
                side.taskruns[name] = taskrun(name, "False")
            else:
                known[name] = StepStatus(name, StepPhase.SUCCEEDED, 1, outputs=dict(fate.outputs))
                side.taskruns[name] = taskrun(name, "True", published(side, name, fate.outputs))
    raise AssertionError(f"the workflow never ended: {result}")


def lower(source: str) -> ir.Workflow:
    compiled = compile_source("random.yaml", source.encode(), CATALOG)
    errors = [d.headline() for d in compiled.diagnostics if d.is_error]
    assert not errors, errors
    (wf,) = compiled.workflows
    return wf


fates = st.builds(Fate, failed=st.integers(0, 7).map(lambda n: n == 0),
                  outputs=st.fixed_dictionaries({k: st.sampled_from(VALUES) for k in KEYS}))


@given(workflows(), st.lists(fates, min_size=7, max_size=7), st.randoms(use_true_random=False))
@settings(max_examples=400, deadline=None)
def test_v1_decides_exactly_what_tekton_decides(source: str, drawn: list[Fate], rnd: random.Random) -> None:
    wf = lower(source)
    steps, facts = run_both(wf, {s.name: drawn[n] for n, s in enumerate(wf.steps)}, rnd)
    for step in wf.steps:
        status = steps[step.name]
        if facts.taskrun(step.name) is None:
            assert status.phase is StepPhase.SKIPPED, step.name
            assert status.message == expected_message(step, facts), step.name
        else:
            assert status.phase is (StepPhase.SUCCEEDED if facts.successful(step.name) else StepPhase.FAILED)


def test_the_random_workflows_exercise_every_rule() -> None:
    """The property above is only as good as its examples: every Tekton reason occurs."""
    seen: set[str] = set()

    @given(workflows(), st.lists(fates, min_size=7, max_size=7), st.randoms(use_true_random=False))
    @settings(max_examples=400, deadline=None)
    def collect(source: str, drawn: list[Fate], rnd: random.Random) -> None:
        wf = lower(source)
        _, facts = run_both(wf, {s.name: drawn[n] for n, s in enumerate(wf.steps)}, rnd)
        seen.update(str(facts.skip(s.name)) for s in wf.steps)

    collect()
    assert {c.SKIP_STOPPING, c.SKIP_WHEN, c.SKIP_PARENT, c.SKIP_MISSING_RESULTS} <= seen


def test_a_hand_written_case_agrees_too() -> None:
    """The interplay the random cases hit: an all-or-nothing guard, a cascade and rule 4."""
    wf = lower(yaml.safe_dump({
        "apiVersion": "workflowexecution.kubernaut.ai/v1alpha1", "kind": "WorkflowExecution",
        "metadata": {"name": "wf", "namespace": NS},
        "spec": {"steps": [
            {"name": "s0", "actionType": "custom/thing", "image": IMAGE, "inputs": {}},
            {"name": "s1", "actionType": "custom/thing", "image": IMAGE, "inputs": {},
             "when": ["$(steps.s0.outputs.k) == 'b'"]},
            {"name": "s2", "actionType": "custom/thing", "image": IMAGE,
             "inputs": {"v": "$(steps.s1.outputs.k)"}, "when": ["$(steps.s0.outputs.k) == 'a'"]},
            {"name": "s3", "actionType": "custom/thing", "image": IMAGE, "inputs": {"v": "$(steps.s1.outputs.m)"}},
            {"name": "s4", "actionType": "custom/thing", "image": IMAGE, "inputs": {}, "runAfter": ["s3"]},
            {"name": "s5", "actionType": "custom/thing", "image": IMAGE, "inputs": {}, "runAfter": ["s1"]},
        ]}}))
    outputs = {"k": "a", "m": "a"}
    steps, facts = run_both(wf, {s.name: Fate(False, outputs) for s in wf.steps}, random.Random(1))
    assert {n: (s.phase.value, s.message) for n, s in steps.items()} == {
        "s0": ("Succeeded", None),
        "s1": ("Skipped", "when guard is false: $(steps.s0.outputs.k) == 'b'"),
        # s0 printed k = a, so `== 'a'` would hold, but s2 also reads skipped s1: unresolved.
        "s2": ("Skipped", "when guard is false: $(steps.s0.outputs.k) == 'a'"),
        "s3": ("Skipped", "outputs of skipped step 's1' are missing"),
        "s4": ("Skipped", "a step it depends on was skipped: s3"),
        "s5": ("Succeeded", None),
    }
    assert [facts.skip(n) for n in ("s1", "s2", "s3", "s4")] == [
        c.SKIP_WHEN, c.SKIP_WHEN, c.SKIP_MISSING_RESULTS, c.SKIP_PARENT]
