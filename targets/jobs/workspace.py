"""The shared workspace: one PersistentVolumeClaim per workflow, only when a step uses it."""

from __future__ import annotations

from typing import Any

from compiler import ir
from targets.jobs.metadata import object_meta, workflow_labels
from targets.jobs.names import workspace_claim_name

# Steps run one after another or in parallel on whatever node the scheduler picks; with
# ReadWriteOnce, parallel steps sharing the workspace land on the node that holds the volume
# (the default for most storage classes, and what Tekton's volumeClaimTemplate uses too).
ACCESS_MODE = "ReadWriteOnce"
VOLUME_NAME = "workspace"


def workspace_claim(wf: ir.Workflow) -> dict[str, Any] | None:
    """The workspace PVC, or None when no step uses the workspace (the IR then has none)."""
    if wf.workspace is None:
        return None
    spec: dict[str, Any] = {
        "accessModes": [ACCESS_MODE],
        "resources": {"requests": {"storage": wf.workspace.size}},
    }
    if wf.workspace.storage_class_name is not None:
        spec["storageClassName"] = wf.workspace.storage_class_name
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": object_meta(wf, workspace_claim_name(wf), workflow_labels(wf)),
        "spec": spec,
    }
