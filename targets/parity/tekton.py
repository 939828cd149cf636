"""The V2 side: a :class:`WorkflowModel` from Tekton manifests (PipelineRun, Pipeline, Task).

This module reads the meta-Task's interface as data (docs/targets-tekton.md) and imports nothing
from the tekton target, so it also judges manifests that an older or edited compiler produced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from targets.common.labels import WORKFLOW as WORKFLOW_LABEL
from targets.parity.guards import OPERATORS, normal_guard
from targets.parity.manifests import (
    Manifest,
    as_int,
    as_list,
    as_map,
    duration_seconds,
    labels_of,
    name_of,
    of_kind,
    read_only_sources,
)
from targets.parity.model import ManifestError, StepModel, WorkflowModel

ACTION_STEP = "execute"
WORKSPACE = "workspace"
WORKSPACE_PATH = "/workspace"
# Tekton's default when a PipelineRun sets no timeout (config-defaults default-timeout-minutes).
DEFAULT_PIPELINE_TIMEOUT = 3600
DEFAULT_SERVICE_ACCOUNT = "default"

_TASK_REF = re.compile(r"\$\(tasks\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.")
_GUARD_VALUE = re.compile(r"\$\(tasks\.([-a-z0-9]+)\.results\.guardValues\[(\d+)\]\)")
_WORKFLOW_PARAM = re.compile(r"\$\(params\.workflow(Name|Namespace|Uid)\)")
# Pod template fields that touch security; Tekton merges a task's podTemplate over the run's
# field by field (PipelineRun.GetTaskRunSpec), which is what is reproduced here.
_POD_FIELDS = ("securityContext", "automountServiceAccountToken")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _params(task: Mapping[str, Any], where: str) -> dict[str, Any]:
    return {str(as_map(p, f"{where}.params[]").get("name")): as_map(p, "param").get("value")
            for p in as_list(task.get("params"), f"{where}.params")}


def _decode_inputs(value: Any, where: str) -> Any:
    if value is None:
        return {}
    if not isinstance(value, str):
        raise ManifestError(f"{where}: the inputs param must be a string")
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{where}: the inputs param is not JSON: {exc}") from None


def _guard(when: Mapping[str, Any], tasks: Mapping[str, Mapping[str, Any]], where: str) -> str:
    text = str(when.get("input", ""))
    operator = str(when.get("operator", ""))
    values = [str(v) for v in as_list(when.get("values"), f"{where}.values")]
    left, is_reference = text, False
    produced = _GUARD_VALUE.fullmatch(text)
    workflow = _WORKFLOW_PARAM.fullmatch(text)
    if produced:
        producer, index = produced.group(1), int(produced.group(2))
        keys = _params(tasks.get(producer, {}), f"task {producer}").get("guardKeys") or []
        if not isinstance(keys, list) or index >= len(keys):
            raise ManifestError(f"{where}: {text} names no entry of the guardKeys of task '{producer}'")
        left, is_reference = f"$(steps.{producer}.outputs.{keys[index]})", True
    elif workflow:
        left, is_reference = f"$(workflow.{workflow.group(1).lower()})", True
    return normal_guard(left, is_reference, OPERATORS.get(operator, operator), values)


def _pod_template(run_spec: Mapping[str, Any], task_spec: Mapping[str, Any] | None) -> dict[str, Any]:
    template = as_map(as_map(run_spec.get("taskRunTemplate"), "taskRunTemplate").get("podTemplate"), "podTemplate")
    merged = {k: template[k] for k in _POD_FIELDS if k in template}
    if task_spec is not None:
        own = as_map(task_spec.get("podTemplate"), "taskRunSpecs[].podTemplate")
        merged.update({k: own[k] for k in _POD_FIELDS if own.get(k) is not None})
    return merged


def _action_step(task: Manifest | None, where: str) -> Mapping[str, Any]:
    if task is None:
        return {}
    for step in as_list(as_map(task.get("spec"), f"{where}.spec").get("steps"), f"{where}.spec.steps"):
        if as_map(step, "step").get("name") == ACTION_STEP:
            return as_map(step, "step")
    raise ManifestError(f"{where} has no step '{ACTION_STEP}'")


def _resources(task_spec: Mapping[str, Any] | None, action_step: Mapping[str, Any]) -> dict[str, Any]:
    if task_spec is not None:
        for override in as_list(task_spec.get("stepSpecs"), "taskRunSpecs[].stepSpecs"):
            if as_map(override, "stepSpecs[]").get("name") == ACTION_STEP:
                return dict(as_map(as_map(override, "stepSpecs[]").get("computeResources"), "computeResources"))
    return dict(as_map(action_step.get("computeResources"), "computeResources"))


_STEP_RESULT = re.compile(r"\$\(steps\.resolve-inputs\.results\.([A-Za-z0-9_.-]+)\)")
_RESULT_PATH = re.compile(r"\$\(step\.results\.([A-Za-z0-9_.-]+)\.path\)")


def _task_step(task: Manifest | None, name: str) -> Mapping[str, Any]:
    if task is None:
        return {}
    for step in as_list(as_map(task.get("spec"), "Task.spec").get("steps"), "Task.spec.steps"):
        if as_map(step, "step").get("name") == name:
            return as_map(step, "step")
    return {}


def _env_of(step: Mapping[str, Any]) -> dict[str, str]:
    return {str(as_map(e, "env[]").get("name")): str(as_map(e, "env[]").get("value", ""))
            for e in as_list(step.get("env"), "env")}


def _input_env(task: Manifest | None, action_step: Mapping[str, Any]) -> dict[str, str]:
    """Variable -> the input it carries: the execute step's ``$(steps.resolve-inputs.results.R)``
    and the input resolve-inputs writes to result R (its ``KUBERNAUT_ENV_RESULTS``)."""
    if "script" in action_step:
        return {}
    files = _env_of(_task_step(task, "resolve-inputs")).get("KUBERNAUT_ENV_RESULTS", "")
    try:
        written = json.loads(files) if files else {}
    except json.JSONDecodeError:
        written = {}
    result_input = {m.group(1): str(name) for name, path in written.items()
                    if (m := _RESULT_PATH.fullmatch(str(path)))}
    found: dict[str, str] = {}
    for name, value in _env_of(action_step).items():
        ref = _STEP_RESULT.fullmatch(value)
        if ref is not None:
            found[name] = result_input.get(ref.group(1), f"<result {ref.group(1)} written by no input>")
        elif not name.startswith(("KUBERNAUT_", "RESULTS_")):
            found[name] = f"<literal {value!r}>"
    return found


def _mounts(task: Manifest | None, pipeline_task: Mapping[str, Any], run_spec: Mapping[str, Any]) -> dict[str, str]:
    """mount path -> "secret:<name>" / "configMap:<name>": Task workspace -> pipeline task binding
    -> PipelineRun binding."""
    if task is None:
        return {}
    bound = {str(as_map(w, "workspaces[]").get("name")): str(as_map(w, "workspaces[]").get("workspace"))
             for w in as_list(pipeline_task.get("workspaces"), "tasks[].workspaces")}
    sources = read_only_sources(run_spec.get("workspaces"), "PipelineRun.spec.workspaces")
    found: dict[str, str] = {}
    for workspace in as_list(as_map(task.get("spec"), "Task.spec").get("workspaces"), "Task.spec.workspaces"):
        workspace = as_map(workspace, "workspaces[]")
        source = sources.get(bound.get(str(workspace.get("name")), ""))
        if source is not None:
            found[str(workspace.get("mountPath"))] = source + ("" if workspace.get("readOnly") else " (writable)")
    return found


def _contract_inputs(value: Any, where: str) -> Any:
    if not isinstance(value, str) or not value:
        return None
    try:
        schema = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{where}: the inputSchema param is not JSON: {exc}") from None
    if not isinstance(schema, dict) or schema.get("additional_inputs"):
        return None
    return schema.get("inputs")


def _find(docs: Sequence[Manifest], kind: str, name: str) -> Manifest | None:
    return next((d for d in of_kind(docs, kind) if name_of(d) == name), None)


def _pipeline_run(docs: Sequence[Manifest], workflow: str) -> Manifest:
    for run in of_kind(docs, "PipelineRun"):
        if labels_of(run).get(WORKFLOW_LABEL, name_of(run)) == workflow:
            return run
    raise ManifestError(f"the tekton manifests have no PipelineRun of workflow '{workflow}'")


def _pipeline_spec(docs: Sequence[Manifest], run_spec: Mapping[str, Any]) -> Mapping[str, Any]:
    if run_spec.get("pipelineSpec") is not None:
        return as_map(run_spec.get("pipelineSpec"), "pipelineSpec")
    name = str(as_map(run_spec.get("pipelineRef"), "pipelineRef").get("name", ""))
    pipeline = _find(docs, "Pipeline", name)
    if pipeline is None:
        raise ManifestError(f"the tekton manifests have no Pipeline '{name}'")
    return as_map(pipeline.get("spec"), f"Pipeline {name}.spec")


def _workspace(run_spec: Mapping[str, Any]) -> dict[str, Any] | None:
    for binding in as_list(run_spec.get("workspaces"), "PipelineRun.spec.workspaces"):
        claim = as_map(as_map(as_map(binding, "workspaces[]").get("volumeClaimTemplate"), "volumeClaimTemplate")
                       .get("spec"), "volumeClaimTemplate.spec")
        requests = as_map(as_map(claim.get("resources"), "resources").get("requests"), "requests")
        return {"size": requests.get("storage"), "storageClassName": claim.get("storageClassName")}
    return None


def tekton_workflows(docs: Sequence[Manifest]) -> list[str]:
    return list(dict.fromkeys(str(labels_of(r).get(WORKFLOW_LABEL, name_of(r))) for r in of_kind(docs, "PipelineRun")))


def tekton_model(docs: Sequence[Manifest], workflow: str) -> WorkflowModel:
    run = _pipeline_run(docs, workflow)
    run_spec = as_map(run.get("spec"), "PipelineRun.spec")
    tasks = {str(as_map(t, "tasks[]").get("name")): as_map(t, "tasks[]")
             for t in as_list(_pipeline_spec(docs, run_spec).get("tasks"), "Pipeline.spec.tasks")}
    run_specs = {str(as_map(s, "taskRunSpecs[]").get("pipelineTaskName")): as_map(s, "taskRunSpecs[]")
                 for s in as_list(run_spec.get("taskRunSpecs"), "PipelineRun.spec.taskRunSpecs")}
    template = as_map(run_spec.get("taskRunTemplate"), "taskRunTemplate")
    steps: dict[str, StepModel] = {}
    for name, task in tasks.items():
        where = f"pipeline task {name}"
        params = _params(task, where)
        task_name = str(as_map(task.get("taskRef"), f"{where}.taskRef").get("name", ""))
        task_doc = _find(docs, "Task", task_name)
        action_step = _action_step(task_doc, f"Task {task_name}")
        own = run_specs.get(name)
        pod = _pod_template(run_spec, own)
        implied = {m.group(1) for s in _strings(task.get("params")) + _strings(task.get("when"))
                   for m in _TASK_REF.finditer(s)}
        declared = {str(t) for t in as_list(task.get("runAfter"), f"{where}.runAfter")}
        timeout = task.get("timeout")
        steps[name] = StepModel(
            image=params.get("actionImage"),
            inputs=_decode_inputs(params.get("inputs"), where),
            dependencies=frozenset(declared | implied),
            uses_workspace=any(as_map(w, "workspaces[]").get("name") == WORKSPACE
                               for w in as_list(task.get("workspaces"), f"{where}.workspaces")),
            retries=as_int(task.get("retries"), f"{where}.retries"),
            timeout_seconds=duration_seconds(timeout, f"{where}.timeout") if timeout is not None else None,
            guards=frozenset(_guard(as_map(w, "when[]"), tasks, f"{where}.when")
                             for w in as_list(task.get("when"), f"{where}.when")),
            service_account=str((own or {}).get("serviceAccountName") or template.get("serviceAccountName")
                                or DEFAULT_SERVICE_ACCOUNT),
            pod_security=dict(as_map(pod.get("securityContext"), "securityContext")),
            container_security=dict(as_map(action_step.get("securityContext"), "securityContext")),
            api_token=pod.get("automountServiceAccountToken"),
            resources=_resources(own, action_step),
            interface="kubernaut" if "script" in action_step or task_doc is None else "env",
            input_env=_input_env(task_doc, action_step),
            mounts=_mounts(task_doc, task, run_spec),
            contract_inputs=_contract_inputs(params.get("inputSchema"), where),
        )
    timeouts = as_map(run_spec.get("timeouts"), "PipelineRun.spec.timeouts")
    timeout = (duration_seconds(timeouts["pipeline"], "timeouts.pipeline") if "pipeline" in timeouts
               else DEFAULT_PIPELINE_TIMEOUT)
    return WorkflowModel(name=workflow, timeout_seconds=timeout, workspace=_workspace(run_spec), steps=steps)
