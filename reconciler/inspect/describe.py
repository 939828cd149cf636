"""The model behind ``kubernaut describe``: a workflow, its steps with the objects that ran them,
and the recent Events about any of those objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .engine_objects import EngineObject, step_attempts, workflow_objects
from .source import ReadSource, find_workflow
from .summary import seconds_between

__all__ = ["Description", "EngineObject", "EventLine", "StepView", "describe_workflow"]

#: How many Events ``describe`` shows (the newest), as ``kubectl describe`` keeps it short.
RECENT_EVENTS = 20


@dataclass(frozen=True)
class StepView:
    name: str
    phase: str
    attempts: int
    start: str | None
    completion: str | None
    duration_seconds: float | None  # to completion, or to ``now`` while running
    outputs: Mapping[str, Any] | None
    message: str
    #: ``status.steps[].failure`` when the controller records failure details, else None.
    failure: Any
    objects: tuple[EngineObject, ...]


@dataclass(frozen=True)
class EventLine:
    type: str
    reason: str
    object: str  # Kind/name of the involved object
    message: str
    count: int
    first: str | None
    last: str | None


@dataclass(frozen=True)
class Description:
    namespace: str
    name: str
    uid: str
    workflow_type: str
    phase: str
    engine: str
    created: str | None
    start: str | None
    completion: str | None
    duration_seconds: float | None
    message: str
    failure_details: Any  # ``status.failureDetails`` when present
    diagnostics: tuple[str, ...]
    conditions: tuple[Mapping[str, Any], ...]
    steps: tuple[StepView, ...]
    events: tuple[EventLine, ...]


def _names(objects: tuple[EngineObject, ...]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for obj in objects:
        found.add((obj.kind, obj.name))
        found |= _names(obj.children)
    return found


def _events(source: ReadSource, namespace: str, involved: set[tuple[str, str]]) -> tuple[EventLine, ...]:
    lines = []
    for event in source.list("v1", "Event", namespace).items:
        obj = event.get("involvedObject") or event.get("regarding") or {}
        key = (str(obj.get("kind")), str(obj.get("name")))
        if key not in involved:
            continue
        last = event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp")
        lines.append(EventLine(str(event.get("type") or ""), str(event.get("reason") or ""), f"{key[0]}/{key[1]}",
                               str(event.get("message") or event.get("note") or ""), int(event.get("count") or 1),
                               event.get("firstTimestamp") or last, last))
    lines.sort(key=lambda e: (e.last or "", e.first or "", e.object, e.reason))
    return tuple(lines[-RECENT_EVENTS:])


def describe_workflow(source: ReadSource, name: str, namespace: str, now: datetime) -> Description:
    """InspectError when the workflow does not exist."""
    wfe = find_workflow(source, name, namespace)
    meta = wfe["metadata"]
    spec = wfe.get("spec") or {}
    status = wfe.get("status") or {}
    steps = []
    involved = {(str(wfe.get("kind")), name)}
    involved |= {(kind, name) for kind in workflow_objects(status.get("engine"))}
    for step in status.get("steps") or [{"name": s.get("name"), "phase": "Pending"} for s in spec.get("steps") or []]:
        behind = step_attempts(source, wfe, str(step.get("name")))
        objects = (behind.parent,) if behind.parent is not None else ()
        involved |= _names(objects)
        end = step.get("completionTime") or (now if step.get("startTime") else None)
        steps.append(StepView(
            name=str(step.get("name")), phase=str(step.get("phase") or "Pending"),
            attempts=int(step.get("attempts") or 0), start=step.get("startTime"),
            completion=step.get("completionTime"), duration_seconds=seconds_between(step.get("startTime"), end),
            outputs=step.get("outputs"), message=str(step.get("message") or ""), failure=step.get("failure"),
            objects=objects))
    end = status.get("completionTime") or (now if status.get("startTime") else None)
    return Description(
        namespace=namespace, name=name, uid=str(meta.get("uid") or ""),
        workflow_type=str(spec.get("workflowType") or ""), phase=str(status.get("phase") or "Pending"),
        engine=str(status.get("engine") or ""), created=meta.get("creationTimestamp"),
        start=status.get("startTime"), completion=status.get("completionTime"),
        duration_seconds=seconds_between(status.get("startTime"), end), message=str(status.get("message") or ""),
        failure_details=status.get("failureDetails"),
        diagnostics=tuple(str(d) for d in status.get("diagnostics") or []),
        conditions=tuple(status.get("conditions") or []), steps=tuple(steps),
        events=_events(source, namespace, involved))
