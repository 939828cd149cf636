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

__all__ = [
    "ACTION_CONTAINER",
    "OUTPUTS_LIMIT",
    "OUTPUTS_TOO_LARGE",
    "OutputsError",
    "Terminated",
    "failure_message",
    "parse_outputs",
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


def terminated_state(pods: Iterable[Mapping[str, Any]]) -> Terminated | None:
    """The action container's final state in the newest terminated pod, if any."""
    best: Terminated | None = None
    for pod in pods:
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        chosen = next((s for s in statuses if s.get("name") == ACTION_CONTAINER), statuses[0] if statuses else None)
        state = ((chosen or {}).get("state") or {}).get("terminated")
        if not state:
            continue
        found = Terminated(int(state.get("exitCode") or 0), str(state.get("message") or ""), state.get("reason"),
                           state.get("finishedAt"))
        if best is None or (found.finished_at or "") >= (best.finished_at or ""):
            best = found
    return best


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def failure_message(attempt: int, timeout_seconds: int, condition: Mapping[str, Any] | None,
                    terminated: Terminated | None) -> str:
    """Why a failed attempt failed: the deadline, the action's last words, or the Job's reason."""
    if condition is not None and condition.get("reason") == DEADLINE_EXCEEDED:
        return f"attempt {attempt} timed out after {timeout_seconds}s"
    if terminated is not None:
        said = _last_line(terminated.message)
        if said:
            return said
        return f"the action exited with code {terminated.exit_code}"
    if condition is not None and condition.get("message"):
        return str(condition["message"])
    return f"attempt {attempt} failed"
