"""Metadata of emitted objects: label and annotation keys, label sets, ``metadata`` itself."""

from __future__ import annotations

from compiler import ir
from targets.jobs.names import action_type_slug

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "kubernaut"
WORKFLOW = "kubernaut.ai/workflow"
STEP = "kubernaut.ai/step"
ATTEMPT = "kubernaut.ai/attempt"
ACTION_TYPE = "kubernaut.ai/action-type"  # a label (slug) on RBAC, an annotation (verbatim) elsewhere


def workflow_labels(wf: ir.Workflow) -> dict[str, str]:
    return {MANAGED_BY: MANAGER, WORKFLOW: wf.name}


def step_labels(wf: ir.Workflow, step: ir.Step) -> dict[str, str]:
    return {**workflow_labels(wf), STEP: step.name}


def attempt_labels(wf: ir.Workflow, step: ir.Step, attempt: int) -> dict[str, str]:
    return {**step_labels(wf, step), ATTEMPT: str(attempt)}


def action_type_labels(action_type: str) -> dict[str, str]:
    """Labels of the RBAC objects of an action type.

    They are shared by every workflow in the namespace that uses the action type, so they carry
    no workflow label: pruning one workflow's objects by label must never delete them.
    """
    return {MANAGED_BY: MANAGER, ACTION_TYPE: action_type_slug(action_type)}


def action_type_annotations(step: ir.Step) -> dict[str, str]:
    # Label values cannot hold '/', so the exact action type travels as an annotation.
    return {ACTION_TYPE: step.action_type}


def object_meta(wf: ir.Workflow, name: str, labels: dict[str, str],
                annotations: dict[str, str] | None = None) -> dict[str, object]:
    """``metadata`` with the namespace only when the workflow has one (else ``kubectl -n`` decides)."""
    meta: dict[str, object] = {"name": name}
    if wf.namespace is not None:
        meta["namespace"] = wf.namespace
    meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    return meta
