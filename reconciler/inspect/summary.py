"""One line per workflow for ``kubernaut get``: NAME, PHASE, ENGINE, STEPS (done/total), AGE."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..clock import parse_rfc3339

__all__ = ["FINISHED_STEP_PHASES", "WorkflowRow", "seconds_between", "workflow_row"]

FINISHED_STEP_PHASES = frozenset({"Succeeded", "Failed", "Skipped", "Cancelled"})


@dataclass(frozen=True)
class WorkflowRow:
    namespace: str
    name: str
    phase: str
    engine: str  # "" until the controller has chosen one
    steps_done: int
    steps_total: int
    age_seconds: float | None  # since creation, at ``now``


def seconds_between(start: str | None, end: str | datetime | None) -> float | None:
    """Seconds from an RFC 3339 ``start`` to ``end`` (a timestamp or a datetime); None without both."""
    if not start or end is None:
        return None
    finish = parse_rfc3339(end) if isinstance(end, str) else end
    return (finish - parse_rfc3339(start)).total_seconds()


def workflow_row(wfe: Mapping[str, Any], now: datetime) -> WorkflowRow:
    meta = wfe.get("metadata") or {}
    status = wfe.get("status") or {}
    steps = status.get("steps") or []
    total = len(steps) or len((wfe.get("spec") or {}).get("steps") or [])
    done = sum(1 for s in steps if s.get("phase") in FINISHED_STEP_PHASES)
    return WorkflowRow(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        phase=str(status.get("phase") or "Pending"),
        engine=str(status.get("engine") or ""),
        steps_done=done,
        steps_total=total,
        age_seconds=seconds_between(meta.get("creationTimestamp"), now),
    )
