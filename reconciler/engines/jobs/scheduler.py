"""V1 scheduling decisions: a pure function from what is known about the steps to what happens next.

The V1 engine drives the DAG itself, so the runtime semantics of docs/architecture.md live here.
The Tekton engine gets them from Tekton, so skipping reproduces Tekton's ``skip`` decisions
(``ResolvedPipelineTask.skip``; the simulation's ``reconciler.simulation.tekton.facts``) rule for
rule, in its order, for every step that has not started:

1. a step has failed (the run is "stopping") → "not run: workflow failed";
2. its dependencies are done and a guard is false → "when guard is false: <guard>". A guard
   reading a skipped step's output is unresolvable and compares unequal to every literal
   (``==``/``in`` false, ``!=``/``notin`` true); and if *any* step-output reference of the step
   (inputs or guards) points at a skipped step, *all* its guard references are unresolvable —
   Tekton resolves a task's result references all or nothing;
3. a dependency was skipped for any reason but its own false guard → "a step it depends on was
   skipped: <dependency>" (Tekton decides this without waiting for the other dependencies);
4. its dependencies are done and it reads outputs of a guard-skipped step → "outputs of skipped
   step '<s>' are missing";
5. its dependencies are done: it starts, its inputs resolved *now* from the outputs of the
   finished steps (a reference that still cannot be resolved fails it without running it).

A step skipped only by its own guard does not stop a dependent that does not read its outputs.
Like Tekton, every skip is derived again on every call from the facts — which steps started,
their phases and the outputs of the succeeded ones — never remembered: so the decisions are the
same whatever happened in between, and a later fact may change one (a step skipped by rule 3
while another dependency ran may run once that dependency is done and makes its guard decide).

Once a step has failed, nothing new starts and running steps finish; the steps rule 1 applies to
stay Pending until nothing runs any more, then end Skipped "not run: workflow failed" (what the
V2 engine shows for Tekton's "PipelineRun was stopping" as well). The workflow is Running while
a step is pending or running, then Failed if a step failed (message: the first failure's
message), else Succeeded.

``known`` holds what the cluster settled: started steps as their ActionExecution reports them,
and steps failed without running. Skipped entries in it are earlier decisions, re-derived here.
Since the same facts always give the same decisions, a restarted controller continues exactly
where the old one stopped.
"""

from __future__ import annotations

import enum
import functools
import heapq
from collections.abc import Mapping
from dataclasses import dataclass

from compiler import ir
from compiler.contracts.constraints import check_inputs, declared_only, problems_message
from compiler.expressions import (
    JSON,
    Context,
    Guard,
    Reference,
    ResolutionError,
    evaluate_guard,
    resolve_inputs,
    skip_message,
)
from compiler.expressions import Literal as LiteralOperand

from ...failures import FailureReason, StepFailure
from ...status import (
    NOT_RUN_WORKFLOW_FAILED,
    SKIPPED_DEPENDENCY,
    SKIPPED_OUTPUTS_MISSING,
    StepPhase,
    StepStatus,
    WorkflowPhase,
)

__all__ = [
    "Identity",
    "Schedule",
    "Skip",
    "SkipReason",
    "Start",
    "expression_guard",
    "read_steps",
    "schedule",
    "skip_decisions",
    "topological_order",
]

_STOPPING = frozenset({StepPhase.FAILED, StepPhase.CANCELLED})
# Phases of a step that has started (or failed without running): facts, never re-decided.
_STARTED = frozenset({StepPhase.RUNNING, StepPhase.SUCCEEDED, StepPhase.FAILED, StepPhase.CANCELLED})
# Operators that hold when the left side cannot be resolved (it equals no literal).
_HOLD_WHEN_UNRESOLVED = frozenset({"!=", "notin"})


@dataclass(frozen=True)
class Identity:
    """``$(workflow.name)``, ``$(workflow.namespace)`` and ``$(workflow.uid)``."""

    name: str
    namespace: str
    uid: str


@dataclass(frozen=True)
class Start:
    """Start ``step`` with these resolved inputs."""

    step: str
    inputs: dict[str, JSON]


class SkipReason(enum.Enum):
    """Tekton's skipping reasons that kubernaut's rules reproduce, in the order they are checked."""

    STOPPING = "PipelineRun was stopping"
    GUARD = "When Expressions evaluated to false"
    DEPENDENCY = "Parent Tasks were skipped"
    MISSING_OUTPUTS = "Results were missing"


@dataclass(frozen=True)
class Skip:
    """Why a step that has not started is skipped, and its status message."""

    reason: SkipReason
    message: str


@dataclass(frozen=True)
class _Fail:
    """The step cannot start: a reference cannot be resolved (the producer kept its promise on
    both engines, so this guards against records written without ``requiredOutputs``)."""

    message: str


@dataclass(frozen=True)
class Schedule:
    steps: tuple[StepStatus, ...]  # workflow order; started steps are Running
    start: tuple[Start, ...]  # steps to start now, in topological order
    not_run: tuple[str, ...]  # steps ended Skipped because the workflow failed
    phase: WorkflowPhase  # Running, Succeeded or Failed
    message: str | None = None

    def status(self, name: str) -> StepStatus:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)


def expression_guard(guard: ir.Guard) -> Guard:
    """The IR's guard as the expression runtime evaluates it (no re-parsing)."""
    left: Reference | LiteralOperand
    if guard.left_ref is not None:
        ref = guard.left_ref
        left = Reference(ref.kind, ref.step, ref.key)
    else:
        left = LiteralOperand(guard.left_literal)
    return Guard(guard.source, left, guard.op, tuple(guard.values))


def topological_order(wf: ir.Workflow) -> list[ir.Step]:
    """Steps with every dependency first; among ready steps, workflow order (Kahn's algorithm)."""
    order = _kahn(tuple((step.name, step.dependencies) for step in wf.steps))
    if order is None:
        raise ValueError(f"workflow '{wf.name}' has a dependency cycle")  # the compiler rejects these
    return [wf.steps[i] for i in order]


# Memoised by the graph itself (names and dependencies, immutable): every reconcile of every
# workflow schedules, twice when a step starts, and workflows made from one template share a graph.
@functools.lru_cache(maxsize=256)
def _kahn(graph: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[int, ...] | None:
    """The positions of ``graph``'s steps in topological order, or None for a cycle."""
    index = {name: i for i, (name, _) in enumerate(graph)}
    waiting = {name: len(set(deps)) for name, deps in graph}
    dependents: dict[str, list[str]] = {name: [] for name, _ in graph}
    for name, deps in graph:
        for dep in set(deps):
            dependents[dep].append(name)
    ready = [index[name] for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        position = heapq.heappop(ready)
        order.append(position)
        for name in dependents[graph[position][0]]:
            waiting[name] -= 1
            if waiting[name] == 0:
                heapq.heappush(ready, index[name])
    return tuple(order) if len(order) == len(graph) else None


def read_steps(step: ir.Step) -> list[str]:
    """The steps whose outputs ``step`` reads, each once: its guards' first, then its inputs'.
    The first guard-skipped one of them is named by rule 4 (the V2 engine names the same)."""
    refs = [g.left_ref for g in step.guards if g.left_ref is not None] + list(step.references)
    return list(dict.fromkeys(r.step for r in refs if r.kind == "step" and r.step is not None))


def _where(path: tuple[str | int, ...]) -> str:
    return "inputs" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _false_guard(step: ir.Step, ctx: Context, unresolved: bool) -> Guard | None:
    """The first guard that does not hold (Tekton's ``when`` evaluation), or None.

    ``unresolved``: a reference of the step points at a skipped step, so no step-output
    reference of its guards is resolved. Raises ResolutionError for a key the producer lacks."""
    for guard in step.guards:
        expr = expression_guard(guard)
        ref = guard.left_ref
        if unresolved and ref is not None and ref.kind == "step":
            # Tekton compares the literal "$(tasks...)" text, which equals no value.
            holds = guard.op in _HOLD_WHEN_UNRESOLVED
        else:
            holds = evaluate_guard(expr, ctx)
        if not holds:
            return expr
    return None


Decision = Start | Skip | _Fail | None  # None: waits for a dependency


def _decide(step: ir.Step, phases: Mapping[str, StepPhase], skips: Mapping[str, Skip], ctx: Context,
            contract: ir.ContractInfo | None = None) -> Decision:
    """Rules 2-5 for one step that has not started, while no step has failed."""
    done = all(dep in skips or phases.get(dep) is StepPhase.SUCCEEDED for dep in step.dependencies)
    read = read_steps(step)
    if done:
        try:
            guard = _false_guard(step, ctx, unresolved=any(s in skips for s in read))
        except ResolutionError as exc:
            return _Fail(exc.message)
        if guard is not None:
            return Skip(SkipReason.GUARD, skip_message(guard))
    for dep in step.dependencies:
        if dep in skips and skips[dep].reason is not SkipReason.GUARD:
            return Skip(SkipReason.DEPENDENCY, SKIPPED_DEPENDENCY.format(step=dep))
    if not done:
        return None
    # Every skipped step read here was skipped by its guard (rule 3 took the others).
    producer = next((s for s in read if s in skips), None)
    if producer is not None:
        return Skip(SkipReason.MISSING_OUTPUTS, SKIPPED_OUTPUTS_MISSING.format(step=producer))
    try:
        inputs = resolve_inputs(step.inputs, ctx)
    except ResolutionError as exc:
        # The same text the Tekton meta-Task's resolve-inputs step prints for it.
        return _Fail(f"{_where(exc.path)}: {exc.message}")
    assert isinstance(inputs, dict)  # inputs are a mapping in the IR, and resolution keeps shape
    if contract is not None:
        # Values that came from references meet the contract's constraints only now: checked
        # before the step's pod exists, with the function the compiler uses for literals (the
        # Tekton resolve-inputs step gives the same message). Undeclared inputs never go on.
        problems = check_inputs(contract, inputs)
        if problems:
            return _Fail(problems_message(step.name, step.action_type, problems))
        inputs = declared_only(contract, inputs)
    return Start(step.name, inputs)


def _decide_all(wf: ir.Workflow, known: Mapping[str, StepStatus], identity: Identity) -> dict[str, Decision]:
    """A decision for every step that has not started, in topological order."""
    phases = {name: s.phase for name, s in known.items() if s.phase in _STARTED}
    outputs = {name: dict(known[name].outputs or {}) for name, phase in phases.items()
               if phase is StepPhase.SUCCEEDED}
    ctx = Context(outputs=outputs, workflow_name=identity.name, workflow_namespace=identity.namespace,
                  workflow_uid=identity.uid)
    order = [step for step in topological_order(wf) if step.name not in phases]
    if any(phase in _STOPPING for phase in phases.values()):
        return {step.name: Skip(SkipReason.STOPPING, NOT_RUN_WORKFLOW_FAILED) for step in order}
    decisions: dict[str, Decision] = {}
    skips: dict[str, Skip] = {}
    for step in order:
        decision = _decide(step, phases, skips, ctx, wf.contracts.get(step.action_type))
        if isinstance(decision, _Fail):
            # Like Tekton's failed result validation: nothing of this pass starts, and every
            # other step is now decided by rule 1.
            stopped: dict[str, Decision] = {s.name: Skip(SkipReason.STOPPING, NOT_RUN_WORKFLOW_FAILED)
                                            for s in order}
            stopped[step.name] = decision
            return stopped
        decisions[step.name] = decision
        if isinstance(decision, Skip):
            skips[step.name] = decision
    return decisions


def skip_decisions(wf: ir.Workflow, known: Mapping[str, StepStatus], identity: Identity) -> dict[str, Skip]:
    """Why each step that has not started is skipped (steps not listed start or wait): the
    decisions of Tekton's ``skip`` for the same facts. A pure function of the started steps in
    ``known``, their phases and the outputs of the succeeded ones."""
    return {name: d for name, d in _decide_all(wf, known, identity).items() if isinstance(d, Skip)}


def _failure_message(statuses: list[StepStatus]) -> str | None:
    failed = [(s.completion_time or "", i, s) for i, s in enumerate(statuses) if s.phase in _STOPPING]
    if not failed:
        return None
    # Earliest failure first; failures decided without running (no completion time) happen
    # before anything else could fail, since a failure stops new decisions.
    _, _, first = min(failed, key=lambda item: (item[0], item[1]))
    return first.message or f"step '{first.name}' {first.phase.value.lower()}"


def schedule(wf: ir.Workflow, known: Mapping[str, StepStatus], identity: Identity) -> Schedule:
    """Decide what happens next (see the module docstring).

    ``known`` maps step names to settled statuses: a started step's status as its
    ActionExecution reports it (Running or final), or a step failed without running. Steps not
    in ``known``, or known only as Skipped (an earlier decision), have not started.
    """
    decisions = _decide_all(wf, known, identity)
    running = any(s.phase is StepPhase.RUNNING for s in known.values())
    statuses: dict[str, StepStatus] = {}
    # Decisions are made in topological order, and so are the starts.
    starts = [d for d in decisions.values() if isinstance(d, Start)]
    not_run: list[str] = []
    for step in wf.steps:
        name = step.name
        decision = decisions.get(name)
        if name not in decisions:
            statuses[name] = known[name].copy()  # started: the caller's copy is never mutated
        elif isinstance(decision, Start):
            statuses[name] = StepStatus(name, StepPhase.RUNNING)
        elif isinstance(decision, _Fail):
            statuses[name] = StepStatus(name, StepPhase.FAILED, message=decision.message,
                                        failure=StepFailure.of(FailureReason.INVALID_INPUTS, decision.message))
        elif isinstance(decision, Skip) and decision.reason is SkipReason.STOPPING:
            # Running steps finish first; then what never started is written off.
            if running:
                statuses[name] = StepStatus(name)
            else:
                statuses[name] = StepStatus(name, StepPhase.SKIPPED, message=decision.message)
                not_run.append(name)
        elif isinstance(decision, Skip):
            statuses[name] = StepStatus(name, StepPhase.SKIPPED, message=decision.message)
        else:
            statuses[name] = StepStatus(name)
    ordered = [statuses[step.name] for step in wf.steps]
    failed = any(s.phase in _STOPPING for s in ordered)
    if any(not s.terminal for s in ordered):
        phase, message = WorkflowPhase.RUNNING, None
    elif failed:
        phase, message = WorkflowPhase.FAILED, _failure_message(ordered)
    else:
        phase, message = WorkflowPhase.SUCCEEDED, None
    return Schedule(tuple(ordered), tuple(starts), tuple(not_run), phase, message)
