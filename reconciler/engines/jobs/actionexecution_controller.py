"""The ActionExecution controller: one step of a V1 workflow, attempt by attempt, as Jobs.

For an ActionExecution (created by the V1 engine when its step became ready, with the step's
inputs already resolved in ``spec.resolvedInputs`` and its compiled plan in ``spec.jobTemplate``):

1. **Image policy first** (``reconciler.verification``): a rejected image fails the step before
   any Job exists (``SignatureVerificationFailed``); a verifier that could not decide is retried
   (fail closed, never run). The verified reference goes into the first attempt's Job, is
   recorded from there in the attempt's history entry (``image``), and every later attempt's
   Job runs exactly that. The resolved inputs are checked against the verified image's own
   ``/action-contract.yaml`` when it has one (``InvalidInputs``).
2. **One Job per attempt**, built from ``spec.jobTemplate`` alone
   (``targets.jobs.job_from_template``: no read of the workflow, no compile, so no later edit of
   the workflow reaches an attempt), named ``<ae>-<n>`` and owned by the ActionExecution.
   Nothing is written before the Job: the attempt in progress is the one after the last
   recorded outcome, and its Job, found by its deterministic name in the cache, is the record
   that it started ("already exists" on create means success). So a restart or a lost
   response can never create a second Job for an attempt, nor attempt n+1 before attempt n's
   outcome was recorded.
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

Status, written **once per attempt outcome** (issue 13; nothing while an attempt runs, so a
step's first attempt has no status yet): ``phase`` (Running while a retry is due, then
Succeeded|Failed|Cancelled), ``attempts`` (attempts that ended), ``startTime``,
``completionTime``, ``outputs``, ``message`` and ``attemptHistory`` — one entry per ended attempt
``{attempt, job, phase, message, startTime, completionTime, image}``, plus ``outputs`` on the
entry of the successful attempt (exact even for null values, see ``_succeeded``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from compiler.contracts import ActionContract
from targets.common.outputs import check_required_outputs
from targets.jobs import job_from_template
from targets.jobs.job import CONTAINER_NAME

from ...clock import Clock, parse_rfc3339, rfc3339
from ...cluster import ApiError, Cluster, Conflict, JsonObject, NotFound
from ...controller import Controller, Key, Result, TransientError, WatchSpec
from ...events import EventRecorder
from ...failures import FailureReason, StepFailure, timeout_message
from ...metrics import Metrics
from ...status import NOT_RUN_CANCELLED, StepPhase
from ...supplychain.policy_contracts import ContractProblem, check_inputs, parse_contract
from ...verification import ImageContext, ImageVerification, VerificationResult
from ...workqueue import Backoff
from ..action_rbac import borrowed_role
from ..base import owner_reference
from ..own_writes import OwnWrites
from ..refusals import Refusal, foreign_owner, quota_retry_delay, refusal
from .lookup import job_or_none
from .names import (
    AE_API_VERSION,
    AE_KIND,
    MANAGED_BY_SELECTOR,
    WFE_KIND,
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
    "ended_attempts",
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
    """The image attempt ``attempt`` ran: recorded in its history entry from its Job."""
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
        verification: ImageVerification,
        *,
        settings: AttemptSettings | None = None,
        recorder: EventRecorder | None = None,
        metrics: Metrics | None = None,
        pod_lookup: PodLookup = pods_by_label,
    ) -> None:
        self.cluster = cluster
        self.clock = clock
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
        if status.get("phase") in _FINAL:
            attempts = int(status.get("attempts") or 0)
            ended = [attempts] if attempts else []
            if status.get("phase") == StepPhase.CANCELLED.value:
                # A cancellation recorded while the cache did not show the attempt's Job yet
                # names only the attempts before it: that Job is the one after them.
                ended.append(attempts + 1)
            for attempt in ended:
                # The last attempt ended (cancelled, timed out, stuck) but its Job may still run:
                # the delete after the record failed or its answer was lost. Delete it again.
                self._stop_job(ae, attempt)
            return None
        history = ended_attempts(status)
        if spec.get("cancel"):
            self._cancel(ae, history)
            return None
        # The attempt in progress is the one after the last recorded outcome; its Job (by its
        # deterministic name, from the cache) says whether it started.
        attempt = len(history) + 1
        job = self._job(ae, attempt)
        if job is not None:
            return self._observe(ae, attempt, history, job)
        if not history:
            return self._first_attempt(ae)
        self._stop_job(ae, len(history))  # as above, while the next attempt waits for its backoff
        return self._retry_when_due(ae, len(history), history[-1])

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
        if (borrowed := borrowed_role(self.cluster, ae, _signed_contract(verdict))) is not None:
            self._refuse(ae, borrowed, FailureReason.PERMISSIONS_NOT_DECLARED)
            return None
        problems = self._contract_problems(ae, verdict)
        if problems:
            self._refuse(ae, f"the inputs of step '{spec.get('step')}' do not fit the contract of {image}: "
                         + "; ".join(problems), FailureReason.INVALID_INPUTS)
            return None
        # The attempt runs what was verified (its Job holds it, and the attempt's history entry
        # records it from there), never a reference read again later.
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
        """Create the Job of ``attempt``: nothing is written before it (the Job, named
        deterministically, is the record that the attempt started). ``image``: the verified
        reference (first attempt); later attempts run the one the previous attempt ran."""
        image = image or _verified_image(ae, attempt - 1)
        if image is None:
            self._fail_step(ae, attempt, f"no verified image is recorded for attempt {attempt - 1}; refusing to "
                            "run an unverified image", FailureReason.SIGNATURE_VERIFICATION_FAILED)
            return None
        if not self._create_job(ae, attempt, image):
            return None
        return Result(requeue_after=self._timeout(ae) + self.settings.grace_seconds)

    def _create_job(self, ae: JsonObject, attempt: int, image: str) -> bool:
        """Create the Job of ``attempt`` from ``spec.jobTemplate`` alone (the plan the workflow
        controller compiled when the step started: no workflow read, no compile); False when the
        step cannot run any more (the ActionExecution failed)."""
        spec = ae.get("spec") or {}
        meta = ae["metadata"]
        name = job_name(meta["name"], attempt)
        template = spec.get("jobTemplate")
        if not isinstance(template, dict):
            self._fail_step(ae, attempt, "spec.jobTemplate is missing: the step's plan was never recorded (an "
                            "ActionExecution not created by this controller version); nothing runs without it",
                            FailureReason.SPEC_INVALID)
            return False
        try:
            job = job_from_template(template, name, meta.get("namespace"), attempt, image)
        except ValueError as exc:
            self._fail_step(ae, attempt, f"spec.jobTemplate is invalid: {exc}", FailureReason.SPEC_INVALID)
            return False
        job["metadata"]["ownerReferences"] = [owner_reference(ae)]
        try:
            self.cluster.create(job)
        except Conflict as exc:
            if not exc.already_exists:
                raise
            # Deterministic name: an earlier try (whose answer was lost) created it — or someone
            # else's object has the name, which this step must not follow nor wait for.
            existing = self.cluster.get("batch/v1", "Job", name, meta.get("namespace"))
            uid = str(meta.get("uid") or "")
            if uid and not _owned_by(existing, uid):
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
        # Waiting since the attempt became due: the previous attempt's end, or the step's start.
        history = ended_attempts(ae.get("status") or {})
        since = history[-1].get("completionTime") if history else ae["metadata"].get("creationTimestamp")
        started = parse_rfc3339(str(since)) if since else self.clock.now()
        delay = quota_retry_delay((self.clock.now() - started).total_seconds())
        message = f"{_WAITING}{refused.message}; retrying in {delay:g}s"
        if (ae.get("status") or {}).get("message") != message:
            self._warn(ae, "CreateRetrying", message)
            self._write(ae, {"message": message})
        raise TransientError(message, retry_after=delay)

    # -- observing a running attempt ------------------------------------------------------------------

    def _job(self, ae: JsonObject, attempt: int) -> JsonObject | None:
        """The Job of ``attempt`` if it exists and is this ActionExecution's."""
        meta = ae["metadata"]
        job = job_or_none(self.cluster, job_name(meta["name"], attempt), meta.get("namespace"))
        uid = str(meta.get("uid") or "")
        return job if job is not None and (not uid or _owned_by(job, uid)) else None

    def _observe(self, ae: JsonObject, attempt: int, history: list[dict[str, Any]],
                 job: JsonObject) -> Result | None:
        meta = ae["metadata"]
        name = job["metadata"]["name"]
        condition = _terminal_condition(job)
        timeout = self._timeout(ae)
        if condition is None:
            stuck = stuck_container(self.pod_lookup(self.cluster, job))
            if stuck is not None:
                # It will not start by itself (the kubelet keeps backing off): the attempt failed
                # (recorded first), and its Job goes (deleted second), as Tekton fails a TaskRun.
                result = self._attempt_failed(ae, attempt, history, job, stuck, self._now(), "Failed")
                with contextlib.suppress(NotFound):
                    self.cluster.delete("batch/v1", "Job", name, meta.get("namespace"))
                return result
            started = parse_rfc3339(str(job["metadata"].get("creationTimestamp") or self._now()))
            overdue = started + timedelta(seconds=timeout + self.settings.grace_seconds)
            remaining = (overdue - self.clock.now()).total_seconds()
            if remaining > 0:
                return Result(requeue_after=remaining)
            # The Job outlived its deadline (the job controller did not stop it): record the
            # failure first, then delete the Job.
            result = self._attempt_failed(ae, attempt, history, job, StepFailure.of(
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
                return self._attempt_failed(ae, attempt, history, job, failure, finished_at, "Failed")
            spec = ae.get("spec") or {}
            step = str(spec.get("step"))
            try:
                outputs = parse_outputs(terminated.message, step)
                # Keys later steps read are the producer's promise: without one the attempt
                # failed (and is retried), exactly as V2's publish-outputs step fails it.
                check_required_outputs(step, outputs, _required_outputs(spec))
            except OutputsError as exc:
                return self._attempt_failed(ae, attempt, history, job,
                                            StepFailure.of(FailureReason.INVALID_OUTPUTS, exc.message, 0),
                                            finished_at, "Failed")
            self._succeeded(ae, attempt, history, job, outputs, finished_at)
            return None
        failure = attempt_failure(attempt, timeout, condition, terminated)
        outcome = "TimedOut" if condition.get("reason") == DEADLINE_EXCEEDED else "Failed"
        return self._attempt_failed(ae, attempt, history, job, failure, finished_at, outcome)

    def _succeeded(self, ae: JsonObject, attempt: int, history: list[dict[str, Any]], job: JsonObject,
                   outputs: dict[str, Any], at: str) -> None:
        entry = _entry(attempt, job, StepPhase.SUCCEEDED.value, None, at)
        # A status write is a JSON merge patch, where a nested null means "delete this key": an
        # output whose value is null would vanish from status.outputs. The history is a list,
        # which a merge patch replaces whole, so the attempt's entry keeps the exact outputs and
        # is what the engine reads (step_status_from_action_execution).
        entry["outputs"] = outputs
        self._write(ae, {"phase": StepPhase.SUCCEEDED.value, "attempts": attempt, "startTime": self._started(ae),
                         "completionTime": at, "outputs": outputs, "message": None, "failure": None,
                         "attemptHistory": [*history, entry]})
        self._count_attempt(ae, "Succeeded")

    def _attempt_failed(self, ae: JsonObject, attempt: int, history: list[dict[str, Any]], job: JsonObject,
                        failure: StepFailure, at: str, outcome: str) -> Result | None:
        """Record the attempt's failure in one write: final (no retry left, or one cannot help),
        or Running with the backoff's next attempt due."""
        message = failure.message
        entry = _entry(attempt, job, StepPhase.FAILED.value, message, at)
        entry["failure"] = failure.to_json()
        history = [*history, entry]
        retries = int((ae.get("spec") or {}).get("retries") or 0)
        self._count_attempt(ae, outcome)
        final = attempt > retries or not failure.retryable
        ae = self._write(ae, {"phase": StepPhase.FAILED.value if final else _RUNNING, "attempts": attempt,
                              "startTime": self._started(ae), "completionTime": at if final else None,
                              "message": message, "failure": failure.to_json(), "attemptHistory": history})
        if final:
            return None
        delay = self.settings.backoff.delay(attempt)
        self.recorder.warning(ae, "AttemptFailed", f"attempt {attempt} failed: {message}; "
                              f"attempt {attempt + 1} starts {delay:g}s after the failure")
        return self._retry_when_due(ae, attempt, entry)

    def _retry_when_due(self, ae: JsonObject, attempt: int, entry: Mapping[str, Any]) -> Result | None:
        retries = int((ae.get("spec") or {}).get("retries") or 0)
        recorded = StepFailure.from_json(entry.get("failure"))
        if attempt > retries or (recorded is not None and not recorded.retryable):
            # A final failure recorded without the final phase (written by an older version, in
            # two writes, with a crash in between): finish it.
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

    def _cancel(self, ae: JsonObject, history: list[dict[str, Any]]) -> None:
        attempt = len(history) + 1
        job = self._job(ae, attempt)
        now = self._now()
        if job is not None:
            history = [*history, _entry(attempt, job, StepPhase.CANCELLED.value, CANCELLED_MESSAGE, now)]
            self._count_attempt(ae, "Cancelled")
        attempts = len(history)
        message = CANCELLED_MESSAGE if attempts else NOT_RUN_CANCELLED
        ae = self._write(ae, {"phase": StepPhase.CANCELLED.value, **({"attempts": attempts} if attempts else {}),
                              "startTime": self._started(ae), "completionTime": now, "message": message,
                              "failure": StepFailure.of(FailureReason.CANCELLED, message).to_json(),
                              "attemptHistory": history})
        if job is not None:
            self._stop_job(ae, attempt)
        else:
            # The cache may not show a Job created a moment ago: delete by name (a cancelled
            # step never runs on), whatever the answer.
            with contextlib.suppress(NotFound):
                self.cluster.delete("batch/v1", "Job", job_name(ae["metadata"]["name"], attempt),
                                    ae["metadata"].get("namespace"))

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
        """Attempt ``attempt`` cannot be started: the step fails (the attempt's entry says why)."""
        status = ae.get("status") or {}
        now = self._now()
        entry = {"attempt": attempt, "job": job_name(ae["metadata"]["name"], attempt),
                 "phase": StepPhase.FAILED.value, "message": message, "startTime": now, "completionTime": now}
        failure = StepFailure.of(reason, message).to_json()
        self._write(ae, {"phase": StepPhase.FAILED.value, "attempts": attempt, "startTime": self._started(ae),
                         "completionTime": now, "message": message, "failure": failure,
                         "attemptHistory": [*ended_attempts(status), entry]})

    def _write(self, ae: JsonObject, patch: dict[str, Any]) -> JsonObject:
        """Merge ``patch`` into the status, conditional on the version read (409: re-read, retry).
        ``patch`` is sent as it is: built for this write, never edited after it."""
        meta = ae["metadata"]
        updated = self.cluster.patch_status(AE_API_VERSION, AE_KIND, meta["name"], meta.get("namespace"),
                                            patch, resource_version=meta.get("resourceVersion"))
        return self._own.record(updated)

    def _started(self, ae: JsonObject) -> str | None:
        """``status.startTime``: the step started when its ActionExecution was created."""
        return (ae.get("status") or {}).get("startTime") or ae["metadata"].get("creationTimestamp")

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


def ended_attempts(status: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``attemptHistory`` entries of attempts that ended (one is written per outcome). An entry
    still Running (written by an older version before its Job) is the attempt in progress."""
    return [dict(e) for e in status.get("attemptHistory") or [] if isinstance(e, dict) and e.get("phase") != _RUNNING]


def _owned_by(obj: JsonObject, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])


def _job_image(job: Mapping[str, Any]) -> str | None:
    """The image the attempt's action container runs (the reference verified for the step)."""
    pod = ((job.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in pod.get("containers") or []:
        if container.get("name") == CONTAINER_NAME:
            return str(container.get("image") or "") or None
    return None


def _entry(attempt: int, job: JsonObject, phase: str, message: str | None, at: str) -> dict[str, Any]:
    """The history entry of an attempt that ended: when its Job was created, when it ended, and
    the image it ran (later attempts run the same one)."""
    return {"attempt": attempt, "job": job["metadata"]["name"], "phase": phase, "message": message,
            "startTime": job["metadata"].get("creationTimestamp"), "completionTime": at, "image": _job_image(job)}


def _signed_contract(verdict: VerificationResult) -> ActionContract | None:
    """The verified image's contract, or None (none, or unreadable: the inputs check reports that)."""
    if verdict.contract is None:
        return None
    try:
        return parse_contract(verdict.contract)
    except ContractProblem:
        return None
