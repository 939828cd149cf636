"""The workflow's ``Pipeline``: one pipeline task per step, all running the meta-Task.

Dependencies reach Tekton two ways, like kubernaut's own: ``runAfter`` holds the declared ones,
and every ``$(tasks.S.results...)`` reference (inputs passed as ``upstreamOutputs``, guard inputs)
orders the task after ``S`` by itself. Together they are exactly the IR's ``dependencies``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compiler import ir
from compiler.values import format_duration
from targets.common.interfaces import Mount, mounts_of
from targets.tekton import interface as i
from targets.tekton.dataflow import StepFlow
from targets.tekton.generated import encode_input_schema
from targets.tekton.inputs_param import encode_inputs_param
from targets.tekton.metadata import object_meta, workflow_labels
from targets.tekton.when import when_expression


def _param(name: str, value: str | list[str]) -> dict[str, Any]:
    return {"name": name, "value": value}


def task_params(step: ir.Step, flows: dict[str, StepFlow], schema: str | None = None) -> list[dict[str, Any]]:
    flow = flows[step.name]
    params = [
        _param(i.PARAM_ACTION_TYPE, step.action_type),
        _param(i.PARAM_ACTION_IMAGE, step.image),
        _param(i.PARAM_STEP_NAME, step.name),
        _param(i.PARAM_INPUTS, encode_inputs_param(step.inputs)),
    ]
    # Empty arrays are left to the Task's defaults.
    if flow.upstream_outputs:
        params.append(_param(i.PARAM_UPSTREAM_STEPS, list(flow.upstream_outputs)))
        params.append(_param(i.PARAM_UPSTREAM_OUTPUTS,
                             [i.result_ref(s, i.RESULT_OUTPUTS) for s in flow.upstream_outputs]))
    if flow.guard_keys:
        params.append(_param(i.PARAM_GUARD_KEYS, list(flow.guard_keys)))
    if flow.read_keys:
        params.append(_param(i.PARAM_REQUIRED_OUTPUTS, list(flow.read_keys)))
    params += [_param(name, i.param_ref(name)) for name in i.WORKFLOW_PARAMS.values()]
    if schema is not None:
        params.append(_param(i.PARAM_INPUT_SCHEMA, schema))
    return params


def pipeline_task(step: ir.Step, flows: dict[str, StepFlow], task_name: str = i.TASK_NAME,
                  schema: str | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {"name": step.name, "taskRef": {"name": task_name}}
    if step.run_after:
        task["runAfter"] = list(step.run_after)
    if step.guards:
        task["when"] = [when_expression(g, flows) for g in step.guards]
    task["params"] = task_params(step, flows, schema)
    workspaces = [{"name": i.WORKSPACE_NAME, "workspace": i.WORKSPACE_NAME}] if step.uses_workspace else []
    # Each Secret or ConfigMap is a Pipeline workspace of the same name, bound by the PipelineRun.
    workspaces += [{"name": m.volume, "workspace": m.volume} for m in mounts_of(step)]
    if workspaces:
        task["workspaces"] = workspaces
    if step.retries:
        task["retries"] = step.retries
    # Tekton resets a TaskRun's start time on every retry, so this is per attempt, as on V1.
    task["timeout"] = format_duration(step.timeout_seconds)
    return task


def mount_workspaces(wf: ir.Workflow) -> list[Mount]:
    """Every Secret and ConfigMap the workflow's steps mount, each once, in order of first use."""
    found: dict[str, Mount] = {}
    for step in wf.steps:
        for mount in mounts_of(step):
            found.setdefault(mount.volume, mount)
    return list(found.values())


def pipeline(wf: ir.Workflow, flows: dict[str, StepFlow],
             task_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``task_names``: step -> its generated Task (targets.tekton.generated); others run the meta-Task."""
    spec: dict[str, Any] = {
        "description": f"Workflow {wf.name}, compiled by kubernaut (do not edit).",
        "params": [
            {"name": i.PARAM_WORKFLOW_NAME, "type": "string"},
            {"name": i.PARAM_WORKFLOW_NAMESPACE, "type": "string"},
            {"name": i.PARAM_WORKFLOW_UID, "type": "string"},
        ],
    }
    workspaces = [{"name": i.WORKSPACE_NAME}] if wf.workspace is not None else []
    workspaces += [{"name": m.volume} for m in mount_workspaces(wf)]
    if workspaces:
        spec["workspaces"] = workspaces
    names = task_names or {}
    spec["tasks"] = [pipeline_task(step, flows, names.get(step.name, i.TASK_NAME), encode_input_schema(wf, step))
                     for step in wf.steps]
    return {
        "apiVersion": "tekton.dev/v1",
        "kind": "Pipeline",
        "metadata": object_meta(wf.name, wf.namespace, workflow_labels(wf)),
        "spec": spec,
    }
