"""A simulated job controller and kubelet for ``MemoryCluster``: Jobs run without a cluster.

``JobSimulator`` is an ordinary level-triggered controller over Jobs (and their Pods). For each
Job it does what the real job controller and kubelet would make visible through the API:

1. creates the Pod (``<job>-<5 chars>``, deterministic from the Job's uid; labels ``job-name``,
   ``batch.kubernetes.io/job-name``, ``controller-uid``, ``batch.kubernetes.io/controller-uid``;
   a controller ownerReference; the template's spec) and sets the Job's ``startTime``/``active``;
2. "runs" it: a scripted :class:`~reconciler.simulation.outcomes.AttemptOutcome` for the Job's
   ``kubernaut.ai/step`` and ``kubernaut.ai/attempt`` labels if there is one; else the action's
   local entrypoint (looked up by the ``kubernaut.ai/action-type`` annotation) as a subprocess
   with the container's env; else a plain success with ``{}`` outputs;
3. when the run's duration has passed on the clock, terminates the Pod (``phase``,
   ``containerStatuses[].state.terminated`` with exit code, reason, termination message and
   times) and finishes the Job the way Kubernetes >= 1.31 does: the interim condition first
   (``SuccessCriteriaMet`` / ``FailureTarget``), then the terminal one (``Complete`` with
   ``completionTime`` / ``Failed`` with reason ``BackoffLimitExceeded`` or ``DeadlineExceeded``).

``spec.backoffLimit`` (default 6, as the API server defaults it) is honoured with the job
controller's pod backoff (10 s doubling, at most 6 min); ``spec.activeDeadlineSeconds`` kills the
running Pod (exit 143) and fails the Job with ``DeadlineExceeded``.

Durations are measured on the injected clock: with a ``VirtualClock`` a 3-minute step takes no
real time (the Manager jumps to the requeue timer); with a ``RealClock`` it takes 3 minutes.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import itertools
import json
import logging
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from targets.common.failures import script_failure_lines
from targets.common.interfaces import OUTPUTS_ENV
from targets.common.labels import ACTION_TYPE as ACTION_TYPE_ANNOTATION
from targets.common.labels import ATTEMPT as ATTEMPT_LABEL
from targets.common.labels import STEP as STEP_LABEL

from ..clock import Clock, parse_rfc3339, rfc3339
from ..cluster import Cluster, Conflict, JsonObject, NotFound
from ..cluster.snapshots import freeze
from ..controller import Controller, Key, Result, WatchSpec, object_key, owner_key
from ..events import EventRecorder
from .informer_reads import InformerReads
from .kubelet import expand
from .outcomes import AttemptOutcome, Outcomes
from .own_writes import OwnWrites, same_but_status
from .process import kubelet_termination_file, run_entrypoint, termination_message

__all__ = [
    "ACTION_TYPE_ANNOTATION",
    "ATTEMPT_LABEL",
    "STEP_LABEL",
    "JobSimulator",
    "RunOutcome",
    "job_finished",
    "pod_name",
]

log = logging.getLogger(__name__)

INPUTS_ENV = "ACTION_INPUTS"

_JOB_API = "batch/v1"
_JOB_NAME_LABELS = ("job-name", "batch.kubernetes.io/job-name")
_CONTROLLER_UID_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # apiserver's generateName alphabet
_MAX_NAME_BASE = 58  # 63 - 5, as generateName truncates
_DEFAULT_BACKOFF_LIMIT = 6
_POD_BACKOFF_BASE = 10.0
_POD_BACKOFF_CAP = 360.0
_EXIT_TERMINATED = 143  # SIGTERM from the kubelet when the job controller deletes the pod
_EPSILON = 1e-6  # timers computed in floating point may fire a hair early
_DEFAULT_ENTRYPOINT_TIMEOUT = 600.0

_COMPLETE_REASON = "CompletionsReached"
_COMPLETE_MESSAGE = "Reached expected number of succeeded pods"
_BACKOFF_REASON = "BackoffLimitExceeded"
_BACKOFF_MESSAGE = "Job has reached the specified backoff limit"
_DEADLINE_REASON = "DeadlineExceeded"
_DEADLINE_MESSAGE = "Job was active longer than specified deadline"
_POD_FAILURE_POLICY_REASON = "PodFailurePolicy"


@dataclass(frozen=True)
class RunOutcome:
    """How one simulated container run ends."""

    exit_code: int
    message: str  # the termination message (outputs JSON on success)
    duration: float  # clock seconds from start to exit
    log: str = ""  # what the container printed (stdout, then stderr): ``kubectl logs``
    oom_killed: bool = False  # the container's terminated reason is OOMKilled
    disrupted: bool = False  # the pod fails with condition DisruptionTarget (eviction, preemption)
    waiting: tuple[str, str] | None = None  # (reason, message): the container never starts

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0


@dataclass(frozen=True)
class _Run:
    started: float  # clock.monotonic() when the container started
    outcome: RunOutcome

    def remaining(self, now: float) -> float:
        return self.started + self.outcome.duration - now


@functools.lru_cache(maxsize=8192)
def pod_name(job_name: str, job_uid: str, index: int = 0) -> str:
    """``<job>-<5 chars>``: what generateName would give, but derived from the Job's uid (and
    the pod's index for backoff retries) so a restarted simulator finds the same Pod.

    Memoized: every reconcile of a Job (and kubernaut's pod lookup) derives the same names
    again, and a pure function of its arguments cannot go stale."""
    digest = hashlib.sha256(f"{job_uid}/{index}".encode()).digest()
    suffix = "".join([_NAME_ALPHABET[b % len(_NAME_ALPHABET)] for b in digest[:5]])
    return f"{job_name}-"[:_MAX_NAME_BASE] + suffix


def job_finished(job: Mapping[str, Any]) -> str | None:
    """``Complete`` or ``Failed`` when the Job has that terminal condition, else None."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return str(condition["type"])
    return None


def _condition(status: Mapping[str, Any], kind: str) -> JsonObject | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == kind and condition.get("status") == "True":
            return dict(condition)
    return None


def _phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "Pending")


def _terminal(pod: Mapping[str, Any]) -> bool:
    return _phase(pod) in ("Succeeded", "Failed")


class JobSimulator:
    """The simulated job controller + kubelet. Add :meth:`controller` to a ``Manager``."""

    def __init__(
        self,
        cluster: Cluster,
        clock: Clock,
        *,
        outcomes: Outcomes | None = None,
        entrypoints: Mapping[str, Sequence[str]] | None = None,
        default_duration: float = 1.0,
        entrypoint_timeout: float = _DEFAULT_ENTRYPOINT_TIMEOUT,
        record_events: bool = False,
        name: str = "job-simulator",
    ) -> None:
        if default_duration < 0:
            raise ValueError("default_duration must not be negative")
        self.cluster = cluster
        self.clock = clock
        # Jobs and Pods are read from its informers as read-only snapshots (no request, no copy).
        self._reads = InformerReads(cluster, clock, [(_JOB_API, "Job"), ("v1", "Pod")])
        self._api = self._reads.api
        self.outcomes = outcomes or Outcomes()
        self.entrypoints = dict(entrypoints or {})
        self.default_duration = default_duration
        self.entrypoint_timeout = entrypoint_timeout
        self.name = name
        self.events = EventRecorder(cluster, "job-controller", clock=clock) if record_events else None
        # Runs in progress by pod uid: the container's result is computed once, when it starts.
        # A restarted simulator recomputes it (scripts and entrypoints are deterministic).
        self._runs: dict[str, _Run] = {}
        # The Job and Pod versions its own writes made: their events do not queue the Job again
        # (the writing reconcile asked for its own wake-up).
        self._own = OwnWrites()
        self._lock = threading.Lock()
        #: How many entrypoint subprocesses were started (tests, benchmarks).
        self.processes_started = 0

    def controller(self, workers: int = 1) -> Controller:
        return Controller(
            self.name,
            self.reconcile,
            [WatchSpec(_JOB_API, "Job", self._changed_job), WatchSpec("v1", "Pod", self._job_of_changed_pod)],
            workers=workers,
            informers=self._reads.informers,
        )

    def _changed_job(self, job: JsonObject) -> list[Key]:
        return [] if self._own_version(_JOB_API, "Job", job) else object_key(job)

    def _job_of_changed_pod(self, pod: JsonObject) -> list[Key]:
        return [] if self._own_version("v1", "Pod", pod) else list(_owner_job(pod))

    def _own_version(self, api_version: str, kind: str, obj: JsonObject) -> bool:
        """Whether a watch event is of a version its own write made (a deleted object, no
        longer the informer's, never is)."""
        meta = obj["metadata"]
        return (self._own.arrived(obj)
                and self._reads.peek(api_version, kind, meta["name"], meta["namespace"]) is obj)

    # -- reconcile ----------------------------------------------------------------------------------

    def reconcile(self, key: Key) -> Result | None:
        job = self._reads.peek(_JOB_API, "Job", key.name, key.namespace or "default")
        if job is None:
            return None  # deleted: garbage collection removes its pods
        meta = job["metadata"]
        if meta.get("deletionTimestamp") or job_finished(job) or (job.get("spec") or {}).get("suspend"):
            if job_finished(job):  # woken once more after all: nothing of its writes left to drop
                self._own.forget(meta["uid"])
                for pod in self._pods(job):
                    self._own.forget(pod["metadata"]["uid"])
            return None
        status = dict(job.get("status") or {})
        # A Job's first sync: its start goes into the status write that ends this pass, as the job
        # controller writes startTime together with the pods it created (one write, not two).
        start: JsonObject = {}
        if not status.get("startTime"):
            start = {"startTime": rfc3339(self.clock.now()), "active": None, "ready": 0, "terminating": 0,
                     "uncountedTerminatedPods": {}}
            status.update(start)
        pods = self._pods(job)

        failure = _condition(status, "FailureTarget")
        if failure is not None:  # a failure decided before a restart: finish it
            self._fail(job, status, pods, failure["reason"], failure["message"], start)
            return None

        pods = [self._advance(job, pod) for pod in pods]
        succeeded = sum(1 for p in pods if _phase(p) == "Succeeded")
        matched = [(pod, _pod_failure_rule(job, pod)) for pod in pods if _phase(pod) == "Failed"]
        fail_job = next(((pod, rule) for pod, rule in matched if rule and rule[0] == "FailJob"), None)
        if fail_job is not None:
            self._fail(job, status, pods, _POD_FAILURE_POLICY_REASON, fail_job[1][1], start)
            return None
        # Failures an Ignore rule matched (disruptions) are not counted against backoffLimit.
        counted = sum(1 for _, rule in matched if not rule or rule[0] != "Ignore")
        failed = max(int(status.get("failed") or 0), counted)
        active = [p for p in pods if not _terminal(p) and not p["metadata"].get("deletionTimestamp")]
        spec = job.get("spec") or {}
        backoff_limit = int(spec.get("backoffLimit", _DEFAULT_BACKOFF_LIMIT))

        if succeeded >= 1:
            self._complete(job, status, succeeded, failed, start)
            return None
        if failed > backoff_limit:
            self._fail(job, status, pods, _BACKOFF_REASON, _BACKOFF_MESSAGE, start)
            return None
        deadline_in = self._deadline_in(job, status)
        if deadline_in is not None and deadline_in <= _EPSILON:
            self._fail(job, status, pods, _DEADLINE_REASON, _DEADLINE_MESSAGE, start)
            return None

        waits = [deadline_in] if deadline_in is not None else []
        if not active:
            retry_in = self._pod_backoff_in(pods, failed)
            if retry_in > _EPSILON:
                waits.append(retry_in)
            else:
                # Created and started in one pass; it ends on a later pass (its timer), even
                # with a zero duration, so watchers always see it Running first.
                pod = self._advance(job, self._create_pod(job, index=len(pods)))
                pods.append(pod)
                active = [pod]
        for pod in active:
            run = self._run_of(pod)
            if run is not None:
                waits.append(max(run.remaining(self.clock.monotonic()), 0.0))
        self._patch_counts(job, status, active, succeeded, failed, start)
        return Result(requeue_after=min(waits)) if waits else None

    # -- pods -----------------------------------------------------------------------------------------

    def _pods(self, job: JsonObject) -> list[JsonObject]:
        """The Job's pods, oldest first. Their names are deterministic, so they are read by name
        (index 0, 1, ... until one is missing) instead of filtering every Pod of the namespace,
        which would grow with the number of pods in the cluster."""
        meta = job["metadata"]
        pods = []
        for index in itertools.count():
            pod = self._reads.peek("v1", "Pod", pod_name(meta["name"], meta["uid"], index), meta["namespace"])
            if pod is None:
                break
            if not any(ref.get("uid") == meta["uid"] for ref in pod["metadata"].get("ownerReferences") or []):
                break  # a foreign pod with our name: not ours to run or count
            pods.append(pod)
        return pods

    def _create_pod(self, job: JsonObject, index: int) -> JsonObject:
        meta = job["metadata"]
        template = (job.get("spec") or {}).get("template") or {}
        template_meta = template.get("metadata") or {}
        labels = dict(template_meta.get("labels") or {})
        for label in _JOB_NAME_LABELS:
            labels[label] = meta["name"]
        for label in _CONTROLLER_UID_LABELS:
            labels[label] = meta["uid"]
        pod_meta: JsonObject = {
            "name": pod_name(meta["name"], meta["uid"], index),
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": meta["name"],
                                 "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}],
        }
        if template_meta.get("annotations"):
            pod_meta["annotations"] = dict(template_meta["annotations"])
        # The template's spec as read: a create copies its body (never writes into it), so the
        # read-only snapshot goes in as it is, without a copy.
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template.get("spec") or {}}
        try:
            created = self._api.create(pod)
            self._own.made(created)
        except Conflict as exc:
            if not exc.already_exists:
                raise
            # Deterministic name: an earlier attempt (whose answer was lost) created it.
            created = self._api.get_fresh("v1", "Pod", pod_meta["name"], meta["namespace"])
        if self.events is not None:
            self.events.normal(job, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")
        return created

    def _advance(self, job: JsonObject, pod: JsonObject) -> JsonObject:
        """Start a pending pod; terminate a running one whose run is over."""
        if _terminal(pod) or pod["metadata"].get("deletionTimestamp"):
            return pod
        status = pod.get("status") or {}
        if not status.get("startTime"):
            return self._start(job, pod)
        run = self._run_of(pod)
        if run is None:
            run = self._resume(job, pod)
        if run.remaining(self.clock.monotonic()) > _EPSILON:
            return pod
        return self._terminate(pod, run.outcome, started_at=self._started_at(pod))

    def _start(self, job: JsonObject, pod: JsonObject) -> JsonObject:
        started = self.clock.monotonic()
        now = rfc3339(self.clock.now())
        outcome = self._outcome(job, pod)
        with self._lock:
            self._runs[pod["metadata"]["uid"]] = _Run(started, outcome)
        self._write_log(pod, outcome)
        containers = (pod.get("spec") or {}).get("containers") or []
        if outcome.waiting is not None:
            # The container is never created (an image that cannot be pulled, a missing Secret):
            # the pod stays Pending with the kubelet's reason until someone deletes it.
            reason, message = outcome.waiting
            return self._patch_pod(pod, {"phase": "Pending", "startTime": now, "containerStatuses": [
                {"name": c.get("name"), "image": c.get("image"), "imageID": "", "ready": False, "restartCount": 0,
                 "started": False, "state": {"waiting": {"reason": reason, "message": message}}}
                for c in containers]})
        names = tuple((c.get("name"), c.get("image")) for c in containers)
        try:
            statuses = _running_statuses(names, now)
        except TypeError:  # a name or image that is not a string (unhashable): built for this pod
            statuses = _running_statuses.__wrapped__(names, now)
        return self._patch_pod(pod, {"phase": "Running", "startTime": now, "conditions": _ready_conditions(now),
                                     "containerStatuses": statuses})

    def _resume(self, job: JsonObject, pod: JsonObject) -> _Run:
        """Rebuild a run lost with a restarted simulator, from the pod's recorded start time."""
        elapsed = (self.clock.now() - self._started_at(pod)).total_seconds()
        run = _Run(self.clock.monotonic() - max(elapsed, 0.0), self._outcome(job, pod))
        with self._lock:
            self._runs[pod["metadata"]["uid"]] = run
        self._write_log(pod, run.outcome)
        return run

    def _write_log(self, pod: JsonObject, outcome: RunOutcome) -> None:
        """The action container's log, where ``kubectl logs`` (``read_pod_log``) finds it. The
        whole run is decided when it starts, so its log is complete from the start."""
        write = getattr(self.cluster, "write_pod_log", None)
        if write is not None:
            meta = pod["metadata"]
            write(meta["namespace"], meta["name"], str(_action_container(pod).get("name") or ""), outcome.log)

    def _run_of(self, pod: JsonObject) -> _Run | None:
        with self._lock:
            return self._runs.get(pod["metadata"]["uid"])

    def _started_at(self, pod: JsonObject) -> datetime:
        status = pod.get("status") or {}
        return parse_rfc3339(status.get("startTime") or pod["metadata"]["creationTimestamp"])

    def _terminate(self, pod: JsonObject, outcome: RunOutcome, *, started_at: datetime,
                   killed: bool = False) -> JsonObject:
        now = rfc3339(self.clock.now())
        exit_code = _EXIT_TERMINATED if killed else outcome.exit_code
        message = "" if killed or outcome.disrupted else outcome.message
        reason = "Completed" if exit_code == 0 else "OOMKilled" if outcome.oom_killed and not killed else "Error"
        terminated: JsonObject = {"exitCode": exit_code, "reason": reason,
                                  "startedAt": rfc3339(started_at), "finishedAt": now, "containerID": ""}
        if message:
            terminated["message"] = message
        containers = (pod.get("spec") or {}).get("containers") or []
        statuses = []
        for i, container in enumerate(containers):
            # The action is the first container; any others (sidecars) end with it.
            state = dict(terminated) if i == 0 else {
                "exitCode": 0, "reason": "Completed", "startedAt": rfc3339(started_at), "finishedAt": now}
            statuses.append({"name": container.get("name"), "image": container.get("image"), "imageID": "",
                             "ready": False, "restartCount": 0, "started": False,
                             "state": {"terminated": state}})
        not_ready = {"lastProbeTime": None, "lastTransitionTime": now, "status": "False",
                     "reason": "PodCompleted"}
        old_conditions = (pod.get("status") or {}).get("conditions") or []
        conditions = [dict(c, **not_ready) if c.get("type") in ("Ready", "ContainersReady",
                                                                 "PodReadyToStartContainers") else c
                      for c in old_conditions]
        if outcome.disrupted and not killed:
            # What the eviction API (or preemption) adds before the kubelet stops the pod.
            conditions.append({"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI",
                               "message": "Eviction API: evicting", "lastProbeTime": None,
                               "lastTransitionTime": now})
        phase = "Succeeded" if exit_code == 0 else "Failed"
        with self._lock:
            self._runs.pop(pod["metadata"]["uid"], None)
        return self._patch_pod(pod, {"phase": phase, "conditions": conditions, "containerStatuses": statuses})

    def _patch_pod(self, pod: JsonObject, status: JsonObject) -> JsonObject:
        meta = pod["metadata"]
        written = self._api.patch_status("v1", "Pod", meta["name"], meta["namespace"], status)
        if same_but_status(written, pod):
            self._own.made(written)
        return written

    # -- outcomes ---------------------------------------------------------------------------------

    def _outcome(self, job: JsonObject, pod: JsonObject) -> RunOutcome:
        meta = job["metadata"]
        labels = meta.get("labels") or {}
        step = labels.get(STEP_LABEL)
        attempt = _int(labels.get(ATTEMPT_LABEL), 1)
        scripted = self.outcomes.for_run(step, attempt, _pod_index(job, pod)) if step else None
        if scripted is not None:
            return _scripted(scripted, str(_action_container(pod).get("image") or ""))
        action_type = (meta.get("annotations") or {}).get(ACTION_TYPE_ANNOTATION) or (
            (((job.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("annotations")
            or {}).get(ACTION_TYPE_ANNOTATION)
        command = self.entrypoints.get(action_type) if action_type else None
        if command:
            return self._execute(job, pod, command)
        return RunOutcome(0, "{}", self.default_duration, log="{}\n")

    def _execute(self, job: JsonObject, pod: JsonObject, command: Sequence[str]) -> RunOutcome:
        container = _action_container(pod)
        env = self._container_env(pod, container)
        if OUTPUTS_ENV in env:
            return self._execute_env(job, container, env, command)
        deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
        timeout = float(deadline) if deadline else self.entrypoint_timeout
        with self._lock:
            self.processes_started += 1
        result = run_entrypoint(command, env, timeout=timeout)
        if result.timed_out:
            # It ran past the deadline in real time; in simulated time it never finishes, so
            # activeDeadlineSeconds (or the simulator's timeout) ends it.
            return RunOutcome(result.exit_code, "", float("inf") if deadline else timeout,
                              log=result.stdout + result.stderr)
        # The Job's script (targets/jobs/job.py) leaves the outputs in the termination-log file, or,
        # when the action failed, its last stderr lines (targets.common.failures).
        written = result.stdout if result.exit_code == 0 else script_failure_lines(result.stderr)
        message = termination_message(written, result.stderr, result.exit_code,
                                      container.get("terminationMessagePolicy"))
        return RunOutcome(result.exit_code, message, self.default_duration, log=result.stdout + result.stderr)

    def _execute_env(self, job: JsonObject, container: JsonObject, env: dict[str, str],
                     entrypoint: Sequence[str]) -> RunOutcome:
        """An ``env`` action: the container sets no command, so the kubelet runs the image's
        ENTRYPOINT (``entrypoint`` here) with the container's ``args`` (else the image's CMD,
        part of ``entrypoint``); it writes its outputs to ``$KUBERNAUT_OUTPUTS``, the container's
        termination-message file, which becomes the termination message (policy File)."""
        argv = [*entrypoint, *(str(a) for a in container.get("args") or [])]
        deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
        timeout = float(deadline) if deadline else self.entrypoint_timeout
        with self._lock:
            self.processes_started += 1
        with tempfile.TemporaryDirectory(prefix="kubernaut-termination-") as scratch:
            message_file = os.path.join(scratch, "termination-log")
            env = {**env, OUTPUTS_ENV: message_file}  # the pod's /dev/termination-log, here
            result = run_entrypoint(argv, env, timeout=timeout)
            written = ""
            if os.path.exists(message_file):
                with open(message_file, encoding="utf-8", errors="replace") as handle:
                    written = handle.read()
        log = result.stdout + result.stderr
        if result.timed_out:
            return RunOutcome(result.exit_code, "", float("inf") if deadline else timeout, log=log)
        message = kubelet_termination_file(written)
        return RunOutcome(result.exit_code, message, self.default_duration, log=log)

    def _container_env(self, pod: JsonObject, container: JsonObject) -> dict[str, str]:
        """The container's literal env plus values from ConfigMaps/Secrets, as the kubelet
        would set them: literal values are expanded (``$(VAR)`` with the variables defined
        before them, ``$$`` -> ``$``); valueFrom on fields and resources is left out."""
        env: dict[str, str] = {}
        namespace = pod["metadata"]["namespace"]
        for item in container.get("env") or []:
            name = item.get("name")
            if not name:
                continue
            if "value" in item:
                env[name] = expand(str(item.get("value") or ""), env)
                continue
            source = item.get("valueFrom") or {}
            for ref_kind, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                ref = source.get(ref_kind)
                if ref:
                    value = self._key_value(kind, namespace, ref)
                    if value is not None:
                        env[name] = value
        return env

    def _key_value(self, kind: str, namespace: str, ref: Mapping[str, Any]) -> str | None:
        try:
            obj = self.cluster.get("v1", kind, ref["name"], namespace)
        except NotFound:
            return None
        if kind == "Secret":
            raw = (obj.get("data") or {}).get(ref.get("key"))
            return base64.b64decode(raw).decode("utf-8", errors="replace") if raw is not None else None
        value = (obj.get("data") or {}).get(ref.get("key"))
        return str(value) if value is not None else None

    # -- job status ---------------------------------------------------------------------------------

    def _deadline_in(self, job: JsonObject, status: Mapping[str, Any]) -> float | None:
        deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
        if not deadline or not status.get("startTime"):
            return None
        elapsed = (self.clock.now() - parse_rfc3339(status["startTime"])).total_seconds()
        return float(deadline) - elapsed

    def _pod_backoff_in(self, pods: list[JsonObject], failed: int) -> float:
        """Seconds until the job controller would create the next pod after ``failed`` failures."""
        if failed == 0 or not pods:
            return 0.0
        delay = min(_POD_BACKOFF_CAP, _POD_BACKOFF_BASE * 2 ** (failed - 1))
        finished = [self._finished_at(p) for p in pods if _phase(p) == "Failed"]
        last = max((f for f in finished if f is not None), default=None)
        if last is None:
            return 0.0
        return delay - (self.clock.now() - last).total_seconds()

    def _finished_at(self, pod: JsonObject) -> datetime | None:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            terminated = (status.get("state") or {}).get("terminated") or {}
            if terminated.get("finishedAt"):
                return parse_rfc3339(terminated["finishedAt"])
        return None

    def _patch_job(self, job: JsonObject, patch: JsonObject) -> JsonObject:
        meta = job["metadata"]
        updated = self._api.patch_status(_JOB_API, "Job", meta["name"], meta["namespace"], patch)
        if same_but_status(updated, job):
            self._own.made(updated)
        return dict(updated.get("status") or {})

    def _patch_counts(self, job: JsonObject, status: Mapping[str, Any], active: list[JsonObject],
                      succeeded: int, failed: int, start: JsonObject) -> None:
        """``start``: the first sync's fields, not written yet (empty after the first sync)."""
        ready = sum(1 for p in active if _phase(p) == "Running")
        wanted = {"active": len(active) or None, "ready": ready, "succeeded": succeeded or None,
                  "failed": failed or None}
        if start or any(status.get(k) != v for k, v in wanted.items()):
            self._patch_job(job, {**start, **wanted})

    def _complete(self, job: JsonObject, status: JsonObject, succeeded: int, failed: int,
                  start: JsonObject) -> None:
        now = rfc3339(self.clock.now())
        conditions = list(status.get("conditions") or [])
        if _condition(status, "SuccessCriteriaMet") is None:
            conditions.append(_new_condition("SuccessCriteriaMet", _COMPLETE_REASON, _COMPLETE_MESSAGE, now))
            status = self._patch_job(job, {**start, "active": None, "ready": 0, "succeeded": succeeded,
                                           "failed": failed or None, "conditions": conditions})
        elif start:
            status = self._patch_job(job, start)
        conditions = list(status.get("conditions") or [])
        conditions.append(_new_condition("Complete", _COMPLETE_REASON, _COMPLETE_MESSAGE, now))
        self._patch_job(job, {"conditions": conditions, "completionTime": now})
        if self.events is not None:
            self.events.normal(job, "Completed", "Job completed")

    def _fail(self, job: JsonObject, status: JsonObject, pods: list[JsonObject], reason: str,
              message: str, start: JsonObject) -> None:
        now = rfc3339(self.clock.now())
        if _condition(status, "FailureTarget") is None:
            # Recorded before the pods are killed, so a restart finishes this same failure
            # instead of re-deciding it (the killed pods would otherwise look like backoff).
            conditions = [*(status.get("conditions") or []), _new_condition("FailureTarget", reason, message, now)]
            status = self._patch_job(job, {**start, "conditions": conditions})
        elif start:
            status = self._patch_job(job, start)
        killed = 0
        for pod in pods:
            if _terminal(pod):
                continue
            if pod["metadata"].get("deletionTimestamp"):
                killed += 1
                continue
            run = self._run_of(pod) or _Run(self.clock.monotonic(), RunOutcome(_EXIT_TERMINATED, "", 0.0))
            if (pod.get("status") or {}).get("startTime"):
                self._terminate(pod, run.outcome, started_at=self._started_at(pod), killed=True)
            with contextlib.suppress(NotFound):  # already gone is what we want
                self._api.delete("v1", "Pod", pod["metadata"]["name"], pod["metadata"]["namespace"])
            killed += 1
        counted = sum(1 for p in pods if _phase(p) == "Failed")
        failed = max(int(status.get("failed") or 0), counted + killed)
        conditions = [*(status.get("conditions") or []), _new_condition("Failed", reason, message, now)]
        self._patch_job(job, {"active": None, "ready": 0, "failed": failed, "conditions": conditions})
        if self.events is not None:
            self.events.warning(job, reason, message)


# A running pod's conditions and container statuses are the same for every pod started at the
# same second with the same containers: built once and frozen, so the API server shares them
# instead of walking a copy into each pod (pure functions of their arguments: never stale).
@functools.lru_cache(maxsize=64)
def _ready_conditions(now: str) -> Any:
    return freeze([{"lastProbeTime": None, "lastTransitionTime": now, "status": "True", "type": kind}
                   for kind in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                "PodScheduled")])


@functools.lru_cache(maxsize=1024)
def _running_statuses(containers: tuple[tuple[Any, Any], ...], now: str) -> Any:
    return freeze([{"name": name, "image": image, "imageID": "", "ready": True, "restartCount": 0,
                    "started": True, "state": {"running": {"startedAt": now}}} for name, image in containers])


_owner_job = owner_key("Job", _JOB_API)


def _new_condition(kind: str, reason: str, message: str, now: str) -> JsonObject:
    return {"type": kind, "status": "True", "reason": reason, "message": message,
            "lastProbeTime": now, "lastTransitionTime": now}


def _scripted(outcome: AttemptOutcome, image: str = "") -> RunOutcome:
    if outcome.succeeded:
        message = json.dumps(outcome.outputs, ensure_ascii=False, separators=(",", ":"))
    else:
        # A failing action says why on stderr; the Job's script keeps its last lines.
        # (Killed by the OOM killer or a disruption, it prints nothing unless scripted to.)
        said = outcome.message or ("" if outcome.reason else f"exit code {outcome.exit_code}")
        message = script_failure_lines(said)
    if outcome.succeeded and outcome.message:
        log.debug("scripted success ignores message %r: the termination message is the outputs",
                  outcome.message)
    # As a real action would print it: the outputs on stdout, or the failure on stderr.
    log_text = message if message.endswith("\n") else message + "\n"
    waiting = outcome.waiting(image)
    if waiting is not None:  # never starts, so never ends on its own
        return RunOutcome(outcome.exit_code, "", float("inf"), waiting=waiting)
    return RunOutcome(outcome.exit_code, message, outcome.duration, log=log_text, oom_killed=outcome.oom_killed,
                      disrupted=outcome.disrupted)


def _action_container(pod: JsonObject) -> JsonObject:
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    for container in containers:
        if any(e.get("name") == INPUTS_ENV for e in container.get("env") or []):
            return dict(container)
    return dict(containers[0])


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _pod_index(job: JsonObject, pod: JsonObject) -> int:
    """Which pod of the Job this is (0 first; a replacement after a disruption counts on)."""
    meta = job["metadata"]
    for index in range(64):
        if pod_name(meta["name"], meta["uid"], index) == pod["metadata"]["name"]:
            return index
    return 0


def _pod_failure_rule(job: JsonObject, pod: JsonObject) -> tuple[str, str] | None:
    """The job controller's ``podFailurePolicy`` for a failed pod: the first matching rule's
    action and the Job condition message it gives, or None (count the failure as usual)."""
    rules = ((job.get("spec") or {}).get("podFailurePolicy") or {}).get("rules") or []
    meta = pod["metadata"]
    pod_conditions = {(c.get("type"), c.get("status")) for c in (pod.get("status") or {}).get("conditions") or []}
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for index, rule in enumerate(rules):
        on_codes = rule.get("onExitCodes")
        if on_codes:
            for status in statuses:
                if on_codes.get("containerName") not in (None, status.get("name")):
                    continue
                code = ((status.get("state") or {}).get("terminated") or {}).get("exitCode")
                if code in (None, 0):
                    continue
                values = on_codes.get("values") or []
                if (code in values) == (on_codes.get("operator") == "In"):
                    return rule["action"], (f"Container {status.get('name')} for pod {meta['namespace']}/"
                                            f"{meta['name']} failed with exit code {code} matching "
                                            f"{rule['action']} rule at index {index}")
        for wanted in rule.get("onPodConditions") or []:
            if (wanted.get("type"), wanted.get("status", "True")) in pod_conditions:
                return rule["action"], (f"Pod {meta['namespace']}/{meta['name']} has condition "
                                        f"{wanted.get('type')} matching {rule['action']} rule at index {index}")
    return None
