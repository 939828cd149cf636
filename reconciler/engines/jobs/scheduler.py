"""V1 scheduling decisions: a pure function from what is known about the steps to what happens next.

The V1 engine drives the DAG itself, so the runtime semantics of docs/architecture.md live here
(the Tekton engine gets the same behaviour from Tekton plus the meta-Task):

* a step starts when every dependency ended Succeeded or Skipped and no step has failed; its
  inputs are resolved *now*, from the outputs of the finished steps;
* a false guard skips it ("when guard is false: ..."); a reference (in a guard or an input) to
  an output of a skipped step skips it too ("outputs of skipped step S are missing") — skipping
  does not cascade by itself;
* any other resolution error (a missing output key) fails it without running it;
* once a step has failed nothing new starts; running steps finish; when nothing runs any more,
  the steps that never started end Skipped "not run: workflow failed";
* the workflow is Running while a step is pending or running, then Failed if a step failed
  (message: the first failure's message), else Succeeded.

Everything is a function of its arguments: ``known`` holds the statuses the cluster settled
(started steps as their ActionExecution reports them, and earlier decisions), so the same inputs
always give the same decisions — which is what makes a restarted controller continue exactly
where the old one stopped.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from compiler import ir
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

from ...status import NOT_RUN_WORKFLOW_FAILED, StepPhase, StepStatus, WorkflowPhase

__all__ = ["Identity", "Schedule", "Start", "expression_guard", "schedule", "topological_order"]

_DONE_OK = frozenset({StepPhase.SUCCEEDED, StepPhase.SKIPPED})
_STOPPING = frozenset({StepPhase.FAILED, StepPhase.CANCELLED})


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
    index = {step.name: i for i, step in enumerate(wf.steps)}
    waiting = {step.name: len(set(step.dependencies)) for step in wf.steps}
    dependents: dict[str, list[str]] = {step.name: [] for step in wf.steps}
    for step in wf.steps:
        for dep in set(step.dependencies):
            dependents[dep].append(step.name)
    ready = [index[name] for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[ir.Step] = []
    while ready:
        step = wf.steps[heapq.heappop(ready)]
        order.append(step)
        for name in dependents[step.name]:
            waiting[name] -= 1
            if waiting[name] == 0:
                heapq.heappush(ready, index[name])
    if len(order) != len(wf.steps):
        raise ValueError(f"workflow '{wf.name}' has a dependency cycle")  # the compiler rejects these
    return order


Decision = tuple[Literal["start"], dict[str, JSON]] | tuple[Literal["skip", "fail"], str]


def _where(path: tuple[str | int, ...]) -> str:
    return "inputs" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _decide(step: ir.Step, ctx: Context) -> Decision:
    for guard in step.guards:
        expr = expression_guard(guard)
        try:
            holds = evaluate_guard(expr, ctx)
        except ResolutionError as exc:
            return ("skip", exc.message) if exc.skipped_step else ("fail", exc.message)
        if not holds:
            return ("skip", skip_message(expr))
    try:
        inputs = resolve_inputs(step.inputs, ctx)
    except ResolutionError as exc:
        if exc.skipped_step:
            return ("skip", exc.message)
        # The same text the Tekton meta-Task's resolve-inputs step prints for it.
        return ("fail", f"{_where(exc.path)}: {exc.message}")
    assert isinstance(inputs, dict)  # inputs are a mapping in the IR, and resolution keeps shape
    return ("start", inputs)


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
    ActionExecution reports it (Running or final), or an earlier decision (Skipped, or Failed
    without running). Steps not in ``known`` have not started.
    """
    statuses = {step.name: dataclasses.replace(known[step.name]) if step.name in known else StepStatus(step.name)
                for step in wf.steps}
    failed = any(s.phase in _STOPPING for s in statuses.values())
    outputs: dict[str, dict[str, JSON]] = {
        name: dict(s.outputs or {}) for name, s in statuses.items() if s.phase is StepPhase.SUCCEEDED}
    skipped = {name for name, s in statuses.items() if s.phase is StepPhase.SKIPPED}
    starts: list[Start] = []
    for step in topological_order(wf):
        if step.name in known or failed:
            continue
        if not all(statuses[dep].phase in _DONE_OK for dep in step.dependencies):
            continue  # waiting for a dependency (or one started in this very pass)
        ctx = Context(outputs=outputs, workflow_name=identity.name, workflow_namespace=identity.namespace,
                      workflow_uid=identity.uid, skipped=frozenset(skipped))
        decision = _decide(step, ctx)
        current = statuses[step.name]
        if decision[0] == "start":
            starts.append(Start(step.name, decision[1]))
            current.phase = StepPhase.RUNNING
        elif decision[0] == "skip":
            current.phase, current.message = StepPhase.SKIPPED, decision[1]
            skipped.add(step.name)
        else:
            current.phase, current.message = StepPhase.FAILED, decision[1]
            failed = True
    if failed and starts:
        # A failure decided in this pass stops the steps that became ready with it.
        for start in starts:
            statuses[start.step].phase = StepPhase.PENDING
        starts = []
    ordered = [statuses[step.name] for step in wf.steps]
    not_run: list[str] = []
    if failed and not any(s.phase is StepPhase.RUNNING for s in ordered):
        for s in ordered:
            if s.phase is StepPhase.PENDING:
                s.phase, s.message = StepPhase.SKIPPED, NOT_RUN_WORKFLOW_FAILED
                not_run.append(s.name)
    if any(not s.terminal for s in ordered):
        phase, message = WorkflowPhase.RUNNING, None
    elif failed:
        phase, message = WorkflowPhase.FAILED, _failure_message(ordered)
    else:
        phase, message = WorkflowPhase.SUCCEEDED, None
    return Schedule(tuple(ordered), tuple(starts), tuple(not_run), phase, message)
