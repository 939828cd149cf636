"""The objects each engine made for a step, attempt by attempt, and where each attempt's log is.

V1 (``jobs``): ActionExecution ``<workflow>-<step>[-<digest>]`` -> one Job per attempt (named in
``status.attemptHistory`` once it ended; the one in progress is ``<ae>-<n>``) -> its Pod(s), found
by the ``job-name`` label; the action runs in the Pod's first container. V2 (``tekton``):
PipelineRun ``<workflow>`` -> the step's TaskRun (from ``status.childReferences``) -> one Pod per
attempt (``retriesStatus[].podName``, then ``status.podName``); the action runs in container
``step-execute``.

Which function reads which engine's objects is the registry's to say (``EngineInfo.step_objects``,
named by import path): an engine without one runs all the same, and ``describe`` lists no
objects behind its steps.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..cluster import JsonObject, NotFound
from ..engines.jobs.names import AE_API_VERSION, AE_KIND, action_execution_name, job_name
from ..engines.registry import known_engines
from ..engines.tekton import vocabulary as t
from .source import ReadSource

__all__ = ["ACTION_CONTAINER_V2", "Attempt", "EngineObject", "StepObjects", "jobs_step", "step_attempts",
           "tekton_step", "workflow_objects"]

#: The meta-Task step that runs the action image (``targets.tekton``'s ``execute`` step).
ACTION_CONTAINER_V2 = "step-execute"


@dataclass(frozen=True)
class EngineObject:
    """An object behind a step, as ``describe`` lists it: kind, name, its state in a few words."""

    kind: str
    name: str
    state: str = ""
    children: tuple[EngineObject, ...] = ()


@dataclass(frozen=True)
class Attempt:
    """One attempt of a step: its number, the object that ran it (Job or TaskRun attempt), and
    the pod and container holding its log (pod "" when none was created)."""

    number: int
    runner: EngineObject
    pod: str
    container: str | None


@dataclass(frozen=True)
class StepObjects:
    parent: EngineObject | None  # the ActionExecution or TaskRun (None: not created)
    attempts: tuple[Attempt, ...] = field(default_factory=tuple)


def _get(source: ReadSource, api_version: str, kind: str, name: str, namespace: str) -> JsonObject | None:
    with contextlib.suppress(NotFound):
        return source.get(api_version, kind, name, namespace)
    return None


def _condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return dict(condition)
    return None


def _job_state(job: Mapping[str, Any] | None) -> str:
    if job is None:
        return "not found"
    for kind in ("Complete", "Failed"):
        condition = _condition(job, kind)
        if condition is not None and condition.get("status") == "True":
            return kind if kind == "Complete" else f"Failed ({condition.get('reason')})"
    return "Active" if (job.get("status") or {}).get("active") else "Pending"


def _pod_state(pod: Mapping[str, Any]) -> str:
    status = pod.get("status") or {}
    state = str(status.get("phase") or "Pending")
    for container in status.get("containerStatuses") or []:
        terminated = (container.get("state") or {}).get("terminated")
        if terminated:
            return f"{state} (exit code {terminated.get('exitCode')})"
    return state


def _first_container(pod: Mapping[str, Any]) -> str | None:
    containers = (pod.get("spec") or {}).get("containers") or []
    return str(containers[0].get("name")) if containers and containers[0].get("name") else None


_FINAL_AE_PHASES = ("Succeeded", "Failed", "Cancelled")


def jobs_step(source: ReadSource, workflow: str, namespace: str, step: str) -> StepObjects:
    """V1: the ActionExecution, one Job per attempt, their Pods."""
    ae_name = action_execution_name(workflow, step)
    ae = _get(source, AE_API_VERSION, AE_KIND, ae_name, namespace)
    if ae is None:
        return StepObjects(None)
    status = ae.get("status") or {}
    history = list(status.get("attemptHistory") or [
        {"attempt": n, "job": job_name(ae_name, n)} for n in range(1, int(status.get("attempts") or 0) + 1)])
    if status.get("phase") not in _FINAL_AE_PHASES:
        # The history records attempts as they end: the one in progress is its Job alone.
        running = max((int(e.get("attempt") or 0) for e in history), default=0) + 1
        if _get(source, "batch/v1", "Job", job_name(ae_name, running), namespace) is not None:
            history.append({"attempt": running, "job": job_name(ae_name, running)})
    attempts: list[Attempt] = []
    for entry in history:
        number = int(entry.get("attempt") or len(attempts) + 1)
        name = str(entry.get("job") or job_name(ae_name, number))
        job = _get(source, "batch/v1", "Job", name, namespace)
        pods = source.list("v1", "Pod", namespace, {"job-name": name}).items if job is not None else []
        pods.sort(key=lambda p: (p["metadata"].get("creationTimestamp") or "", p["metadata"]["name"]))
        children = tuple(EngineObject("Pod", p["metadata"]["name"], _pod_state(p)) for p in pods)
        runner = EngineObject("Job", name, _job_state(job), children)
        last = pods[-1] if pods else None
        attempts.append(Attempt(number, runner, last["metadata"]["name"] if last else "",
                                _first_container(last) if last else None))
    parent = EngineObject(AE_KIND, ae_name, str(status.get("phase") or ("Running" if attempts else "Pending")),
                          tuple(a.runner for a in attempts))
    return StepObjects(parent, tuple(attempts))


def _taskrun_name(pipelinerun: Mapping[str, Any], step: str) -> str | None:
    for ref in (pipelinerun.get("status") or {}).get("childReferences") or []:
        if ref.get("kind") == t.TASK_RUN and ref.get("pipelineTaskName") == step:
            return str(ref.get("name"))
    return None


def _attempt_state(status: Mapping[str, Any]) -> str:
    for condition in status.get("conditions") or []:
        if condition.get("type") == t.SUCCEEDED:
            return str(condition.get("reason") or condition.get("status"))
    return "Pending"


def tekton_step(source: ReadSource, workflow: str, namespace: str, step: str) -> StepObjects:
    """V2: the step's TaskRun, one Pod per attempt."""
    pipelinerun = _get(source, t.API_VERSION, t.PIPELINE_RUN, workflow, namespace)
    name = _taskrun_name(pipelinerun, step) if pipelinerun is not None else None
    taskrun = _get(source, t.API_VERSION, t.TASK_RUN, name, namespace) if name else None
    if taskrun is None:
        return StepObjects(None)
    status = taskrun.get("status") or {}
    statuses = [*(status.get("retriesStatus") or []), status]
    attempts: list[Attempt] = []
    for number, attempt in enumerate(statuses, start=1):
        pod_name = str(attempt.get("podName") or "")
        if not pod_name:
            continue  # the next attempt has not started yet
        pod = _get(source, "v1", "Pod", pod_name, namespace)
        state = _pod_state(pod) if pod is not None else _attempt_state(attempt)
        pod_object = EngineObject("Pod", pod_name, state)
        attempts.append(Attempt(number, pod_object, pod_name, ACTION_CONTAINER_V2))
    parent = EngineObject(t.TASK_RUN, str(name), _attempt_state(status), tuple(a.runner for a in attempts))
    return StepObjects(parent, tuple(attempts))


def step_attempts(source: ReadSource, wfe: Mapping[str, Any], step: str) -> StepObjects:
    """The objects behind ``step`` on the workflow's engine (nothing before one is chosen)."""
    meta = wfe.get("metadata") or {}
    info = known_engines().get((wfe.get("status") or {}).get("engine"))
    find = info.load_step_objects() if info is not None else None
    if info is None or find is None:
        return StepObjects(None)
    found = find(source, str(meta.get("name")), str(meta.get("namespace") or "default"), step)
    if not isinstance(found, StepObjects):
        raise TypeError(f"engine '{info.name}': {info.step_objects} returned {type(found).__name__}, "
                        "not StepObjects")
    return found


def workflow_objects(engine: object) -> tuple[str, ...]:
    """The kinds of the objects ``engine`` names like the workflow (V2: its PipelineRun)."""
    info = known_engines().get(engine)
    return info.workflow_objects if info is not None else ()
