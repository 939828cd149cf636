"""The ``ActionExecution`` resource: the V1 engine's record of one step of one workflow.

The model serves twice: its JSON schema becomes the CRD's ``openAPIV3Schema``
(``targets.crds``), and the V1 controller reads ActionExecutions through it. A new
ActionExecution's spec is built as the model's JSON directly (:func:`action_execution`; the
same keys in the same order, pinned against the model by the tests). ``status`` is the
controller's and stays free-form here.
"""

from __future__ import annotations

import math
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
        "spec": _spec_json(wf, step),
    }


# Leaves copied as they are; a float is checked (JSON mode writes inf and nan as null).
_JSON_LEAVES = frozenset({str, int, bool, type(None)})


def _spec_json(wf: ir.Workflow, step: ir.Step) -> dict[str, Any]:
    """``action_execution_spec(wf, step).model_dump(mode="json", exclude_none=True)``, built
    directly: the V1 engine writes one per step it starts (issue 13), and the model only checks
    again what the IR already guarantees. Same keys, same order (the model's field order), new
    containers throughout; inputs that are not plain JSON data take the model's path."""
    inputs = _json_copy(step.inputs)
    if inputs is None:
        return action_execution_spec(wf, step).model_dump(mode="json", exclude_none=True)
    spec: dict[str, Any] = {
        "workflowName": wf.name,
        "step": step.name,
        "actionType": step.action_type,
        "image": step.image,
        "inputs": inputs,
        "usesWorkspace": step.uses_workspace,
    }
    if step.uses_workspace:
        spec["workspaceClaimName"] = workspace_claim_name(wf)
    spec["retries"] = step.retries
    spec["timeoutSeconds"] = step.timeout_seconds
    spec["serviceAccountName"] = service_account_name(wf, step)
    spec["dependencies"] = list(step.dependencies)
    if step.guards:
        spec["when"] = [g.source for g in step.guards]
    contract_inputs = _contract_inputs(wf, step)
    if contract_inputs is not None:
        spec["contractInputs"] = contract_inputs
    return spec


def _json_copy(value: Any) -> Any:
    """A deep copy of plain JSON data (exact dict/list/leaf types, str keys), or None when
    ``value`` holds anything else (which the model's JSON mode would convert)."""
    if type(value) is dict:
        copied: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                return None
            if type(item) in _JSON_LEAVES or _finite_float(item):
                copied[key] = item
            else:
                item = _json_copy(item)
                if item is None:
                    return None
                copied[key] = item
        return copied
    if type(value) is list:
        items = []
        for item in value:
            if type(item) not in _JSON_LEAVES and not _finite_float(item):
                item = _json_copy(item)
                if item is None:
                    return None
            items.append(item)
        return items
    return None


def _finite_float(value: Any) -> bool:
    return type(value) is float and math.isfinite(value)
