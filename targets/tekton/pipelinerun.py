"""The ``PipelineRun`` that runs the workflow's Pipeline once."""

from __future__ import annotations

from typing import Any

from compiler import ir
from compiler.values import format_duration
from targets.common.accounts import action_service_account
from targets.common.resources import step_resources
from targets.common.security import restricted_pod_security_context
from targets.tekton import interface as i
from targets.tekton.metadata import STEP, object_meta, workflow_labels

ACCESS_MODE = "ReadWriteOnce"
# The PipelineRun's uid until the controller sets the WorkflowExecution's; Tekton substitutes
# context variables in the Pipeline after the params, so this value is resolved there.
PIPELINERUN_UID = "$(context.pipelineRun.uid)"
PIPELINERUN_NAMESPACE = "$(context.pipelineRun.namespace)"


def _contract(wf: ir.Workflow, step: ir.Step) -> ir.ContractInfo | None:
    return wf.contracts.get(step.action_type)


def needs_api_token(wf: ir.Workflow, step: ir.Step) -> bool:
    """Same rule as V1: a token only for a user-chosen account or a contract with permissions."""
    contract = _contract(wf, step)
    return wf.service_account_name is not None or bool(contract is not None and contract.permissions)


def _compute_resources(wf: ir.Workflow, step: ir.Step) -> dict[str, dict[str, str]]:
    return step_resources(wf, step)


def task_run_spec(wf: ir.Workflow, step: ir.Step) -> dict[str, Any]:
    spec: dict[str, Any] = {"pipelineTaskName": step.name}
    if wf.service_account_name is None:
        spec["serviceAccountName"] = action_service_account(step.action_type)
    if not needs_api_token(wf, step):
        spec["podTemplate"] = {"automountServiceAccountToken": False}
    resources = _compute_resources(wf, step)
    if resources:
        # Resources from the contract go to the action's step only; helpers keep their own.
        spec["stepSpecs"] = [{"name": i.STEP_EXECUTE, "computeResources": resources}]
    spec["metadata"] = {"labels": {STEP: step.name}}
    return spec


def _workspace_binding(workspace: ir.WorkspaceSpec) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "accessModes": [ACCESS_MODE],
        "resources": {"requests": {"storage": workspace.size}},
    }
    if workspace.storage_class_name is not None:
        claim["storageClassName"] = workspace.storage_class_name
    return {"name": i.WORKSPACE_NAME, "volumeClaimTemplate": {"spec": claim}}


def pipeline_run(wf: ir.Workflow) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "pipelineRef": {"name": wf.name},
        "params": [
            {"name": i.PARAM_WORKFLOW_NAME, "value": wf.name},
            {"name": i.PARAM_WORKFLOW_NAMESPACE, "value": wf.namespace or PIPELINERUN_NAMESPACE},
            {"name": i.PARAM_WORKFLOW_UID, "value": PIPELINERUN_UID},
        ],
    }
    if wf.workspace is not None:
        spec["workspaces"] = [_workspace_binding(wf.workspace)]
    spec["timeouts"] = {"pipeline": format_duration(wf.timeout_seconds)}
    template: dict[str, Any] = {}
    if wf.service_account_name is not None:
        template["serviceAccountName"] = wf.service_account_name
    template["podTemplate"] = {"securityContext": restricted_pod_security_context()}
    spec["taskRunTemplate"] = template
    spec["taskRunSpecs"] = [task_run_spec(wf, step) for step in wf.steps]
    return {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": object_meta(wf.name, wf.namespace, workflow_labels(wf)),
        "spec": spec,
    }
