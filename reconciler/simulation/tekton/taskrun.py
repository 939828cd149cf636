"""A simulated Tekton TaskRun controller (and the pod it would run) for ``MemoryCluster``.

``TaskRunSimulator`` is a level-triggered controller over TaskRuns. An attempt starts when the
TaskRun has no ``startTime``: the Task spec is read once (``status.taskSpec``; missing Task:
``TaskRunResolutionFailed``), ``tekton.dev/task`` is added to the labels, the attempt is run
(:class:`~.steps.MetaTaskRunner` — its outcome is fixed when it starts) and the TaskRun shows
``Succeeded=Unknown`` / ``Running`` with its steps. When the attempt's duration has passed on the
clock it ends:

* success: ``Succeeded=True`` / ``Succeeded``, ``results``, ``completionTime``;
* a failed step: ``Succeeded=False`` / ``Failed`` (``StepFailed`` with ``failure_reason``, as
  Tekton >= 1.12) and the message Tekton derives from the pod: ``"step-execute" exited with code 1``;
* ``spec.timeout`` passed first (per attempt, default 1h, ``0s`` none): ``TaskRunTimeout``,
  ``TaskRun "x" failed to finish within "2m0s"``, running steps terminated;
* ``spec.status: TaskRunCancelled`` (any time): ``TaskRunCancelled``, never retried.

A failure or timeout with retries left (``len(retriesStatus) < spec.retries``) is not final: as in
Tekton's ``retryTaskRun`` the failed status is appended to ``retriesStatus`` and the TaskRun goes
back to ``Unknown`` / ``ToBeRetried`` without start time, pod or results; the next reconcile starts
the next attempt on the same object.

No Pod object is created (``status.podName`` names the one Tekton would create); step logs are
kept in memory (:meth:`TaskRunSimulator.step_logs`) and, on a cluster that keeps container logs
(``MemoryCluster.write_pod_log``), under that pod's name, where ``kubectl logs`` would find them.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from targets.common.naming import child_name

from ...clock import Clock, parse_rfc3339, rfc3339
from ...cluster import Cluster, JsonObject, NotFound
from ...controller import Controller, Key, Result, WatchSpec, object_key
from ..informer_reads import InformerReads
from ..outcomes import Outcomes
from ..own_writes import OwnWrites, same_but_status
from . import conditions as c
from .params import ParamError
from .steps import AttemptRun, MetaTaskRunner, StepRun

__all__ = ["TaskRunSimulator"]

log = logging.getLogger(__name__)

_EPSILON = 1e-6  # timers computed in floating point may fire a hair early
# Reasons after which a failure message carries the previous condition (appendPreviousConditionContext).
_PLAIN_REASONS = (c.TR_REASON_STARTED, c.TR_REASON_RUNNING, "TaskRunPending")


@dataclass(frozen=True)
class _Run:
    started: float  # clock.monotonic() when the attempt started
    attempt: AttemptRun


def pod_name(taskrun: Mapping[str, Any], retries_done: int) -> str:
    """The pod Tekton creates for an attempt: ``<taskrun>-pod``, ``<taskrun>-pod-retry<N>``."""
    suffix = "-pod" if retries_done == 0 else f"-pod-retry{retries_done}"
    return child_name(taskrun["metadata"]["name"], suffix)


class TaskRunSimulator:
    """The simulated TaskRun reconciler + pod. Add :meth:`controller` to a ``Manager``."""

    def __init__(
        self,
        cluster: Cluster,
        clock: Clock,
        *,
        outcomes: Outcomes | None = None,
        entrypoints: Mapping[str, Sequence[str]] | None = None,
        default_duration: float = 1.0,
        entrypoint_timeout: float = 600.0,
        failure_reason: str = c.TR_REASON_FAILED,
        name: str = "tekton-taskrun-simulator",
        reads: InformerReads | None = None,
    ) -> None:
        """``reads``: the informers of Tekton's controller process (shared with the PipelineRun
        simulator; by default its own)."""
        self.cluster = cluster
        self.clock = clock
        self._reads = reads or InformerReads(cluster, clock, c.INFORMER_KINDS)
        self._api = self._reads.api  # writes: their answers go into the informers
        self.runner = MetaTaskRunner(outcomes, entrypoints, default_duration=default_duration,
                                     entrypoint_timeout=entrypoint_timeout)
        self.failure_reason = failure_reason
        self.name = name
        # Attempts in progress by TaskRun uid, then attempt (so that forgetting a finished
        # TaskRun does not scan every run). A restarted simulator recomputes them from the
        # recorded start time (scripts and entrypoints are deterministic).
        self._runs: dict[str, dict[int, _Run]] = {}
        self._logs: dict[tuple[str, int], dict[str, str]] = {}
        # The versions its own writes made: their events do not queue the TaskRun again.
        self._own = OwnWrites()
        self._lock = threading.Lock()

    @property
    def processes_started(self) -> int:
        return self.runner.processes_started

    def controller(self, workers: int = 1) -> Controller:
        return Controller(self.name, self.reconcile, [WatchSpec(c.API_VERSION, "TaskRun", self._changed_taskrun)],
                          workers=workers, informers=self._reads.informers)

    def _changed_taskrun(self, tr: JsonObject) -> list[Key]:
        """The TaskRun, unless the event is of a version its own write made (a deleted TaskRun,
        no longer the informer's, is always queued)."""
        keys = object_key(tr)
        meta = tr["metadata"]
        if not self._own.arrived(tr):
            return keys
        if self._reads.peek(c.API_VERSION, "TaskRun", meta["name"], meta["namespace"]) is not tr:
            return keys
        return []

    def step_logs(self, taskrun: Mapping[str, Any], attempt: int | None = None) -> dict[str, str]:
        """The logs of each step of an attempt (default: the latest) — what ``kubectl logs``
        would show for the attempt's pod."""
        uid = taskrun["metadata"]["uid"]
        with self._lock:
            attempts = sorted(a for u, a in self._logs if u == uid)
            chosen = attempt if attempt is not None else (attempts[-1] if attempts else 0)
            return dict(self._logs.get((uid, chosen), {}))

    # -- reconcile ----------------------------------------------------------------------------------

    def reconcile(self, key: Key) -> Result | None:
        # A read-only snapshot (never mutated here): every change is built as a new dict.
        tr = self._reads.peek(c.API_VERSION, "TaskRun", key.name, key.namespace or "default")
        if tr is None:
            return None
        if tr["metadata"].get("deletionTimestamp") or c.run_finished(tr):
            self._forget(tr)
            self._own.forget(tr["metadata"]["uid"])  # woken once more after all: nothing left to drop
            return None
        spec = tr.get("spec") or {}
        status: JsonObject = dict(tr.get("status") or {})
        if spec.get("status") == c.TR_CANCELLED:
            message = f'TaskRun "{tr["metadata"]["name"]}" was cancelled. {spec.get("statusMessage") or ""}'
            return self._stop(tr, status, c.TR_REASON_CANCELLED, message, retriable=False)
        if spec.get("status") == "TaskRunPending":
            return self._write(tr, status, {"conditions": c.with_condition(
                status, "Unknown", "TaskRunPending", f'TaskRun "{tr["metadata"]["name"]}" is pending',
                rfc3339(self.clock.now()))})
        if not status.get("startTime"):
            return self._start(tr, status)
        timeout = self._timeout(tr)
        run = self._run_of(tr) or self._resume(tr, status)
        if run is None:
            return None  # _resume failed the TaskRun
        # On the monotonic clock: startTime has whole seconds only (as in Kubernetes).
        elapsed = self.clock.monotonic() - run.started
        duration = run.attempt.duration
        if duration <= elapsed + _EPSILON and (timeout <= 0 or duration <= timeout + _EPSILON):
            return self._finish(tr, status, run)
        if timeout > 0 and elapsed >= timeout - _EPSILON:
            message = f'TaskRun "{tr["metadata"]["name"]}" failed to finish within "{c.go_duration(timeout)}"'
            return self._stop(tr, status, c.TR_REASON_TIMEOUT, message, retriable=True, run=run, elapsed=elapsed)
        return _requeue(duration - elapsed, timeout - elapsed if timeout > 0 else None)

    # -- attempts -------------------------------------------------------------------------------------

    def _attempt(self, status: Mapping[str, Any]) -> int:
        return len(status.get("retriesStatus") or []) + 1

    def _timeout(self, tr: Mapping[str, Any]) -> float:
        seconds = c.parse_go_duration((tr.get("spec") or {}).get("timeout"))
        return c.DEFAULT_TIMEOUT_SECONDS if seconds is None else seconds

    def _task_spec(self, tr: JsonObject, status: Mapping[str, Any]) -> tuple[JsonObject, JsonObject | str]:
        """The TaskRun (relabelled when its Task was read) and the Task's spec
        (``status.taskSpec`` once stored), or the failure message."""
        if status.get("taskSpec") is not None:
            return tr, status["taskSpec"]
        spec = tr.get("spec") or {}
        if spec.get("taskSpec") is not None:
            return tr, spec["taskSpec"]
        ref = str((spec.get("taskRef") or {}).get("name") or "")
        try:
            task = self._reads.get(c.API_VERSION, "Task", ref, tr["metadata"]["namespace"], copy=False)
        except NotFound as exc:
            return tr, f"error when listing tasks for taskRun {tr['metadata']['name']}: {exc.message}"
        return self._label(tr, ref, task), task.get("spec") or {}

    def _start(self, tr: JsonObject, status: JsonObject) -> Result | None:
        tr, task_spec = self._task_spec(tr, status)
        now = self.clock.now()
        if isinstance(task_spec, str):
            return self._final(tr, status, c.TR_REASON_RESOLUTION_FAILED, task_spec, retriable=False)
        attempt = self._attempt(status)
        try:
            run = _Run(self.clock.monotonic(), self.runner.run(tr, task_spec, attempt, self._timeout(tr)))
        except ParamError as exc:
            status["taskSpec"] = task_spec
            return self._final(tr, status, "TaskRunValidationFailed", f"invalid input params for task: {exc}",
                               retriable=False)
        self._remember(tr, attempt, run)
        stamp = rfc3339(now)
        stuck = run.attempt.waiting_step
        if stuck is not None and stuck.waiting is not None:
            # A container that cannot start fails the TaskRun at once (Tekton's
            # default-imagepullbackoff-timeout is 0; a config error is final too).
            reason, said = stuck.waiting
            status.update(podName=pod_name(tr, attempt - 1), startTime=stamp, taskSpec=task_spec,
                          steps=_step_states(run.attempt, now, elapsed=0.0, stop=None, pod=pod_name(tr, attempt - 1)))
            if reason == "ImagePullBackOff":
                image = next((str(s.get("image")) for s in task_spec.get("steps") or [] if s.get("name") == stuck.name),
                             "")
                message = (f'the step "{stuck.name}" in TaskRun "{tr["metadata"]["name"]}" failed to pull the image '
                           f'"{image}". The pod errored with the message: "{said}."')
                return self._final(tr, status, c.TR_REASON_IMAGE_PULL_FAILED, message, retriable=True)
            return self._final(tr, status, c.TR_REASON_CREATE_CONTAINER_CONFIG_ERROR,
                               f"Failed to create pod due to config error: {said}", retriable=True)
        return self._write(tr, status, {
            "podName": pod_name(tr, attempt - 1),
            "startTime": stamp,
            "conditions": c.with_condition(status, "Unknown", c.TR_REASON_RUNNING, c.TR_MESSAGE_RUNNING, stamp),
            "steps": _step_states(run.attempt, now, elapsed=0.0, stop=None, pod=pod_name(tr, attempt - 1)),
            "taskSpec": task_spec,
        }, result=_requeue(run.attempt.duration, self._timeout(tr) or None))

    def _resume(self, tr: JsonObject, status: JsonObject) -> _Run | None:
        """Rebuild an attempt lost with a restarted simulator, from the recorded start time."""
        elapsed = (self.clock.now() - parse_rfc3339(status["startTime"])).total_seconds()
        task_spec = status.get("taskSpec") or {}
        attempt = self._attempt(status)
        try:
            run = _Run(self.clock.monotonic() - max(elapsed, 0.0),
                       self.runner.run(tr, task_spec, attempt, self._timeout(tr)))
        except ParamError as exc:
            self._final(tr, status, "TaskRunValidationFailed", f"invalid input params for task: {exc}",
                        retriable=False)
            return None
        self._remember(tr, attempt, run)
        return run

    def _finish(self, tr: JsonObject, status: JsonObject, run: _Run) -> Result | None:
        started = parse_rfc3339(status["startTime"])
        status["steps"] = _step_states(run.attempt, started, elapsed=None, stop=None, pod=str(status.get("podName")))
        failed = run.attempt.failed_step
        if failed is None:
            now = rfc3339(self.clock.now())
            return self._write(tr, status, {
                "conditions": c.with_condition(status, "True", c.TR_REASON_SUCCEEDED, c.TR_MESSAGE_SUCCEEDED, now),
                "completionTime": now,
                "results": list(run.attempt.results) or None,
            })
        message = f'"step-{failed.name}" exited with code {failed.exit_code}'
        return self._final(tr, status, self.failure_reason, message, retriable=True)

    def _stop(self, tr: JsonObject, status: JsonObject, reason: str, message: str, *, retriable: bool,
              run: _Run | None = None, elapsed: float | None = None) -> Result | None:
        """``failTaskRun``: end the attempt now (cancel, timeout); running steps are terminated."""
        before = c.succeeded_condition(tr)
        if before and before.get("reason") not in _PLAIN_REASONS and before.get("message"):
            message = f"{message}\nPrevious status: [{before.get('reason')}] {before.get('message')}"
        run = run or self._run_of(tr)
        if run is not None and status.get("startTime"):
            started = parse_rfc3339(status["startTime"])
            if elapsed is None:
                elapsed = self.clock.monotonic() - run.started
            status["steps"] = _step_states(run.attempt, started, elapsed=elapsed, stop=reason,
                                           pod=str(status.get("podName")))
        return self._final(tr, status, reason, message, retriable=retriable)

    def _final(self, tr: JsonObject, status: JsonObject, reason: str, message: str, *,
               retriable: bool) -> Result | None:
        """Fail the attempt; retry it when retries are left (Tekton's ``retryTaskRun``)."""
        now = rfc3339(self.clock.now())
        status["conditions"] = c.with_condition(status, "False", reason, message, now)
        status["completionTime"] = now
        retries = int((tr.get("spec") or {}).get("retries") or 0)
        done = list(status.get("retriesStatus") or [])
        if not (retriable and len(done) < retries):
            return self._write(tr, status, {})
        archived = {k: v for k, v in status.items() if k != "retriesStatus"}
        return self._write(tr, status, {
            "retriesStatus": [*done, archived],
            "startTime": None, "completionTime": None, "podName": "", "results": None,
            "conditions": c.with_condition(status, "Unknown", c.TR_REASON_TO_BE_RETRIED, message, now),
        }, result=Result(requeue_after=0.0))

    # -- bookkeeping ------------------------------------------------------------------------------------

    def _remember(self, tr: JsonObject, attempt: int, run: _Run) -> None:
        uid = tr["metadata"]["uid"]
        with self._lock:
            self._runs.setdefault(uid, {})[attempt] = run
            self._logs[(uid, attempt)] = {s.name: s.log for s in run.attempt.steps}
        # Also where ``kubectl logs <pod> -c step-<name>`` (``read_pod_log``) looks, when the
        # cluster keeps logs: the attempt's pod is named, though never created as an object.
        write = getattr(self.cluster, "write_pod_log", None)
        if write is not None:
            for step in run.attempt.steps:
                write(tr["metadata"]["namespace"], pod_name(tr, attempt - 1), f"step-{step.name}", step.log)

    def _run_of(self, tr: JsonObject) -> _Run | None:
        with self._lock:
            return self._runs.get(tr["metadata"]["uid"], {}).get(self._attempt(tr.get("status") or {}))

    def _forget(self, tr: JsonObject) -> None:
        with self._lock:
            self._runs.pop(tr["metadata"]["uid"], None)

    def _label(self, tr: JsonObject, task_name: str, task: JsonObject) -> JsonObject:
        """``tekton.dev/task`` and the Task's labels on the TaskRun (Tekton's metadata merge);
        returns the TaskRun as written (as read when there was nothing to change)."""
        labels = tr["metadata"].get("labels") or {}
        wanted = {**(task["metadata"].get("labels") or {}), **labels, c.LABEL_TASK: task_name}
        if wanted != labels:
            with contextlib.suppress(NotFound):
                updated = self._api.update({**tr, "metadata": {**tr["metadata"], "labels": wanted}})
                # An update is refused (Conflict) if anyone changed the TaskRun since it was read.
                self._own.made(updated)
                # Its metadata only: the status this reconcile works from stays the one it read.
                return {**tr, "metadata": updated["metadata"]}
        return tr

    def _write(self, tr: JsonObject, status: JsonObject, changes: Mapping[str, Any], *,
               result: Result | None = None) -> Result | None:
        new = {**status, **changes}
        new = {k: v for k, v in new.items() if v is not None}
        old = tr.get("status") or {}
        if new != old:
            patch: JsonObject = {k: v for k, v in new.items() if old.get(k) != v}
            patch.update({k: None for k in old if k not in new})
            meta = tr["metadata"]
            written = self._api.patch_status(c.API_VERSION, "TaskRun", meta["name"], meta["namespace"], patch)
            # A status patch is applied whatever changed meanwhile: only an answer that differs
            # from what was read in status alone is this write's own.
            if same_but_status(written, tr):
                self._own.made(written)
            if c.run_finished(written):
                self._forget(tr)  # what the reconcile woken by this write did (it is not woken)
        return result


def _requeue(*waits: float | None) -> Result | None:
    """Wake up at the earliest finite wait (an action that never ends has an infinite one)."""
    finite = [w for w in waits if w is not None and math.isfinite(w)]
    return Result(requeue_after=max(min(finite), 0.0)) if finite else None


def _step_states(run: AttemptRun, started: datetime, *, elapsed: float | None, stop: str | None,
                 pod: str) -> list[JsonObject]:
    """``status.steps`` at ``elapsed`` seconds into the attempt (None: after it ended);
    ``stop`` terminates the steps still running with that reason (``terminateStepsInPod``)."""
    states = []
    for step in run.steps:
        state: JsonObject = {"name": step.name, "container": f"step-{step.name}", "imageID": ""}
        if step.waiting is not None:
            state["waiting"] = {"reason": step.waiting[0], "message": step.waiting[1]}
        elif elapsed is None or step.end <= elapsed + _EPSILON:
            state["terminated"] = _terminated(step, started)
            state["terminationReason"] = step.termination_reason
        elif stop is not None:
            now = rfc3339(started + timedelta(seconds=elapsed))
            state["terminated"] = {"exitCode": 1, "reason": stop, "startedAt": rfc3339(started), "finishedAt": now,
                                   "message": f"Step {step.name} terminated as pod {pod} is terminated"}
            state["terminationReason"] = stop
        else:
            # Tekton starts every step's container at once; later ones wait in the entrypoint.
            state["running"] = {"startedAt": rfc3339(started)}
        states.append(state)
    return states


def _terminated(step: StepRun, started: datetime) -> JsonObject:
    terminated: JsonObject = {
        "exitCode": step.exit_code,
        "reason": "Completed" if step.exit_code == 0 else "OOMKilled" if step.oom_killed else "Error",
        "startedAt": rfc3339(started + timedelta(seconds=step.start)),
        "finishedAt": rfc3339(started + timedelta(seconds=step.end)), "containerID": "",
    }
    if step.message:
        terminated["message"] = step.message
    return terminated
