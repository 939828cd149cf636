"""Why a step failed, in a form a machine can act on — identical on both engines.

``status.steps[].failure`` and ``status.failureDetails`` (docs/running.md, "Failure details")
carry a :class:`FailureReason` from this fixed set, the action's exit code when it ran, the
message (the action's last stderr lines, ``targets.common.failures``) and whether kubernaut
retries this kind of failure. Each engine maps what its cluster objects say onto these; the
texts shared by both live here so the JSON is byte-identical.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from targets.common.failures import failure_text

__all__ = [
    "EXIT_OOM_KILLED",
    "STUCK_WAITING_REASONS",
    "FailureReason",
    "StepFailure",
    "action_failure",
    "timeout_message",
    "waiting_failure",
]

#: A process killed by SIGKILL (the OOM killer's signal), as the container runtime reports it.
EXIT_OOM_KILLED = 137


class FailureReason(enum.StrEnum):
    """The documented, fixed set of failure reasons (docs/running.md). Never rename one."""

    ACTION_FAILED = "ActionFailed"  # the action exited non-zero
    DEADLINE_EXCEEDED = "DeadlineExceeded"  # the attempt (or the workflow) ran out of time
    OOM_KILLED = "OOMKilled"  # the action ran out of memory
    IMAGE_PULL_FAILED = "ImagePullFailed"  # the action image could not be pulled
    CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError"  # a missing Secret/ConfigMap...
    SIGNATURE_VERIFICATION_FAILED = "SignatureVerificationFailed"  # the image policy refused it
    # the verified image's signed contract is for another action type, or asks for other permissions
    # than the action type's Role grants: it does not get the Role
    PERMISSIONS_NOT_DECLARED = "PermissionsNotDeclared"
    DEPENDENCY_MISSING = "DependencyMissing"  # something the step needs is gone (Task, workflow step)
    INVALID_INPUTS = "InvalidInputs"  # its inputs could not be resolved
    INVALID_OUTPUTS = "InvalidOutputs"  # its outputs were refused (not JSON, too large, a key missing)
    FORBIDDEN = "Forbidden"  # the API server refused to create what runs it
    NAME_CONFLICT = "NameConflict"  # an object of the step's name exists and belongs to someone else
    CANCELLED = "Cancelled"  # the workflow was cancelled, deleted or timed out while it ran
    SPEC_INVALID = "SpecInvalid"  # the workflow spec does not compile (no step to blame)
    DEDUPLICATED = "Deduplicated"  # lockPolicy fail: another workflow holds the target
    SPEC_MODIFIED = "SpecModified"  # the spec changed after the workflow started (it fails closed)


#: Kinds of failure a new attempt may fix (kubernaut retries them while retries are left).
_RETRYABLE = frozenset({FailureReason.ACTION_FAILED, FailureReason.DEADLINE_EXCEEDED, FailureReason.OOM_KILLED,
                        FailureReason.IMAGE_PULL_FAILED, FailureReason.INVALID_OUTPUTS})


@dataclass(frozen=True)
class StepFailure:
    """``{reason, exitCode, message, retryable}`` of a failed (or cancelled) step."""

    reason: FailureReason
    message: str
    exit_code: int | None = None
    retryable: bool = False

    @classmethod
    def of(cls, reason: FailureReason, message: str, exit_code: int | None = None, *,
           retryable: bool | None = None) -> StepFailure:
        """A failure whose ``retryable`` is the reason's default unless given."""
        return cls(reason, message, exit_code, reason in _RETRYABLE if retryable is None else retryable)

    def to_json(self) -> dict[str, Any]:
        # No exit code (it never ran, or it timed out) is no key: a status write is a merge
        # patch, where null means "delete", so a null would not survive anyway.
        data: dict[str, Any] = {"reason": self.reason.value}
        if self.exit_code is not None:
            data["exitCode"] = self.exit_code
        data.update(message=self.message, retryable=self.retryable)
        return data

    @classmethod
    def from_json(cls, data: Any) -> StepFailure | None:
        if not isinstance(data, dict) or data.get("reason") not in {r.value for r in FailureReason}:
            return None
        code = data.get("exitCode")
        return cls(FailureReason(data["reason"]), str(data.get("message") or ""),
                   int(code) if isinstance(code, int) else None, bool(data.get("retryable")))


def timeout_message(attempt: int, seconds: float) -> str:
    text = str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"
    return f"attempt {attempt} timed out after {text}s"


def action_failure(exit_code: int, said: str, *, oom_killed: bool, non_retryable: frozenset[int]) -> StepFailure:
    """The failure of an action that exited with ``exit_code`` after writing ``said`` (its
    failure channel: last stderr lines). Both engines call this with what their objects say."""
    message = failure_text(said)
    if oom_killed:
        return StepFailure.of(FailureReason.OOM_KILLED, message or
                              f"the action ran out of memory and was killed (exit code {exit_code})", exit_code)
    if not message:
        message = f"the action exited with code {exit_code}"
    if exit_code in non_retryable:
        return StepFailure.of(FailureReason.ACTION_FAILED, message, exit_code, retryable=False)
    return StepFailure.of(FailureReason.ACTION_FAILED, message, exit_code)


#: A container that never starts, by its ``state.waiting.reason`` (the kubelet's): what failed.
_WAITING_REASONS = {
    "ImagePullBackOff": FailureReason.IMAGE_PULL_FAILED,
    "InvalidImageName": FailureReason.IMAGE_PULL_FAILED,
    "ErrImageNeverPull": FailureReason.IMAGE_PULL_FAILED,
    "CreateContainerConfigError": FailureReason.CREATE_CONTAINER_CONFIG_ERROR,
}

#: The waiting reasons of a container that will not start by itself.
STUCK_WAITING_REASONS = frozenset(_WAITING_REASONS)


def waiting_failure(reason: str | None, message: str | None) -> StepFailure | None:
    """The failure of an action container stuck waiting with ``reason`` (None: it may still
    start, e.g. ``ContainerCreating`` or a first ``ErrImagePull`` the kubelet retries). Both
    engines word it as the kubelet does: ``ImagePullBackOff: Back-off pulling image "..."``."""
    kind = _WAITING_REASONS.get(reason or "")
    if kind is None:
        return None
    return StepFailure.of(kind, f"{reason}: {message}" if message else str(reason))
