"""Metadata of emitted objects: label and annotation keys, label sets, ``metadata`` itself."""

from __future__ import annotations

from compiler import ir
from targets.common import labels
from targets.common.labels import ACTION_TYPE, ATTEMPT, MANAGED_BY, MANAGER, STEP, WORKFLOW
from targets.common.rbac import action_type_labels

__all__ = ["ACTION_TYPE", "ATTEMPT", "MANAGED_BY", "MANAGER", "STEP", "WORKFLOW", "action_type_annotations",
           "action_type_labels", "attempt_labels", "object_meta", "step_labels", "workflow_labels"]


def workflow_labels(wf: ir.Workflow) -> dict[str, str]:
    return {MANAGED_BY: MANAGER, WORKFLOW: wf.name}


def step_labels(wf: ir.Workflow, step: ir.Step) -> dict[str, str]:
    return {**workflow_labels(wf), STEP: step.name}


def attempt_labels(wf: ir.Workflow, step: ir.Step, attempt: int) -> dict[str, str]:
    return {**step_labels(wf, step), ATTEMPT: str(attempt)}


def action_type_annotations(step: ir.Step) -> dict[str, str]:
    # Label values cannot hold '/', so the exact action type travels as an annotation.
    return {ACTION_TYPE: step.action_type}


def object_meta(wf: ir.Workflow, name: str, labels_: dict[str, str],
                annotations: dict[str, str] | None = None) -> dict[str, object]:
    """``metadata`` in the workflow's namespace (when it has one)."""
    return labels.object_meta(name, wf.namespace, labels_, annotations)
