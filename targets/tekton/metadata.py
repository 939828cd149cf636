"""Labels and ``metadata`` of the Tekton objects."""

from __future__ import annotations

from compiler import ir
from targets.common.labels import MANAGED_BY, MANAGER, STEP, WORKFLOW, object_meta

__all__ = ["MANAGED_BY", "MANAGER", "STEP", "WORKFLOW", "object_meta", "shared_labels", "workflow_labels"]


def shared_labels() -> dict[str, str]:
    """Labels of the meta-Task. It serves every workflow of the namespace, so it carries no
    workflow label: pruning one workflow's objects by label must never delete it."""
    return {MANAGED_BY: MANAGER}


def workflow_labels(wf: ir.Workflow) -> dict[str, str]:
    return {MANAGED_BY: MANAGER, WORKFLOW: wf.name}
