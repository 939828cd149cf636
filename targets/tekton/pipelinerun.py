"""The ``PipelineRun`` that runs the workflow's Pipeline once."""

from __future__ import annotations

from typing import Any

from compiler import ir
from compiler.values import format_duration
from targets.common.interfaces import interface_of, run_as
from targets.common.rbac import needs_api_token as rbac_needs_api_token
from targets.common.rbac import step_service_account
from targets.common.resources import step_resources, workspace_claim_spec
from targets.common.security import image_user_pod_security_context, restricted_pod_security_context
from targets.tekton import interface as i
from targets.tekton.metadata import STEP, object_meta, workflow_labels
from targets.tekton.pipeline import mount_workspaces

# The PipelineRun's uid until the controller sets the WorkflowExecution's; Tekton substitutes
# context variables in the Pipeline after the params, so this value is resolved there.
PIPELINERUN_UID = "$(context.pipelineRun.uid)"
PIPELINERUN_NAMESPACE = "$(context.pipelineRun.namespace)"


def _contract(wf: ir.Workflow, step: ir.Step) -> ir.ContractInfo | None:
    return wf.contracts.get(step.action_type)


def needs_api_token(wf: ir.Workflow, step: ir.Step) -> bool:
    """Same rule as V1 (the same function): a token only for a user-chosen account, one the
    contract names, or a contract with permissions."""
    return rbac_needs_api_token(wf, step)


def _compute_resources(wf: ir.Workflow, step: ir.Step) -> dict[str, dict[str, str]]:
    return step_resources(wf, step)


def task_run_spec(wf: ir.Workflow, step: ir.Step) -> dict[str, Any]:
    spec: dict[str, Any] = {"pipelineTaskName": step.name}
    if wf.service_account_name is None:
        spec["serviceAccountName"] = step_service_account(wf, step)
    template: dict[str, Any] = {}
    if interface_of(wf, step) == "env":
        # The image's own user (the helpers set kubernaut's on their containers): this replaces
        # the run's default pod securityContext for this task only.
        template["securityContext"] = image_user_pod_security_context(*run_as(wf, step))
    if not needs_api_token(wf, step):
        template["automountServiceAccountToken"] = False
    if template:
        spec["podTemplate"] = template
    resources = _compute_resources(wf, step)
    if resources:
        # Resources from the contract go to the action's step only; helpers keep their own.
        spec["stepSpecs"] = [{"name": i.STEP_EXECUTE, "computeResources": resources}]
    spec["metadata"] = {"labels": {STEP: step.name}}
    return spec


def _workspace_binding(workspace: ir.WorkspaceSpec) -> dict[str, Any]:
    return {"name": i.WORKSPACE_NAME, "volumeClaimTemplate": {"spec": workspace_claim_spec(workspace)}}


def pipeline_run(wf: ir.Workflow) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "pipelineRef": {"name": wf.name},
        "params": [
            {"name": i.PARAM_WORKFLOW_NAME, "value": wf.name},
            {"name": i.PARAM_WORKFLOW_NAMESPACE, "value": wf.namespace or PIPELINERUN_NAMESPACE},
            {"name": i.PARAM_WORKFLOW_UID, "value": PIPELINERUN_UID},
        ],
    }
    workspaces = [_workspace_binding(wf.workspace)] if wf.workspace is not None else []
    workspaces += [{"name": m.volume, **m.volume_source()} for m in mount_workspaces(wf)]
    if workspaces:
        spec["workspaces"] = workspaces
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
