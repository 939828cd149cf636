"""Where ``kubernaut logs`` finds a step's log, the same way for both engines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .engine_objects import step_attempts
from .errors import InspectError, NotStartedError
from .source import ReadSource, find_workflow

__all__ = ["LogTarget", "log_targets"]


@dataclass(frozen=True)
class LogTarget:
    """The container that ran ``attempt`` of ``step``."""

    step: str
    attempt: int
    namespace: str
    pod: str
    container: str | None


def _step_names(wfe: Mapping[str, Any]) -> list[str]:
    steps = (wfe.get("status") or {}).get("steps") or (wfe.get("spec") or {}).get("steps") or []
    return [str(s.get("name")) for s in steps]


def log_targets(source: ReadSource, name: str, namespace: str, *, step: str | None = None,
                attempt: int | None = None) -> list[LogTarget]:
    """The log of ``attempt`` (default: the latest) of ``step`` (default: every step that ran,
    in the workflow's order). InspectError for an unknown workflow, step or attempt, or a step
    that has not run yet."""
    wfe = find_workflow(source, name, namespace)
    names = _step_names(wfe)
    if step is not None and step not in names:
        raise InspectError(f"workflow {name} has no step '{step}' (steps: {', '.join(names) or 'none'})")
    if attempt is not None and step is None:
        raise InspectError("--attempt needs --step")
    targets = []
    for current in [step] if step is not None else names:
        assert current is not None
        attempts = [a for a in step_attempts(source, wfe, current).attempts if a.pod]
        if not attempts:
            if step is not None:
                raise NotStartedError(f"step '{current}' of workflow {name} has not started a pod (yet)")
            continue
        if attempt is None:
            chosen = attempts[-1]
        else:
            found = [a for a in attempts if a.number == attempt]
            if not found:
                raise InspectError(f"step '{current}' has no attempt {attempt} "
                                   f"(attempts: {', '.join(str(a.number) for a in attempts)})")
            chosen = found[0]
        targets.append(LogTarget(current, chosen.number, namespace, chosen.pod, chosen.container))
    if not targets:
        raise NotStartedError(f"no step of workflow {name} has started a pod yet")
    return targets
