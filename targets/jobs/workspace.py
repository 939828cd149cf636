"""The shared workspace: one PersistentVolumeClaim per workflow, only when a step uses it."""

from __future__ import annotations

from typing import Any

from compiler import ir
from targets.common.resources import workspace_claim_spec
from targets.jobs.metadata import object_meta, workflow_labels
from targets.jobs.names import workspace_claim_name

VOLUME_NAME = "workspace"


def workspace_claim(wf: ir.Workflow) -> dict[str, Any] | None:
    """The workspace PVC, or None when no step uses the workspace (the IR then has none)."""
    if wf.workspace is None:
        return None
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": object_meta(wf, workspace_claim_name(wf), workflow_labels(wf)),
        "spec": workspace_claim_spec(wf.workspace),
    }
