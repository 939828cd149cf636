"""A step's container resources and the workspace claim's, as both targets emit them (declared
once: parity depends on it)."""

from __future__ import annotations

from typing import Any

from compiler import ir

__all__ = ["WORKSPACE_ACCESS_MODE", "step_resources", "workspace_claim_spec"]

#: Steps run one after another or in parallel on whatever node the scheduler picks; with
#: ReadWriteOnce, parallel steps sharing the workspace land on the node that holds the volume
#: (the default for most storage classes, and what Tekton's volumeClaimTemplate uses too).
WORKSPACE_ACCESS_MODE = "ReadWriteOnce"


def step_resources(wf: ir.Workflow, step: ir.Step) -> dict[str, dict[str, str]]:
    """The action container's requests and limits: the contract's, each overridden by the step's
    own (``resources``; the compiler checks them against the contract's maximum, KN046)."""
    contract = wf.contracts.get(step.action_type)
    requests = dict(contract.resources.requests) if contract is not None else {}
    limits = dict(contract.resources.limits) if contract is not None else {}
    if step.resources is not None:
        requests.update(step.resources.requests)
        limits.update(step.resources.limits)
    out: dict[str, dict[str, str]] = {}
    if requests:
        out["requests"] = dict(sorted(requests.items()))
    if limits:
        out["limits"] = dict(sorted(limits.items()))
    return out


def workspace_claim_spec(workspace: ir.WorkspaceSpec) -> dict[str, Any]:
    """The workspace PVC's ``spec`` (the Job target's PersistentVolumeClaim, the Tekton target's
    ``volumeClaimTemplate``)."""
    spec: dict[str, Any] = {
        "accessModes": [WORKSPACE_ACCESS_MODE],
        "resources": {"requests": {"storage": workspace.size}},
    }
    if workspace.storage_class_name is not None:
        spec["storageClassName"] = workspace.storage_class_name
    return spec
