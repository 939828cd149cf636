"""From a PipelineRun and its TaskRuns to kubernaut's status: per-step statuses and the phase.

Pure functions of what the engine read, so the same cluster state always maps to the same
status (level-triggered, restart-safe). The mapping is chosen so that users and tools cannot
tell V2 from V1 except by ``status.engine`` (docs/engines.md has the table):

* a step with a TaskRun takes its phase from the TaskRun's ``Succeeded`` condition, its attempts
  from ``retriesStatus``, its outputs from the ``outputs`` result;
* a skipped task (``status.skippedTasks``) gets the message V1 writes for the same rule of
  docs/architecture.md ("when guard is false: ...", "a step it depends on was skipped: ...",
  "outputs of skipped step '...' are missing", "not run: workflow failed");
* Tekton marks every unstarted task "PipelineRun was stopping" the moment a task fails, while
  V1 writes "not run: workflow failed" only once nothing runs any more: those steps stay
  Pending until then, so even the intermediate statuses agree;
* the workflow fails with the earliest step failure's message, as V1's scheduler does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler import ir
from compiler.expressions import Guard, Literal, Reference, skip_message
from compiler.values import parse_duration
from targets.common.failures import failure_text
from targets.tekton import interface as i
from targets.tekton.runtime import TaskError, decode_outputs

from ...cluster import JsonObject
from ...failures import FailureReason, StepFailure, action_failure, timeout_message, waiting_failure
from ...status import (
    NOT_RUN_CANCELLED,
    NOT_RUN_WORKFLOW_FAILED,
    SKIPPED_DEPENDENCY,
    SKIPPED_OUTPUTS_MISSING,
    StepPhase,
    StepStatus,
    WorkflowPhase,
)
from . import vocabulary as t

__all__ = [
    "CANCELLED_MESSAGE",
    "Observed",
    "completed_tasks",
    "condition_state",
    "failure_message",
    "run_finished",
    "skipped_step_status",
    "step_from_taskrun",
    "step_statuses",
    "workflow_outcome",
]

#: What V1 writes on a step whose running attempt was cancelled (the ActionExecution controller's).
CANCELLED_MESSAGE = "cancelled"
_ACTION_STEP = f"step-{i.STEP_EXECUTE}"
_OOM_KILLED = "OOMKilled"
_STOPPING_PHASES = frozenset({StepPhase.FAILED, StepPhase.CANCELLED})


@dataclass(frozen=True)
class Observed:
    """What the engine read for one workflow: its PipelineRun (None until created), the TaskRuns
    it read by step name, and the steps it did not need to read again because the stored status
    already records them as finished from a TaskRun (a finished TaskRun never changes)."""

    pipelinerun: JsonObject | None
    taskruns: Mapping[str, JsonObject] = field(default_factory=dict)
    finished: Mapping[str, StepStatus] = field(default_factory=dict)


# -- conditions ----------------------------------------------------------------------------------


def _condition(obj: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    for condition in ((obj or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") == t.SUCCEEDED:
            return condition
    return None


def condition_state(obj: Mapping[str, Any] | None) -> tuple[str, str, str]:
    """``(status, reason, message)`` of the ``Succeeded`` condition; ``Unknown`` when there is none."""
    condition = _condition(obj)
    if condition is None:
        return "Unknown", "", ""
    return (str(condition.get("status") or "Unknown"), str(condition.get("reason") or ""),
            str(condition.get("message") or ""))


def run_finished(obj: Mapping[str, Any] | None) -> bool:
    """Tekton's ``IsDone``."""
    return condition_state(obj)[0] in ("True", "False")


_COMPLETED = re.compile(r"\bTasks Completed: (\d+)\b")


def completed_tasks(pr: Mapping[str, Any] | None) -> int | None:
    """How many of its tasks a PipelineRun counts as finished (succeeded, failed or cancelled),
    from its condition's message (Tekton writes "Tasks Completed: N (Failed: F, Cancelled C),
    Skipped: S"): 0 before it has a condition, None when the message does not say."""
    condition = _condition(pr)
    if condition is None:
        return 0
    match = _COMPLETED.search(str(condition.get("message") or ""))
    return int(match.group(1)) if match else None


# -- steps with a TaskRun ------------------------------------------------------------------------------


def _seconds_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _timeout_seconds(taskrun: Mapping[str, Any], step: ir.Step) -> float:
    """The attempt timeout the TaskRun ran with (Go duration), else the step's."""
    text = (taskrun.get("spec") or {}).get("timeout")
    seconds, _ = parse_duration(text) if isinstance(text, str) and text else (None, None)
    return seconds if seconds is not None else float(step.timeout_seconds)


def _failed_step(attempt: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The state of the step that failed the attempt (the first non-zero exit not skipped)."""
    for state in attempt.get("steps") or []:
        terminated = state.get("terminated") or {}
        if terminated.get("exitCode") and state.get("terminationReason") != "Skipped":
            return state
    return None


def _failure_result(attempt: Mapping[str, Any], state: Mapping[str, Any]) -> str:
    """The ``failure`` result the failed step wrote: from ``status.results`` if Tekton copied it,
    else from the step's ``terminated.message`` (Tekton keeps a failed TaskRun's results out of
    ``status.results``, tektoncd/pipeline#3439; the message is the entrypoint's JSON list)."""
    for result in attempt.get("results") or []:
        if result.get("name") == i.RESULT_FAILURE:
            return str(result.get("value") or "")
    raw = (state.get("terminated") or {}).get("message")
    try:
        entries = json.loads(raw) if isinstance(raw, str) and raw else []
    except ValueError:
        return ""
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("key") == i.RESULT_FAILURE:
            return str(entry.get("value") or "")
    return ""


#: Which kind of failure a failed helper step reports (the action's own step is ``execute``).
_HELPER_REASONS = {i.STEP_RESOLVE: FailureReason.INVALID_INPUTS, i.STEP_PUBLISH: FailureReason.INVALID_OUTPUTS}


def attempt_failure(attempt: Mapping[str, Any], number: int, taskrun: Mapping[str, Any], step: ir.Step,
                    workflow_timeout: int, non_retryable: frozenset[int] = frozenset()) -> StepFailure | None:
    """Why one attempt (a TaskRun status, or an entry of its ``retriesStatus``) did not succeed,
    in V1's words and with V1's reason (``reconciler.failures``)."""
    state, reason, message = condition_state({"status": attempt})
    if state != "False":
        return None
    if reason == t.TR_REASON_TIMEOUT:
        return StepFailure.of(FailureReason.DEADLINE_EXCEEDED,
                              timeout_message(number, _timeout_seconds(taskrun, step)))
    if reason == t.TR_REASON_CANCELLED:
        # Cancelled by kubernaut after a non-retryable failure: the failure is that attempt's.
        if (taskrun.get("spec") or {}).get("statusMessage") == t.TR_CANCELLED_BY_PIPELINE_TIMEOUT:
            return StepFailure.of(FailureReason.CANCELLED, f"cancelled: workflow timed out after {workflow_timeout}s")
        return StepFailure.of(FailureReason.CANCELLED, CANCELLED_MESSAGE)
    if reason == t.TR_REASON_RESOLUTION_FAILED:
        return StepFailure.of(FailureReason.DEPENDENCY_MISSING, message)
    if reason in (t.TR_REASON_IMAGE_PULL_FAILED, t.TR_REASON_CREATE_CONTAINER_CONFIG_ERROR):
        # V1's words: the kubelet's reason and message of the container that cannot start.
        for state in attempt.get("steps") or []:
            waiting = state.get("waiting") or {}
            stuck = waiting_failure(waiting.get("reason"), waiting.get("message"))
            if stuck is not None:
                return stuck
        kind = (FailureReason.IMAGE_PULL_FAILED if reason == t.TR_REASON_IMAGE_PULL_FAILED
                else FailureReason.CREATE_CONTAINER_CONFIG_ERROR)
        return StepFailure.of(kind, message)
    failed = _failed_step(attempt)
    if failed is not None:
        terminated = failed.get("terminated") or {}
        code = int(terminated.get("exitCode") or 1)
        said = _failure_result(attempt, failed)
        helper = _HELPER_REASONS.get(str(failed.get("name") or ""))
        if helper is not None:
            return StepFailure.of(helper, failure_text(said) or f"step {failed.get('name')} failed "
                                  f"with exit code {code}", 0 if helper is FailureReason.INVALID_OUTPUTS else None)
        if failed.get("container") == _ACTION_STEP or failed.get("name") == i.STEP_EXECUTE:
            return action_failure(code, said, oom_killed=terminated.get("reason") == _OOM_KILLED,
                                  non_retryable=non_retryable)
    return StepFailure.of(FailureReason.ACTION_FAILED,
                          message or f"attempt {number} failed ({reason or 'no reason given'})")


def _attempt_message(attempt: Mapping[str, Any], number: int, taskrun: Mapping[str, Any], step: ir.Step,
                     workflow_timeout: int) -> str | None:
    failure = attempt_failure(attempt, number, taskrun, step, workflow_timeout)
    return failure.message if failure is not None else None


def _outputs(status: Mapping[str, Any], step: str) -> dict[str, Any]:
    """The ``outputs`` result: the action's JSON object, ``$`` written ``\\u0024`` (JSON decodes it)."""
    for result in status.get("results") or []:
        if result.get("name") == i.RESULT_OUTPUTS:
            return decode_outputs(str(result.get("value") or ""), step)
    return {}


#: Failures V1 never retries that Tekton would (it retries every failed TaskRun): the step ends
#: with the attempt, and the engine cancels Tekton's retry.
_STOPS_RETRIES = frozenset({FailureReason.ACTION_FAILED, FailureReason.CREATE_CONTAINER_CONFIG_ERROR})


def _non_retryable_attempt(taskrun: Mapping[str, Any], step: ir.Step, workflow_timeout: int,
                           non_retryable: frozenset[int]) -> tuple[int, Mapping[str, Any], StepFailure] | None:
    """The first attempt that failed with one of the contract's non-retryable exit codes:
    (its number, its status, its failure). Tekton retries it all the same (it has no
    podFailurePolicy); the engine cancels such a retry and the step ends with this attempt."""
    status = taskrun.get("status") or {}
    for number, attempt in enumerate([*(status.get("retriesStatus") or []), status], start=1):
        failure = attempt_failure(attempt, number, taskrun, step, workflow_timeout, non_retryable)
        if failure is not None and not failure.retryable and failure.reason in _STOPS_RETRIES:
            return number, attempt, failure
    return None


def step_from_taskrun(step: ir.Step, taskrun: Mapping[str, Any], *, workflow_timeout: int,
                      run_done: bool = False, non_retryable: frozenset[int] = frozenset()) -> StepStatus:
    """A started step as its TaskRun reports it. ``run_done``: the PipelineRun has finished, so an
    unfinished TaskRun is being cancelled with it. ``non_retryable``: the exit codes the action's
    contract says no retry can fix."""
    status = taskrun.get("status") or {}
    retries = list(status.get("retriesStatus") or [])
    # Tekton creating the TaskRun is its decision to run attempt 1, as V1 records attempt 1 before
    # it creates the Job; and the step started then, as V1's starts when its ActionExecution is
    # created. Both read from what never changes afterwards, so the TaskRun's own progress
    # (startTime set, pod scheduled, containers starting) maps to the same status and costs no
    # status write of the WorkflowExecution.
    attempts = len(retries) + 1
    created = (taskrun.get("metadata") or {}).get("creationTimestamp")
    start = created or (retries[0] if retries else status).get("startTime")
    final = _non_retryable_attempt(taskrun, step, workflow_timeout, non_retryable)
    if final is not None:
        number, attempt, failure = final
        return StepStatus(step.name, StepPhase.FAILED, number, start, attempt.get("completionTime"), None,
                          failure.message, failure)
    state, reason, _ = condition_state(taskrun)
    if state == "True":
        try:
            outputs = _outputs(status, step.name)
        except TaskError as exc:  # publish-outputs validated them: only a foreign writer gets here
            return StepStatus(step.name, StepPhase.FAILED, attempts, start, status.get("completionTime"),
                              None, exc.message, StepFailure.of(FailureReason.INVALID_OUTPUTS, exc.message))
        return StepStatus(step.name, StepPhase.SUCCEEDED, attempts, start, status.get("completionTime"), outputs)
    if state == "False":
        phase = StepPhase.CANCELLED if reason == t.TR_REASON_CANCELLED else StepPhase.FAILED
        ended = attempt_failure(status, attempts, taskrun, step, workflow_timeout, non_retryable)
        return StepStatus(step.name, phase, attempts, start, status.get("completionTime"), None,
                          ended.message if ended else None, ended)
    if run_done:
        return StepStatus(step.name, StepPhase.CANCELLED, attempts, start, None, None, CANCELLED_MESSAGE,
                          StepFailure.of(FailureReason.CANCELLED, CANCELLED_MESSAGE))
    # Running; while it retries, V1 shows the previous attempt's failure too.
    previous = (_attempt_message(retries[-1], len(retries), taskrun, step, workflow_timeout)
                if retries else None)
    return StepStatus(step.name, StepPhase.RUNNING, attempts, start, None, None, previous)


# -- skipped steps ---------------------------------------------------------------------------------


def _expression_guard(guard: ir.Guard) -> Guard:
    left: Reference | Literal
    if guard.left_ref is not None:
        left = Reference(guard.left_ref.kind, guard.left_ref.step, guard.left_ref.key)
    else:
        left = Literal(guard.left_literal)
    return Guard(guard.source, left, guard.op, tuple(guard.values))


def _when_holds(expression: Mapping[str, Any]) -> bool:
    """Tekton's evaluation: the (substituted) input among the values, or not for ``notin``."""
    holds = expression.get("input") in (expression.get("values") or [])
    return not holds if expression.get("operator") == "notin" else holds


def _false_guard(step: ir.Step, expressions: Sequence[Mapping[str, Any]]) -> ir.Guard | None:
    """The first guard whose ``when`` expression is false (the Pipeline has one per guard, in
    order): V1 reports the first guard that does not hold."""
    for guard, expression in zip(step.guards, expressions, strict=False):
        if not _when_holds(expression):
            return guard
    return step.guards[0] if step.guards else None


def _skipped_dependency(step: ir.Step, reasons: Mapping[str, str]) -> str | None:
    for dep in step.dependencies:
        if reasons.get(dep) not in (None, t.SKIP_WHEN):
            return dep
    return next((dep for dep in step.dependencies if dep in reasons), None)


def _read_steps(step: ir.Step) -> list[str]:
    """Steps whose outputs ``step`` reads: its guards first, then its inputs, each once — the
    order in which V1's scheduler names the producer (``read_steps`` there)."""
    refs = [g.left_ref for g in step.guards if g.left_ref is not None] + list(step.references)
    found: dict[str, None] = {}
    for ref in refs:
        if ref.kind == "step" and ref.step is not None:
            found[ref.step] = None
    return list(found)


def skipped_step_status(step: ir.Step, entry: Mapping[str, Any], reasons: Mapping[str, str], *,
                        nothing_runs: bool) -> StepStatus:
    """A step Tekton lists in ``status.skippedTasks``, with V1's phase and message."""
    reason = str(entry.get("reason") or "")
    if reason == t.SKIP_WHEN:
        guard = _false_guard(step, entry.get("whenExpressions") or [])
        message = skip_message(_expression_guard(guard)) if guard is not None else reason
        return StepStatus(step.name, StepPhase.SKIPPED, message=message)
    if reason == t.SKIP_PARENT:
        dep = _skipped_dependency(step, reasons)
        return StepStatus(step.name, StepPhase.SKIPPED, message=SKIPPED_DEPENDENCY.format(step=dep))
    if reason == t.SKIP_MISSING_RESULTS:
        producer = next((s for s in _read_steps(step) if reasons.get(s) == t.SKIP_WHEN), None)
        message = SKIPPED_OUTPUTS_MISSING.format(step=producer) if producer else reason
        return StepStatus(step.name, StepPhase.SKIPPED, message=message)
    if reason == t.SKIP_STOPPING:
        # V1 writes these off only when nothing runs any more (running steps finish first).
        if not nothing_runs:
            return StepStatus(step.name)
        return StepStatus(step.name, StepPhase.SKIPPED, message=NOT_RUN_WORKFLOW_FAILED)
    if reason == t.SKIP_PIPELINE_TIMEOUT:
        return StepStatus(step.name, StepPhase.SKIPPED, message=NOT_RUN_WORKFLOW_FAILED)
    if reason in (t.SKIP_GRACEFULLY_CANCELLED, t.SKIP_GRACEFULLY_STOPPED):
        return StepStatus(step.name, StepPhase.CANCELLED, message=NOT_RUN_CANCELLED)
    return StepStatus(step.name, StepPhase.SKIPPED, message=reason or None)


# -- the whole workflow ----------------------------------------------------------------------------


def non_retryable_exit_codes(wf: ir.Workflow, step: ir.Step) -> frozenset[int]:
    contract = wf.contracts.get(step.action_type)
    return frozenset(contract.non_retryable_exit_codes) if contract is not None else frozenset()


def step_statuses(wf: ir.Workflow, observed: Observed) -> list[StepStatus]:
    """Every step of ``wf``, in workflow order."""
    pr = observed.pipelinerun
    pr_state = condition_state(pr)[0]
    run_done = pr_state in ("True", "False")
    by_step: dict[str, StepStatus] = dict(observed.finished)
    for step in wf.steps:
        if step.name not in by_step and step.name in observed.taskruns:
            by_step[step.name] = step_from_taskrun(step, observed.taskruns[step.name],
                                                   workflow_timeout=wf.timeout_seconds, run_done=run_done,
                                                   non_retryable=non_retryable_exit_codes(wf, step))
    skipped = {str(e.get("name")): e for e in ((pr or {}).get("status") or {}).get("skippedTasks") or []}
    reasons = {name: str(e.get("reason") or "") for name, e in skipped.items()}
    nothing_runs = run_done or not any(s.phase is StepPhase.RUNNING for s in by_step.values())
    failed_run = pr_state == "False"
    out: list[StepStatus] = []
    for step in wf.steps:
        if step.name in by_step:
            out.append(by_step[step.name])
        elif step.name in skipped:
            out.append(skipped_step_status(step, skipped[step.name], reasons, nothing_runs=nothing_runs))
        elif failed_run:
            out.append(StepStatus(step.name, StepPhase.SKIPPED, message=NOT_RUN_WORKFLOW_FAILED))
        else:
            out.append(StepStatus(step.name))
    return out


def failure_message(steps: Sequence[StepStatus]) -> str | None:
    """V1's rule: the earliest failure (completion time, then workflow order) names the cause."""
    failed = [(s.completion_time or "", index, s) for index, s in enumerate(steps) if s.phase in _STOPPING_PHASES]
    if not failed:
        return None
    _, _, first = min(failed, key=lambda item: (item[0], item[1]))
    return first.message or f"step '{first.name}' {first.phase.value.lower()}"


def _pipeline_timeout(pr: Mapping[str, Any], wf: ir.Workflow) -> str:
    text = ((pr.get("spec") or {}).get("timeouts") or {}).get("pipeline")
    seconds, _ = parse_duration(text) if isinstance(text, str) and text else (None, None)
    return _seconds_text(seconds if seconds is not None else float(wf.timeout_seconds))


def workflow_outcome(wf: ir.Workflow, pr: Mapping[str, Any] | None, steps: Sequence[StepStatus], *,
                     stopping: bool = False) -> tuple[WorkflowPhase, str | None]:
    """The phase (Running, Succeeded, Failed) and the message of a failure.

    ``PipelineRunTimeout`` is the workflow timeout, which the WorkflowExecution controller owns:
    when it asks (``stopping``) the run is reported as still running, so the controller's own
    timeout handling writes exactly what it writes for V1. Outside that path (Tekton's clock ran
    ahead, or the spec's timeout was changed after the run started) it is a failure with the
    controller's wording.
    """
    state, reason, message = condition_state(pr)
    if pr is None or state not in ("True", "False"):
        return WorkflowPhase.RUNNING, None
    if state == "True":
        return WorkflowPhase.SUCCEEDED, None
    if reason == t.PR_REASON_TIMEOUT:
        if stopping:
            return WorkflowPhase.RUNNING, None
        return WorkflowPhase.FAILED, f"workflow timed out after {_pipeline_timeout(pr, wf)}s"
    return WorkflowPhase.FAILED, failure_message(steps) or message or f"PipelineRun failed ({reason})"
