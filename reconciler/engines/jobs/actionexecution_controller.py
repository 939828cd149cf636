"""The ActionExecution controller: one step of a V1 workflow, attempt by attempt, as Jobs.

For an ActionExecution (created by the V1 engine when its step became ready, with the step's
inputs already resolved in ``spec.resolvedInputs``):

1. **Image policy first** (``reconciler.verification``): a rejected image fails the step before
   any Job exists (``SignatureVerificationFailed``); a verifier that could not decide is retried
   (fail closed, never run). The verified reference is recorded in the attempt's history entry
   (``image``) and every attempt's Job runs exactly that. The resolved inputs are checked against
   the verified image's own ``/action-contract.yaml`` when it has one (``InvalidInputs``).
2. **One Job per attempt** (``targets.jobs.job_for_attempt``, name ``<ae>-<n>``, owned by the
   ActionExecution). The attempt is recorded in ``status`` *before* its Job is created, and the
   Job name is deterministic with "already exists" meaning success, so a restart or a lost
   response can never create a second Job for an attempt, nor attempt n+1 before attempt n was
   observed finished.
3. **Outcome** from the Job's terminal condition and the action container's termination
   message: outputs (one JSON object, at most 4096 bytes, holding every key of
   ``spec.requiredOutputs`` — the keys later steps read — or the attempt fails) on success; on
   failure the action's last words, or "attempt N timed out after Ts" for ``DeadlineExceeded``.
4. **Retries** with exponential backoff: attempt n+1 starts at (attempt n's failure time +
   ``backoff.delay(n)``), computed from the recorded history each time (``requeue_after``, no
   in-memory timer a restart would lose), up to ``spec.retries`` extra attempts.
5. **Per-attempt timeout**: the Job's ``activeDeadlineSeconds``, plus a controller-side check:
   a Job still running ``grace`` seconds after the timeout is deleted and the attempt failed
   (recorded first, deleted second, so a restart never mistakes it for an unstarted attempt).
6. **Cancellation** (``spec.cancel``, set by the V1 engine): the attempt is recorded Cancelled,
   then its Job is deleted; a cancelled ActionExecution never starts anything again.

Status: ``phase`` (Pending|Running|Succeeded|Failed|Cancelled), ``attempts``, ``startTime``,
``completionTime``, ``outputs``, ``message`` and ``attemptHistory`` — one entry per attempt
``{attempt, job, phase, message, startTime, completionTime}``, plus ``outputs`` on the entry of
the successful attempt (exact even for null values, see ``_succeeded``).
"""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from targets.common.outputs import check_required_outputs
from targets.jobs import job_for_attempt

from ...clock import Clock, parse_rfc3339, rfc3339
from ...cluster import ApiError, Cluster, Conflict, JsonObject, NotFound
from ...compile import Compiled, WorkflowCompiler
from ...controller import Controller, Key, Result, TransientError, WatchSpec
from ...events import EventRecorder
from ...failures import FailureReason, StepFailure, timeout_message
from ...metrics import Metrics
from ...status import NOT_RUN_CANCELLED, StepPhase
from ...supplychain.policy_contracts import ContractProblem, check_inputs, parse_contract
from ...verification import ImageContext, ImageVerification, VerificationResult
from ...workqueue import Backoff
from ..base import owner_reference
from ..own_writes import OwnWrites
from ..refusals import Refusal, foreign_owner, quota_retry_delay, refusal
from .names import (
    AE_API_VERSION,
    AE_KIND,
    MANAGED_BY_SELECTOR,
    WFE_API_VERSION,
    WFE_KIND,
    WORKFLOW_GENERATION,
    finished_step_key,
    job_name,
)
from .outputs import (
    DEADLINE_EXCEEDED,
    OutputsError,
    attempt_failure,
    parse_outputs,
    stuck_container,
    terminated_state,
)

__all__ = [
    "CANCELLED_MESSAGE",
    "ActionExecutionController",
    "AttemptSettings",
    "PodLookup",
    "pods_by_label",
]

log = logging.getLogger(__name__)

ENGINE = "jobs"
CANCELLED_MESSAGE = "cancelled"
_FINAL = frozenset({StepPhase.SUCCEEDED.value, StepPhase.FAILED.value, StepPhase.CANCELLED.value})
_RUNNING = StepPhase.RUNNING.value
#: Starts the status message of a step whose Job the API server refused for a quota (retried).
_WAITING = "waiting: "

#: Finds the pods of a Job (``(cluster, job) -> pods``). In a cluster they are listed by the
#: ``job-name`` label; the embedded simulation can look them up by name instead.
PodLookup = Callable[[Cluster, JsonObject], list[JsonObject]]


def pods_by_label(cluster: Cluster, job: JsonObject) -> list[JsonObject]:
    meta = job["metadata"]
    pods = cluster.list("v1", "Pod", meta.get("namespace"), {"job-name": meta["name"]}).items
    return [p for p in pods if any(ref.get("uid") == meta.get("uid")
                                   for ref in p["metadata"].get("ownerReferences") or [])]


def _retry_backoff() -> Backoff:
    return Backoff(base=1.0, factor=2.0, cap=60.0)


@dataclass(frozen=True)
class AttemptSettings:
    #: Delay before attempt n+1: ``backoff.delay(n)`` after attempt n failed.
    backoff: Backoff = field(default_factory=_retry_backoff)
    #: How long past its timeout a Job may run before the controller deletes it.
    grace_seconds: float = 10.0


def _verified_image(ae: Mapping[str, Any], attempt: int) -> str | None:
    """The image attempt ``attempt`` runs: recorded in its history entry when it started."""
    for entry in (ae.get("status") or {}).get("attemptHistory") or []:
        if entry.get("attempt") == attempt and entry.get("image"):
            return str(entry["image"])
    return None


def _terminal_condition(job: Mapping[str, Any]) -> dict[str, Any] | None:
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return dict(condition)
    return None


class ActionExecutionController:
    """Reconciles ActionExecutions (see the module docstring). Add :meth:`controller` to a Manager."""

    NAME = "actionexecutions"

    def __init__(
        self,
        cluster: Cluster,
        clock: Clock,
        compiler: WorkflowCompiler,
        verification: ImageVerification,
        *,
        settings: AttemptSettings | None = None,
        recorder: EventRecorder | None = None,
        metrics: Metrics | None = None,
        pod_lookup: PodLookup = pods_by_label,
    ) -> None:
        self.cluster = cluster
        self.clock = clock
        self.compiler = compiler
        self.verification = verification
        self.settings = settings or AttemptSettings()
        self.recorder = recorder or EventRecorder(cluster, "kubernaut-actionexecution", clock=clock)
        self.metrics = metrics or Metrics()
        self.pod_lookup = pod_lookup
        self._own = OwnWrites()

    def controller(self, workers: int = 1) -> Controller:
        return Controller(
            self.NAME,
            self.reconcile,
            [
                WatchSpec(AE_API_VERSION, AE_KIND, self._own.mapper()),
                WatchSpec("batch/v1", "Job", finished_step_key, label_selector=MANAGED_BY_SELECTOR),
                WatchSpec("v1", "Pod", finished_step_key, label_selector=MANAGED_BY_SELECTOR),
            ],
            workers=workers,
            observer=self.metrics.observe_reconcile,
        )

    # -- reconcile ----------------------------------------------------------------------------------

    def reconcile(self, key: Key) -> Result | None:
        try:
            ae = self.cluster.get(AE_API_VERSION, AE_KIND, key.name, key.namespace)
        except NotFound:
            self._own.forget(key)
            return None
        if ae["metadata"].get("deletionTimestamp"):
            return None  # garbage collection takes its Jobs with it
        spec = ae.get("spec") or {}
        status = ae.get("status") or {}
        attempts = int(status.get("attempts") or 0)
        if status.get("phase") in _FINAL:
            if status.get("phase") == StepPhase.CANCELLED.value and attempts:
                self._stop_job(ae, attempts)
            return None
        if spec.get("cancel"):
            self._cancel(ae)
            return None
        if attempts == 0:
            return self._first_attempt(ae)
        history = list(status.get("attemptHistory") or [])
        entry = history[-1] if history else {"attempt": attempts, "phase": _RUNNING,
                                             "startTime": status.get("startTime")}
        if entry.get("phase") == _RUNNING:
            return self._observe(ae, attempts, history)
        return self._retry_when_due(ae, attempts, entry)

    # -- starting attempts ------------------------------------------------------------------------

    def _first_attempt(self, ae: JsonObject) -> Result | None:
        spec = ae.get("spec") or {}
        image = str(spec.get("image") or "")
        context = ImageContext(ae["metadata"].get("namespace"), spec.get("serviceAccountName") or None)
        verdict = self.verification.check(image, context)
        if not verdict.ok:
            if verdict.retryable:
                message = f"image verification of {image} could not be completed: {verdict.reason}"
                self._warn(ae, "ImageVerificationRetrying", f"{message}; retrying, nothing runs meanwhile")
                raise TransientError(message)
            message = f"image verification failed for {image}: {verdict.reason}"
            self._refuse(ae, message, FailureReason.SIGNATURE_VERIFICATION_FAILED)
            return None
        for warning in verdict.warnings:
            self._warn(ae, "ImagePolicyWarning", f"{image}: {warning}")
        problems = self._contract_problems(ae, verdict)
        if problems:
            self._refuse(ae, f"the inputs of step '{spec.get('step')}' do not fit the contract of {image}: "
                         + "; ".join(problems), FailureReason.INVALID_INPUTS)
            return None
        # The attempt runs what was verified (recorded now), never a reference read again later.
        return self._start_attempt(ae, 1, verdict.image or image)

    def _warn(self, ae: JsonObject, reason: str, message: str) -> None:
        """A Warning Event on the ActionExecution and on its workflow (where people look)."""
        self.recorder.warning(ae, reason, message)
        owner = next((r for r in ae["metadata"].get("ownerReferences") or [] if r.get("kind") == WFE_KIND), None)
        if owner is not None:
            self.recorder.warning({"apiVersion": owner.get("apiVersion"), "kind": WFE_KIND, "metadata": {
                "name": owner.get("name"), "namespace": ae["metadata"].get("namespace"), "uid": owner.get("uid")}},
                reason, message)

    def _refuse(self, ae: JsonObject, message: str, reason: FailureReason) -> None:
        """The step fails before any Job exists: on the step, and in Events."""
        self._warn(ae, reason.value, message)
        failure = StepFailure.of(reason, message)
        self._write(ae, {"phase": StepPhase.FAILED.value, "attempts": 0,
                         "startTime": ae["metadata"].get("creationTimestamp"),
                         "completionTime": self._now(), "message": message, "failure": failure.to_json()})

    def _contract_problems(self, ae: JsonObject, verdict: VerificationResult) -> list[str]:
        """Defense in depth: the resolved inputs against the verified image's own contract."""
        if verdict.contract is None:
            return []
        spec = ae.get("spec") or {}
        try:
            contract = parse_contract(verdict.contract)
        except ContractProblem as exc:
            return [str(exc)]
        inputs = spec.get("resolvedInputs")
        return check_inputs(contract, str(spec.get("actionType") or ""), inputs if isinstance(inputs, dict) else {})

    def _start_attempt(self, ae: JsonObject, attempt: int, image: str | None = None) -> Result | None:
        """Record attempt ``attempt`` as started, then create its Job (in that order). ``image``:
        the verified reference (first attempt); later attempts run the one the previous ran."""
        status = ae.get("status") or {}
        previous = list(status.get("attemptHistory") or [])
        image = image or (previous[-1].get("image") if previous else None)
        history = [*previous, {
            "attempt": attempt, "job": job_name(ae["metadata"]["name"], attempt), "phase": _RUNNING,
            "message": None, "startTime": self._now(), "completionTime": None, "image": image}]
        ae = self._write(ae, {"phase": _RUNNING, "attempts": attempt,
                              "startTime": status.get("startTime") or ae["metadata"].get("creationTimestamp"),
                              "attemptHistory": history})
        if not self._create_job(ae, attempt):
            return None
        return Result(requeue_after=self._timeout(ae) + self.settings.grace_seconds)

    def _create_job(self, ae: JsonObject, attempt: int) -> bool:
        """Create the Job of ``attempt``; False when the step cannot run any more (AE failed)."""
        spec = ae.get("spec") or {}
        meta = ae["metadata"]
        compiled = self._cached_workflow(ae)
        if compiled is None:
            try:
                wfe = self.cluster.get(WFE_API_VERSION, WFE_KIND, spec.get("workflowName", ""), meta.get("namespace"))
            except NotFound:
                return False  # the workflow is gone; garbage collection removes this ActionExecution
            compiled = self.compiler.compile(wfe)
        if compiled.workflow is None:
            self._fail_step(ae, attempt, "the workflow's spec no longer compiles: "
                            + "; ".join(compiled.headlines()[:3]), FailureReason.SPEC_INVALID)
            return False
        try:
            step = compiled.workflow.step(str(spec.get("step")))
        except KeyError:
            self._fail_step(ae, attempt, f"step '{spec.get('step')}' is no longer in the workflow")
            return False
        inputs = spec.get("resolvedInputs")
        if not isinstance(inputs, dict):
            self._fail_step(ae, attempt, "spec.resolvedInputs is missing: the step's inputs were never resolved")
            return False
        image = _verified_image(ae, attempt)
        if image is None:
            self._fail_step(ae, attempt, f"no verified image is recorded for attempt {attempt}; refusing to run "
                            "an unverified image", FailureReason.SIGNATURE_VERIFICATION_FAILED)
            return False
        job = job_for_attempt(compiled.workflow, step.model_copy(update={"image": image}), attempt, inputs)
        job["metadata"]["namespace"] = meta.get("namespace")
        job["metadata"]["ownerReferences"] = [owner_reference(ae)]
        name = job["metadata"]["name"]
        try:
            self.cluster.create(job)
        except Conflict as exc:
            if not exc.already_exists:
                raise
            # Deterministic name: an earlier try (whose answer was lost) created it — or someone
            # else's object has the name, which this step must not follow nor wait for.
            existing = self.cluster.get("batch/v1", "Job", name, meta.get("namespace"))
            uid = str(meta.get("uid") or "")
            if uid and not any(ref.get("uid") == uid for ref in existing["metadata"].get("ownerReferences") or []):
                foreign = foreign_owner(existing, uid, AE_KIND, str(meta["name"]))
                if foreign is not None:
                    self._warn(ae, FailureReason.NAME_CONFLICT.value, foreign)
                    self._fail_step(ae, attempt, foreign, FailureReason.NAME_CONFLICT)
                    return False
                raise TransientError(f"Job {name} of an earlier ActionExecution of the same name is still being "
                                     "deleted") from None
        except ApiError as exc:
            refused = refusal("Job", name, exc)
            if refused is None:
                raise
            self._refused(ae, attempt, refused)
            return False
        if str((ae.get("status") or {}).get("message") or "").startswith(_WAITING):
            self._write(ae, {"message": None})  # the quota let it through: the wait is over
        return True

    def _refused(self, ae: JsonObject, attempt: int, refused: Refusal) -> None:
        """The API server refused the attempt's Job: fail the step now with its reason, or, for a
        quota, say so in the status and try again with backoff (nothing runs meanwhile)."""
        if not refused.retry:
            self._warn(ae, FailureReason.FORBIDDEN.value, refused.message)
            self._fail_step(ae, attempt, refused.message, FailureReason.FORBIDDEN)
            return
        history = (ae.get("status") or {}).get("attemptHistory") or []
        started = parse_rfc3339(str(history[-1].get("startTime"))) if history and history[-1].get("startTime") \
            else self.clock.now()
        delay = quota_retry_delay((self.clock.now() - started).total_seconds())
        message = f"{_WAITING}{refused.message}; retrying in {delay:g}s"
        if (ae.get("status") or {}).get("message") != message:
            self._warn(ae, "CreateRetrying", message)
            self._write(ae, {"message": message})
        raise TransientError(message, retry_after=delay)

    def _cached_workflow(self, ae: JsonObject) -> Compiled | None:
        """The IR of the workflow version that started this step, if this process compiled it."""
        meta = ae["metadata"]
        generation = (meta.get("annotations") or {}).get(WORKFLOW_GENERATION)
        owners = [r.get("uid") for r in meta.get("ownerReferences") or [] if r.get("kind") == WFE_KIND]
        if not generation or not generation.isdigit() or len(owners) != 1 or not owners[0]:
            return None
        return self.compiler.cached(str(owners[0]), int(generation))

    # -- observing a running attempt ------------------------------------------------------------------

    def _observe(self, ae: JsonObject, attempt: int, history: list[dict[str, Any]]) -> Result | None:
        meta = ae["metadata"]
        name = job_name(meta["name"], attempt)
        try:
            job = self.cluster.get("batch/v1", "Job", name, meta.get("namespace"))
        except NotFound:
            # Recorded as started but not created yet (the create failed or never happened).
            if not self._create_job(ae, attempt):
                return None
            return Result(requeue_after=self._timeout(ae) + self.settings.grace_seconds)
        condition = _terminal_condition(job)
        timeout = self._timeout(ae)
        if condition is None:
            stuck = stuck_container(self.pod_lookup(self.cluster, job))
            if stuck is not None:
                # It will not start by itself (the kubelet keeps backing off): the attempt failed
                # (recorded first), and its Job goes (deleted second), as Tekton fails a TaskRun.
                result = self._attempt_failed(ae, attempt, history, stuck, self._now(), "Failed")
                with contextlib.suppress(NotFound):
                    self.cluster.delete("batch/v1", "Job", name, meta.get("namespace"))
                return result
            started = parse_rfc3339(history[-1].get("startTime") or self._now()) if history else self.clock.now()
            overdue = started + timedelta(seconds=timeout + self.settings.grace_seconds)
            remaining = (overdue - self.clock.now()).total_seconds()
            if remaining > 0:
                return Result(requeue_after=remaining)
            # The Job outlived its deadline (the job controller did not stop it): record the
            # failure first, then delete the Job.
            result = self._attempt_failed(ae, attempt, history, StepFailure.of(
                FailureReason.DEADLINE_EXCEEDED, timeout_message(attempt, timeout)), self._now(), "TimedOut")
            with contextlib.suppress(NotFound):
                self.cluster.delete("batch/v1", "Job", name, meta.get("namespace"))
            return result
        pods = self.pod_lookup(self.cluster, job)
        terminated = terminated_state(pods, complete=condition["type"] == "Complete")
        finished_at = str(condition.get("lastTransitionTime") or (job.get("status") or {}).get("completionTime")
                          or self._now())
        if condition["type"] == "Complete":
            if terminated is None:
                message = f"the outputs of job {name} cannot be read: its pod is gone"
                failure = StepFailure.of(FailureReason.INVALID_OUTPUTS, message)
                return self._attempt_failed(ae, attempt, history, failure, finished_at, "Failed")
            spec = ae.get("spec") or {}
            step = str(spec.get("step"))
            try:
                outputs = parse_outputs(terminated.message, step)
                # Keys later steps read are the producer's promise: without one the attempt
                # failed (and is retried), exactly as V2's publish-outputs step fails it.
                check_required_outputs(step, outputs, _required_outputs(spec))
            except OutputsError as exc:
                return self._attempt_failed(ae, attempt, history,
                                            StepFailure.of(FailureReason.INVALID_OUTPUTS, exc.message, 0),
                                            finished_at, "Failed")
            self._succeeded(ae, attempt, history, outputs, finished_at)
            return None
        failure = attempt_failure(attempt, timeout, condition, terminated)
        outcome = "TimedOut" if condition.get("reason") == DEADLINE_EXCEEDED else "Failed"
        return self._attempt_failed(ae, attempt, history, failure, finished_at, outcome)

    def _succeeded(self, ae: JsonObject, attempt: int, history: list[dict[str, Any]], outputs: dict[str, Any],
                   at: str) -> None:
        history = _close(history, StepPhase.SUCCEEDED.value, None, at)
        # A status write is a JSON merge patch, where a nested null means "delete this key": an
        # output whose value is null would vanish from status.outputs. The history is a list,
        # which a merge patch replaces whole, so the attempt's entry keeps the exact outputs and
        # is what the engine reads (step_status_from_action_execution).
        history[-1]["outputs"] = outputs
        self._write(ae, {"phase": StepPhase.SUCCEEDED.value, "attempts": attempt, "completionTime": at,
                         "outputs": outputs, "message": None, "failure": None, "attemptHistory": history})
        self._count_attempt(ae, "Succeeded")

    def _attempt_failed(self, ae: JsonObject, attempt: int, history: list[dict[str, Any]], failure: StepFailure,
                        at: str, outcome: str) -> Result | None:
        message = failure.message
        history = _close(history, StepPhase.FAILED.value, message, at)
        history[-1]["failure"] = failure.to_json()
        retries = int((ae.get("spec") or {}).get("retries") or 0)
        self._count_attempt(ae, outcome)
        # A failure another attempt cannot fix (a non-retryable exit code...) ends the step now.
        if attempt > retries or not failure.retryable:
            self._write(ae, {"phase": StepPhase.FAILED.value, "attempts": attempt, "completionTime": at,
                             "message": message, "failure": failure.to_json(), "attemptHistory": history})
            return None
        ae = self._write(ae, {"message": message, "failure": failure.to_json(), "attemptHistory": history})
        delay = self.settings.backoff.delay(attempt)
        self.recorder.warning(ae, "AttemptFailed", f"attempt {attempt} failed: {message}; "
                              f"attempt {attempt + 1} starts {delay:g}s after the failure")
        return self._retry_when_due(ae, attempt, history[-1])

    def _retry_when_due(self, ae: JsonObject, attempt: int, entry: Mapping[str, Any]) -> Result | None:
        retries = int((ae.get("spec") or {}).get("retries") or 0)
        recorded = StepFailure.from_json(entry.get("failure"))
        if attempt > retries or (recorded is not None and not recorded.retryable):
            # A final failure recorded without the final phase (a crash between the writes): finish it.
            self._write(ae, {"phase": StepPhase.FAILED.value, "completionTime": entry.get("completionTime"),
                             "message": entry.get("message")})
            return None
        failed_at = parse_rfc3339(str(entry.get("completionTime") or self._now()))
        due = failed_at + timedelta(seconds=self.settings.backoff.delay(attempt))
        wait = (due - self.clock.now()).total_seconds()
        if wait > 0:
            return Result(requeue_after=wait)
        return self._start_attempt(ae, attempt + 1)

    # -- cancelling ----------------------------------------------------------------------------------

    def _cancel(self, ae: JsonObject) -> None:
        status = ae.get("status") or {}
        attempts = int(status.get("attempts") or 0)
        history = list(status.get("attemptHistory") or [])
        now = self._now()
        if history and history[-1].get("phase") == _RUNNING:
            history = _close(history, StepPhase.CANCELLED.value, CANCELLED_MESSAGE, now)
            self._count_attempt(ae, "Cancelled")
        message = CANCELLED_MESSAGE if attempts else NOT_RUN_CANCELLED
        ae = self._write(ae, {"phase": StepPhase.CANCELLED.value, "completionTime": now, "message": message,
                              "failure": StepFailure.of(FailureReason.CANCELLED, message).to_json(),
                              "attemptHistory": history})
        if attempts:
            self._stop_job(ae, attempts)

    def _stop_job(self, ae: JsonObject, attempt: int) -> None:
        meta = ae["metadata"]
        name = job_name(meta["name"], attempt)
        try:
            job = self.cluster.get("batch/v1", "Job", name, meta.get("namespace"))
        except NotFound:
            return
        if _terminal_condition(job) is None and not job["metadata"].get("deletionTimestamp"):
            with contextlib.suppress(NotFound):
                self.cluster.delete("batch/v1", "Job", name, meta.get("namespace"))

    # -- helpers ------------------------------------------------------------------------------------

    def _fail_step(self, ae: JsonObject, attempt: int, message: str,
                   reason: FailureReason = FailureReason.DEPENDENCY_MISSING) -> None:
        status = ae.get("status") or {}
        history = _close(list(status.get("attemptHistory") or []), StepPhase.FAILED.value, message, self._now())
        self._write(ae, {"phase": StepPhase.FAILED.value, "attempts": attempt, "completionTime": self._now(),
                         "message": message, "failure": StepFailure.of(reason, message).to_json(),
                         "attemptHistory": history})

    def _write(self, ae: JsonObject, patch: dict[str, Any]) -> JsonObject:
        """Merge ``patch`` into the status, conditional on the version read (409: re-read, retry)."""
        meta = ae["metadata"]
        updated = self.cluster.patch_status(AE_API_VERSION, AE_KIND, meta["name"], meta.get("namespace"),
                                            copy.deepcopy(patch), resource_version=meta.get("resourceVersion"))
        return self._own.record(updated)

    def _timeout(self, ae: JsonObject) -> int:
        return int((ae.get("spec") or {}).get("timeoutSeconds") or 600)

    def _now(self) -> str:
        return rfc3339(self.clock.now())

    def _count_attempt(self, ae: JsonObject, outcome: str) -> None:
        action_type = str((ae.get("spec") or {}).get("actionType") or "unknown")
        self.metrics.step_attempt(ENGINE, action_type, outcome)


def _required_outputs(spec: Mapping[str, Any]) -> list[str]:
    """``spec.requiredOutputs``: the output keys later steps read, written by the V1 engine when it
    created the ActionExecution (so the record decides alone, whichever controller reads it)."""
    keys = spec.get("requiredOutputs") or []
    return [str(key) for key in keys] if isinstance(keys, list) else []


def _close(history: list[dict[str, Any]], phase: str, message: str | None, at: str) -> list[dict[str, Any]]:
    """The history with its last (running) entry ended."""
    if not history:
        return history
    last = dict(history[-1], phase=phase, message=message, completionTime=at)
    return [*history[:-1], last]
