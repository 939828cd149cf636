"""The WorkflowExecution status shape both engines write (docs/architecture.md, "Status shape").

Users and tools cannot tell the engines apart except by ``status.engine``: the V1 engine derives
this from ActionExecutions and Jobs, the V2 engine from the PipelineRun and its TaskRuns, and
both build it with these helpers so the JSON is identical.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .failures import StepFailure


class WorkflowPhase(enum.StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


class StepPhase(enum.StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    CANCELLED = "Cancelled"


# Phases by value through a dict: calling the enum costs a microsecond, and every reconcile parses
# the phase of every step of its workflow. Anything else goes to the enum (its error).
_STEP_PHASES = {p.value: p for p in StepPhase}
_WORKFLOW_PHASES = {p.value: p for p in WorkflowPhase}


def _step_phase(value: Any) -> StepPhase:
    try:
        return _STEP_PHASES[value]
    except (KeyError, TypeError):
        return StepPhase(value)


def _workflow_phase(value: Any) -> WorkflowPhase:
    try:
        return _WORKFLOW_PHASES[value]
    except (KeyError, TypeError):
        return WorkflowPhase(value)


TERMINAL_WORKFLOW_PHASES = frozenset({WorkflowPhase.SUCCEEDED, WorkflowPhase.FAILED, WorkflowPhase.CANCELLED})
TERMINAL_STEP_PHASES = frozenset({StepPhase.SUCCEEDED, StepPhase.FAILED, StepPhase.SKIPPED, StepPhase.CANCELLED})

# Messages shared by both engines, so the status text is identical too.
NOT_RUN_WORKFLOW_FAILED = "not run: workflow failed"
NOT_RUN_CANCELLED = "not run: workflow cancelled"
# Why a step was skipped (docs/architecture.md, "Skipping follows Tekton exactly"); fill in with
# ``.format(step=...)``. A false guard's text is compiler.expressions.skip_message's.
SKIPPED_DEPENDENCY = "a step it depends on was skipped: {step}"
SKIPPED_OUTPUTS_MISSING = "outputs of skipped step '{step}' are missing"


@dataclass
class StepStatus:
    name: str
    phase: StepPhase = StepPhase.PENDING
    attempts: int = 0
    start_time: str | None = None
    completion_time: str | None = None
    outputs: dict[str, Any] | None = None
    message: str | None = None
    #: Why it failed (Failed or Cancelled steps; docs/running.md "Failure details").
    failure: StepFailure | None = None

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL_STEP_PHASES

    def copy(self) -> StepStatus:
        """A shallow copy: ``dataclasses.replace(self)``, a few times faster (a schedule copies
        every started step on every reconcile)."""
        return StepStatus(**self.__dict__)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "phase": self.phase.value,
            "attempts": self.attempts,
            "startTime": self.start_time,
            "completionTime": self.completion_time,
            "outputs": self.outputs,
            "message": self.message,
        }
        if self.failure is not None:
            data["failure"] = self.failure.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepStatus:
        return cls(
            name=data["name"],
            phase=_step_phase(data.get("phase") or StepPhase.PENDING),
            attempts=int(data.get("attempts") or 0),
            start_time=data.get("startTime"),
            completion_time=data.get("completionTime"),
            outputs=data.get("outputs"),
            message=data.get("message"),
            failure=StepFailure.from_json(data.get("failure")),
        )


@dataclass
class Condition:
    type: str
    status: str  # "True" | "False" | "Unknown"
    reason: str
    message: str
    last_transition_time: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "status": self.status, "reason": self.reason, "message": self.message,
                "lastTransitionTime": self.last_transition_time}


def set_condition(conditions: list[dict[str, Any]], new: Condition) -> list[dict[str, Any]]:
    """Kubernetes semantics: replace the condition of the same type, keeping its
    lastTransitionTime when the status did not change."""
    result: list[dict[str, Any]] = []
    replaced = False
    for existing in conditions:
        if existing.get("type") == new.type:
            entry = new.to_json()
            if existing.get("status") == new.status and existing.get("lastTransitionTime"):
                entry["lastTransitionTime"] = existing["lastTransitionTime"]
            result.append(entry)
            replaced = True
        else:
            result.append(existing)
    if not replaced:
        result.append(new.to_json())
    return result


@dataclass
class WorkflowStatus:
    phase: WorkflowPhase = WorkflowPhase.PENDING
    engine: str | None = None
    start_time: str | None = None
    completion_time: str | None = None
    message: str | None = None
    conditions: list[dict[str, Any]] = field(default_factory=list)
    steps: list[StepStatus] = field(default_factory=list)
    observed_generation: int | None = None
    diagnostics: list[str] | None = None
    #: ``{step, reason, exitCode, message, retryable}`` once the workflow failed.
    failure_details: dict[str, Any] | None = None
    #: The digest of the spec (``cancel`` aside) the workflow started from (``spec_digest``).
    spec_hash: str | None = None

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL_WORKFLOW_PHASES

    def step(self, name: str) -> StepStatus:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "phase": self.phase.value,
            "engine": self.engine,
            "startTime": self.start_time,
            "completionTime": self.completion_time,
            "message": self.message,
            "observedGeneration": self.observed_generation,
            "conditions": self.conditions,
            "steps": [s.to_json() for s in self.steps],
        }
        if self.diagnostics is not None:
            data["diagnostics"] = self.diagnostics
        if self.failure_details is not None:
            data["failureDetails"] = self.failure_details
        if self.spec_hash is not None:
            data["specHash"] = self.spec_hash
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, step_names: Iterable[str] = ()) -> WorkflowStatus:
        """Parse a stored status; steps missing from it are added as Pending in workflow order."""
        data = data or {}
        stored = {s["name"]: StepStatus.from_json(s) for s in data.get("steps") or [] if "name" in s}
        names = list(step_names) or list(stored)
        return cls(
            phase=_workflow_phase(data.get("phase") or WorkflowPhase.PENDING),
            engine=data.get("engine"),
            start_time=data.get("startTime"),
            completion_time=data.get("completionTime"),
            message=data.get("message"),
            conditions=list(data.get("conditions") or []),
            steps=[stored.get(n) or StepStatus(n) for n in names],
            observed_generation=data.get("observedGeneration"),
            diagnostics=data.get("diagnostics"),
            failure_details=data.get("failureDetails"),
            spec_hash=data.get("specHash"),
        )


    def in_order(self, step_names: Iterable[str]) -> WorkflowStatus:
        """This status with exactly ``step_names``' steps, in that order (those it lacks
        Pending): what :meth:`from_json` with ``step_names`` makes of the JSON it came from,
        without parsing it again. Shares the step statuses (replace a step, never edit it)."""
        stored = {s.name: s for s in self.steps}
        names = list(step_names) or list(stored)
        return dataclasses.replace(self, conditions=list(self.conditions),
                                   steps=[stored.get(n) or StepStatus(n) for n in names])


def failure_details(step: str | None, failure: StepFailure) -> dict[str, Any]:
    """``status.failureDetails``: the failure that ended the workflow, and the step it happened in."""
    # A failure of the whole workflow (its timeout, an invalid spec) names no step.
    return {**({"step": step} if step is not None else {}), **failure.to_json()}


def first_failure(steps: Iterable[StepStatus]) -> StepStatus | None:
    """The step whose failure ended the workflow: the earliest Failed or Cancelled one (completion
    time, then workflow order; a step failed without running has no time and comes first) —
    the step both engines name in the workflow's message."""
    failed = [(s.completion_time or "", i, s) for i, s in enumerate(steps)
              if s.phase in (StepPhase.FAILED, StepPhase.CANCELLED)]
    if not failed:
        return None
    return min(failed, key=lambda item: (item[0], item[1]))[2]


def spec_digest(spec: Mapping[str, Any] | None) -> str:
    """``sha256:<hex>`` of a WorkflowExecution spec without ``cancel`` (the one field that may
    change once the workflow runs): recorded as ``status.specHash`` when the workflow starts, so a
    later edit is recognised even by a controller that never saw the original."""
    fields = {key: value for key, value in (spec or {}).items() if key != "cancel"}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
