"""Names and keys the V1 engine computes from plain strings.

``targets.jobs.names`` computes the same names from the IR; the controllers often have only an
object's labels or its parent's name, so they apply the same rule (``child_name``) directly.
A test keeps both in step.
"""

from __future__ import annotations

from compiler.spec import ACTION_API_VERSION, ACTION_KIND
from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND
from targets.common.labels import MANAGED_BY, MANAGER
from targets.common.labels import STEP as STEP_LABEL
from targets.common.labels import WORKFLOW as WORKFLOW_LABEL
from targets.common.naming import child_name, step_object_name

from ...cluster import JsonObject
from ...controller import Key
from ...failures import STUCK_WAITING_REASONS

__all__ = [
    "AE_API_VERSION",
    "AE_KIND",
    "MANAGED_BY_SELECTOR",
    "STEP_LABEL",
    "WFE_API_VERSION",
    "WFE_KIND",
    "WORKFLOW_LABEL",
    "action_execution_name",
    "finished_step_key",
    "job_name",
    "step_key",
    "workspace_claim_name",
]

AE_API_VERSION = ACTION_API_VERSION
AE_KIND = ACTION_KIND
MANAGED_BY_SELECTOR = {MANAGED_BY: MANAGER}


def action_execution_name(workflow: str, step: str) -> str:
    """Unique per (workflow, step) in a namespace (``targets.common.naming.step_object_name``)."""
    return step_object_name(workflow, step)


def job_name(action_execution: str, attempt: int) -> str:
    if attempt < 1:
        raise ValueError(f"attempts are numbered from 1, got {attempt}")
    return child_name(action_execution, f"-{attempt}")


def workspace_claim_name(workflow: str) -> str:
    return child_name(workflow, "-workspace")


def finished_step_key(obj: JsonObject) -> list[Key]:
    """:func:`step_key` for a Job or Pod that finished (or is being deleted), else nothing.

    A predicate, as controller-runtime users write them: the ActionExecution controller acts on
    an attempt's outcome, and the updates of a Job or Pod while it runs (started, ready,
    counts) would only wake it to find nothing to do. A Job that never finishes is caught by
    the controller's own timeout timer, which does not depend on events.
    """
    status = obj.get("status") or {}
    finished = status.get("phase") in ("Succeeded", "Failed") or any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True" for c in status.get("conditions") or [])
    # A container that cannot start (its image, its configuration) ends the attempt too.
    stuck = any(((s.get("state") or {}).get("waiting") or {}).get("reason") in STUCK_WAITING_REASONS
                for s in status.get("containerStatuses") or [])
    if not finished and not stuck and not (obj.get("metadata") or {}).get("deletionTimestamp"):
        return []
    return step_key(obj)


def step_key(obj: JsonObject) -> list[Key]:
    """The ActionExecution a Job or Pod belongs to, from its workflow and step labels."""
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    workflow, step = labels.get(WORKFLOW_LABEL), labels.get(STEP_LABEL)
    if not workflow or not step:
        return []
    return [Key(meta.get("namespace"), action_execution_name(workflow, step))]
