"""The ``ActionExecution`` resource: the V1 engine's record of one step of one workflow.

The model serves twice: its JSON schema becomes the CRD's ``openAPIV3Schema``
(``targets.crds``), and the V1 controller reads and writes ActionExecutions through it.
``status`` is the controller's and stays free-form here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from compiler import ir
from compiler.spec import ACTION_API_VERSION, ACTION_KIND
from targets.jobs.metadata import action_type_annotations, object_meta, step_labels
from targets.jobs.names import action_execution_name, service_account_name, workspace_claim_name


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionExecutionSpec(_Model):
    workflowName: str = Field(description="The WorkflowExecution this step belongs to.")
    step: str = Field(description="The step's name in the workflow.")
    actionType: str = Field(description="The action contract the step runs, e.g. git/clone.")
    image: str = Field(description="Action container image, pinned by digest.")
    inputs: dict[str, Any] = Field(
        default_factory=dict,
        description="Input template as written in the workflow (references in $(...) form).")
    usesWorkspace: bool = Field(default=False, description="Whether the workspace is mounted at /workspace.")
    workspaceClaimName: str | None = Field(
        default=None, description="The workflow's workspace PersistentVolumeClaim, when used.")
    retries: int = Field(default=0, ge=0, description="Extra attempts after the first failure.")
    timeoutSeconds: int = Field(ge=1, description="Per-attempt timeout (the Job's activeDeadlineSeconds).")
    serviceAccountName: str = Field(description="Service account the step's pods run under.")
    dependencies: list[str] = Field(
        default_factory=list, description="Steps that must finish first (declared and implied by references).")
    when: list[str] | None = Field(default=None, description="Guards that must all hold for the step to run.")
    resolvedInputs: dict[str, Any] | None = Field(
        default=None,
        description="The inputs with every reference resolved, set by the controller when the step starts.")
    cancel: bool | None = Field(default=None, description="Set by the controller to stop the step.")
    contractInputs: list[dict[str, Any]] | None = Field(
        default=None,
        description="The inputs the action's contract declares, with their constraints: the resolved inputs "
                    "are checked against them before the step's pod exists, and no other input is delivered.")
    jobTemplate: dict[str, Any] | None = Field(
        default=None,
        description="The step's resolved plan, set by the controller when the step starts: the Job of attempt 1 "
                    "without its name (labels, annotations and spec: service account, resources, mounts, inputs "
                    "in the environment, deadline). Every attempt's Job is built from it alone, with the attempt's "
                    "number and the verified image; later edits of the workflow change nothing that runs.")
    requiredOutputs: list[str] | None = Field(
        default=None,
        description="Output keys later steps read; an attempt whose outputs lack one fails (set by the controller).")


class ActionExecution(_Model):
    apiVersion: str = ACTION_API_VERSION
    kind: str = ACTION_KIND
    metadata: dict[str, Any] = Field(default_factory=dict)
    spec: ActionExecutionSpec
    status: dict[str, Any] | None = Field(default=None, description="Written by the controller only.")


def action_execution_spec(wf: ir.Workflow, step: ir.Step) -> ActionExecutionSpec:
    return ActionExecutionSpec(
        workflowName=wf.name,
        step=step.name,
        actionType=step.action_type,
        image=step.image,
        inputs=step.inputs,
        usesWorkspace=step.uses_workspace,
        workspaceClaimName=workspace_claim_name(wf) if step.uses_workspace else None,
        retries=step.retries,
        timeoutSeconds=step.timeout_seconds,
        serviceAccountName=service_account_name(wf, step),
        dependencies=list(step.dependencies),
        # Guards are kept as written: the controller evaluates them from the IR, the record is
        # for humans and for the parity checker.
        when=[g.source for g in step.guards] or None,
        contractInputs=_contract_inputs(wf, step),
    )


def _contract_inputs(wf: ir.Workflow, step: ir.Step) -> list[dict[str, Any]] | None:
    contract = wf.contracts.get(step.action_type)
    if contract is None or contract.inputs is None or contract.additional_inputs:
        return None  # nothing recorded, or any input accepted
    return [d.model_dump(mode="json", exclude_none=True) for d in contract.inputs]


def action_execution(wf: ir.Workflow, step: ir.Step) -> dict[str, Any]:
    """The ActionExecution of ``step`` as a manifest (no status)."""
    return {
        "apiVersion": ACTION_API_VERSION,
        "kind": ACTION_KIND,
        "metadata": object_meta(wf, action_execution_name(wf, step), step_labels(wf, step),
                                action_type_annotations(step)),
        "spec": action_execution_spec(wf, step).model_dump(mode="json", exclude_none=True),
    }
