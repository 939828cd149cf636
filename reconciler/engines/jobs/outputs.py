"""Reading an attempt's result back from its Job and Pod.

An action prints one JSON object on stdout; the Job's script writes it to
``/dev/termination-log``, so it comes back as the container's ``state.terminated.message``
(targets/jobs/job.py). The kubelet keeps at most 4096 bytes of it — the same limit Tekton results
have, and the same messages as the meta-Task's ``publish-outputs`` step, so both engines fail
oversized or malformed outputs alike. On failure, ``FallbackToLogsOnError`` makes the message
the tail of the log, whose last line is the action's own one-line reason (kubernaut.sdk writes
it last on purpose).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from compiler.expressions import JSON
from targets.common.outputs import OUTPUTS_LIMIT, OUTPUTS_TOO_LARGE, OutputsError, OutputsProblem, decode_outputs

from ...failures import FailureReason, StepFailure, action_failure, timeout_message, waiting_failure

__all__ = [
    "ACTION_CONTAINER",
    "OUTPUTS_LIMIT",
    "OUTPUTS_TOO_LARGE",
    "OutputsError",
    "Terminated",
    "attempt_failure",
    "parse_outputs",
    "stuck_container",
    "terminated_state",
]

ACTION_CONTAINER = "action"  # targets.jobs.job.CONTAINER_NAME
DEADLINE_EXCEEDED = "DeadlineExceeded"


@dataclass(frozen=True)
class Terminated:
    """The action container's ``state.terminated``."""

    exit_code: int
    message: str
    reason: str | None = None
    finished_at: str | None = None


def parse_outputs(message: str, step: str) -> dict[str, JSON]:
    """The outputs object from a termination message (no output at all means ``{}``), decoded by
    ``targets.common.outputs`` — the code V2's ``publish-outputs`` runs too."""
    try:
        return decode_outputs(message, step)
    except OutputsError as exc:
        if exc.problem is OutputsProblem.NOT_JSON and len(message.encode("utf-8")) >= OUTPUTS_LIMIT:
            # The kubelet cut the message at the limit: the JSON was longer than it allows (V2
            # reads the action's stdout from a file, uncut, and reports the size instead).
            raise OutputsError(f"{OUTPUTS_TOO_LARGE} (the termination message was truncated)",
                               OutputsProblem.TOO_LARGE) from None
        raise


def _disrupted(pod: Mapping[str, Any]) -> bool:
    return any(c.get("type") == "DisruptionTarget" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def terminated_state(pods: Iterable[Mapping[str, Any]], *, complete: bool = False) -> Terminated | None:
    """The action container's final state in the newest terminated pod, if any.

    A Job may have several pods: one the ``podFailurePolicy`` ``Ignore`` rule let go (a disruption)
    and the one that ran the attempt after it, possibly finishing in the same second. A disrupted
    pod never decides the outcome when another terminated; for a ``complete`` Job only a pod
    whose action exited 0 holds the outputs."""
    candidates: list[tuple[bool, Terminated]] = []
    for pod in pods:
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        chosen = next((s for s in statuses if s.get("name") == ACTION_CONTAINER), statuses[0] if statuses else None)
        state = ((chosen or {}).get("state") or {}).get("terminated")
        if not state:
            continue
        found = Terminated(int(state.get("exitCode") or 0), str(state.get("message") or ""), state.get("reason"),
                           state.get("finishedAt"))
        if complete and found.exit_code != 0:
            continue
        candidates.append((_disrupted(pod), found))
    if any(not disrupted for disrupted, _ in candidates):
        candidates = [(d, t) for d, t in candidates if not d]
    best: Terminated | None = None
    for _, found in candidates:
        if best is None or (found.finished_at or "") >= (best.finished_at or ""):
            best = found
    return best


#: The Job condition reason when a ``podFailurePolicy`` rule with ``FailJob`` matched: the action
#: exited with one of its contract's non-retryable codes (targets/jobs/job.py).
POD_FAILURE_POLICY = "PodFailurePolicy"
OOM_KILLED = "OOMKilled"


def attempt_failure(attempt: int, timeout_seconds: int, condition: Mapping[str, Any] | None,
                    terminated: Terminated | None) -> StepFailure:
    """Why a failed attempt failed: the deadline, the action's last words, or the Job's reason.
    The action's words come from the termination message, where the Job's script writes its last
    stderr lines when it fails (``targets.common.failures``; V2 reads the same lines)."""
    if condition is not None and condition.get("reason") == DEADLINE_EXCEEDED:
        return StepFailure.of(FailureReason.DEADLINE_EXCEEDED, timeout_message(attempt, timeout_seconds))
    if terminated is not None:
        stopped = condition is not None and condition.get("reason") == POD_FAILURE_POLICY
        return action_failure(terminated.exit_code, terminated.message, oom_killed=terminated.reason == OOM_KILLED,
                              non_retryable=frozenset({terminated.exit_code}) if stopped else frozenset())
    message = str(condition["message"]) if condition is not None and condition.get("message") else \
        f"attempt {attempt} failed"
    return StepFailure.of(FailureReason.ACTION_FAILED, message)


def stuck_container(pods: Iterable[Mapping[str, Any]]) -> StepFailure | None:
    """The failure of an action container that will not start (its image cannot be pulled, its
    configuration is missing), from the pods of a Job that has not finished; None otherwise."""
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            if status.get("name") != ACTION_CONTAINER:
                continue
            waiting = (status.get("state") or {}).get("waiting") or {}
            failure = waiting_failure(waiting.get("reason"), waiting.get("message"))
            if failure is not None:
                return failure
    return None
