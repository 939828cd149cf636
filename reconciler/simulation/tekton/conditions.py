"""Tekton's vocabulary: condition reasons, skipping reasons, messages, durations and labels.

Every string here is one Tekton writes (``pkg/apis/pipeline/v1/pipelinerun_types.go``,
``taskrun_types.go``, ``pkg/reconciler/...``), because the V2 engine branches on them. The
condition helpers follow knative's ``apis.Condition`` rules: one ``Succeeded`` condition whose
``lastTransitionTime`` moves only when its status, reason or message changes.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from typing import Any

from compiler.values import parse_duration

from ...cluster import JsonObject

API_VERSION = "tekton.dev/v1"
#: What the simulated Tekton controllers read from informers (one cache for both reconcilers).
INFORMER_KINDS = tuple((API_VERSION, kind) for kind in ("PipelineRun", "TaskRun", "Task", "Pipeline"))
SUCCEEDED = "Succeeded"

# -- labels (pkg/apis/pipeline/register.go) ---------------------------------------------------
LABEL_PIPELINE = "tekton.dev/pipeline"
LABEL_PIPELINE_RUN = "tekton.dev/pipelineRun"
LABEL_PIPELINE_RUN_UID = "tekton.dev/pipelineRunUID"
LABEL_PIPELINE_TASK = "tekton.dev/pipelineTask"
LABEL_MEMBER_OF = "tekton.dev/memberOf"
LABEL_TASK = "tekton.dev/task"
MEMBER_OF_TASKS = "tasks"

# -- PipelineRun spec.status ------------------------------------------------------------------
PR_CANCELLED = "Cancelled"
PR_CANCELLED_RUN_FINALLY = "CancelledRunFinally"
PR_STOPPED_RUN_FINALLY = "StoppedRunFinally"
PR_PENDING = "PipelineRunPending"

# -- PipelineRun condition reasons --------------------------------------------------------------
PR_REASON_RUNNING = "Running"
PR_REASON_PENDING = "PipelineRunPending"
PR_REASON_SUCCEEDED = "Succeeded"
PR_REASON_COMPLETED = "Completed"
PR_REASON_FAILED = "Failed"
PR_REASON_CANCELLED = "Cancelled"
PR_REASON_TIMEOUT = "PipelineRunTimeout"
PR_REASON_STOPPING = "PipelineRunStopping"
PR_REASON_CANCELLED_RUNNING_FINALLY = "CancelledRunningFinally"
PR_REASON_STOPPED_RUNNING_FINALLY = "StoppedRunningFinally"
PR_REASON_COULDNT_GET_PIPELINE = "CouldntGetPipeline"
PR_REASON_COULDNT_GET_TASK = "CouldntGetTask"
PR_REASON_INVALID_GRAPH = "PipelineInvalidGraph"
PR_REASON_PARAMETER_MISSING = "ParameterMissing"
PR_REASON_INVALID_WORKSPACE_BINDING = "InvalidWorkspaceBindings"
PR_REASON_VALIDATION_FAILED = "PipelineValidationFailed"

# -- skipping reasons (SkippedTask.reason) ------------------------------------------------------
SKIP_WHEN = "When Expressions evaluated to false"
SKIP_PARENT = "Parent Tasks were skipped"
SKIP_STOPPING = "PipelineRun was stopping"
SKIP_GRACEFULLY_CANCELLED = "PipelineRun was gracefully cancelled"
SKIP_GRACEFULLY_STOPPED = "PipelineRun was gracefully stopped"
SKIP_MISSING_RESULTS = "Results were missing"
SKIP_PIPELINE_TIMEOUT = "PipelineRun timeout has been reached"

# -- TaskRun spec.status and condition reasons ----------------------------------------------------
TR_CANCELLED = "TaskRunCancelled"
TR_REASON_STARTED = "Started"
TR_REASON_RUNNING = "Running"
TR_REASON_SUCCEEDED = "Succeeded"
#: What Tekton up to v1.11 reports for a failed step; v1.12 and later say ``StepFailed``.
TR_REASON_FAILED = "Failed"
TR_REASON_STEP_FAILED = "StepFailed"
TR_REASON_TO_BE_RETRIED = "ToBeRetried"
TR_REASON_CANCELLED = "TaskRunCancelled"
TR_REASON_TIMEOUT = "TaskRunTimeout"
TR_REASON_RESOLUTION_FAILED = "TaskRunResolutionFailed"
TR_REASON_IMAGE_PULL_FAILED = "TaskRunImagePullFailed"
TR_REASON_CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError"
TR_MESSAGE_RUNNING = "Not all Steps in the Task have finished executing"
TR_MESSAGE_SUCCEEDED = "All Steps have completed executing"
#: ``spec.statusMessage`` the PipelineRun controller sets when it cancels a TaskRun.
TR_CANCELLED_BY_PIPELINE = "TaskRun cancelled as the PipelineRun it belongs to has been cancelled."
TR_CANCELLED_BY_PIPELINE_TIMEOUT = "TaskRun cancelled as the PipelineRun it belongs to has timed out."

#: Tekton's ``default-timeout-minutes`` (config-defaults), for runs that set no timeout.
DEFAULT_TIMEOUT_SECONDS = 60 * 60.0


def succeeded_condition(obj: Mapping[str, Any]) -> JsonObject | None:
    """The ``Succeeded`` condition of a PipelineRun or TaskRun (a copy), or None."""
    condition = _succeeded(obj)
    return None if condition is None else dict(condition)


def _succeeded(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    # The condition as read, for the predicates below: they run for every task of a run on
    # every reconcile, and only look.
    for condition in (obj.get("status") or {}).get("conditions") or ():
        if condition.get("type") == SUCCEEDED:
            return condition
    return None


def _state(obj: Mapping[str, Any]) -> Any:
    condition = _succeeded(obj)
    return None if condition is None else condition.get("status")


def run_finished(obj: Mapping[str, Any]) -> bool:
    """Tekton's ``IsDone``: the ``Succeeded`` condition is True or False."""
    return _state(obj) in ("True", "False")


def run_succeeded(obj: Mapping[str, Any]) -> bool:
    return _state(obj) == "True"


def run_failed(obj: Mapping[str, Any]) -> bool:
    return _state(obj) == "False"


def condition_reason(obj: Mapping[str, Any]) -> str | None:
    condition = _succeeded(obj)
    return str(condition.get("reason")) if condition and condition.get("reason") is not None else None


def with_condition(status: Mapping[str, Any], state: str, reason: str, message: str, now: str) -> list[JsonObject]:
    """``status.conditions`` with ``Succeeded`` set; the transition time is kept when nothing
    about the condition changed (knative ``SetCondition``)."""
    old = _succeeded({"status": status})
    new: JsonObject = {"type": SUCCEEDED, "status": state, "reason": reason, "message": message,
                       "lastTransitionTime": now}
    if old is not None and (old.get("status"), old.get("reason"), old.get("message")) == (state, reason, message):
        new["lastTransitionTime"] = old.get("lastTransitionTime", now)
    others = [c for c in status.get("conditions") or [] if c.get("type") != SUCCEEDED]
    return [*others, new]


# -- Go durations ------------------------------------------------------------------------------

_ZERO = re.compile(r"^(0+(\.0*)?)(ns|us|µs|ms|s|m|h)?$")


def parse_go_duration(text: Any) -> float | None:
    """Seconds of a Go duration (``"2m0s"``); 0.0 for a zero duration (Tekton: no timeout);
    None when absent or unparsable."""
    if not isinstance(text, str) or not text:
        return None
    return _parse_go_duration(text)


@functools.lru_cache(maxsize=256)
def _parse_go_duration(text: str) -> float | None:
    # Memoized: every reconcile of every run reads its timeouts again, and they are a handful
    # of distinct strings ("1h0m0s"); a pure function of its text cannot go stale.
    if _ZERO.match(text):
        return 0.0
    seconds, _problem = parse_duration(text)
    return seconds


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String()``: ``2m0s``, ``1h0m0s``, ``1.5s``, ``500ms``, ``0s``."""
    if seconds <= 0 or not math.isfinite(seconds):
        return "0s"
    nanos = round(seconds * 1e9)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if nanos >= size:
                return _trim(nanos / size) + unit
    hours, rest = divmod(nanos, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    text = _trim(rest / 1e9) + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    if minutes:
        return f"{minutes}m{text}"
    return text


def _trim(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".")
