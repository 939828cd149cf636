"""Labels and ``metadata`` of the Tekton objects."""

from __future__ import annotations

from typing import Any

from compiler import ir

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "kubernaut"
WORKFLOW = "kubernaut.ai/workflow"
STEP = "kubernaut.ai/step"


def shared_labels() -> dict[str, str]:
    """Labels of the meta-Task. It serves every workflow of the namespace, so it carries no
    workflow label: pruning one workflow's objects by label must never delete it."""
    return {MANAGED_BY: MANAGER}


def workflow_labels(wf: ir.Workflow) -> dict[str, str]:
    return {MANAGED_BY: MANAGER, WORKFLOW: wf.name}


def object_meta(name: str, namespace: str | None, labels: dict[str, str]) -> dict[str, Any]:
    """``metadata`` with the namespace only when the workflow has one (else ``kubectl -n`` decides).

    The meta-Task must live in the PipelineRun's namespace: a ``taskRef`` by name resolves there.
    """
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = labels
    return meta
