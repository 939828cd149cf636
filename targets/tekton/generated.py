"""Tasks generated for steps the shared meta-Task cannot run: ``env`` actions and steps that
mount Secrets or ConfigMaps.

The meta-Task ``kubernaut-action`` runs ``/action-entrypoint`` from a script and mounts nothing
of the user's. A step needs its own Task when

* its action has the ``env`` interface: the image's own entrypoint must run untouched (no
  ``command``, ``args`` or ``script``), with one environment variable per declared input. Tekton
  cannot set a variable from a file, so ``resolve-inputs`` writes each input's text as a *step
  result* (``input0``, ``input1``... in declaration order) and the ``execute`` step's variable
  ``NAME`` is ``$(steps.resolve-inputs.results.inputN)``, which Tekton's entrypoint replaces with
  the file's content just before it starts the image's entrypoint (no kubelet expansion happens
  to it). Outputs come through ``$KUBERNAUT_OUTPUTS`` (``/kubernaut/outputs.json``), the file
  ``publish-outputs`` reads, exactly as the meta-Task's script fills it;
* it mounts Secrets or ConfigMaps: each is a Task workspace (``secret-<name>``,
  ``configmap-<name>``) mounted read-only at ``/run/kubernaut/secrets/<name>`` or
  ``/run/kubernaut/configmaps/<name>``, bound by the PipelineRun to the Secret or ConfigMap.

A generated Task is the meta-Task with those changes, so everything else (the helpers, results,
failure reporting) stays the same. Its name carries a hash of its spec
(``kubernaut-env-<action type>-<hash>``, ``kubernaut-action-<hash>``): equal Tasks share one
object in the namespace, different ones can never overwrite each other.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from compiler import ir
from targets.common.accounts import action_type_slug
from targets.common.interfaces import OUTPUTS_ENV, interface_of, mounts_of
from targets.common.naming import child_name
from targets.common.security import NONROOT_GID, NONROOT_UID, restricted_container_security_context
from targets.tekton import interface as i
from targets.tekton.inputs_param import encode_json
from targets.tekton.options import TektonOptions
from targets.tekton.task import meta_task

__all__ = ["encode_input_schema", "generated_tasks", "input_result_name", "input_schema", "step_result_ref",
           "task_for"]


def input_result_name(index: int) -> str:
    # Env names may start or end with '_', which result names may not: results are numbered.
    return f"input{index}"


def step_result_ref(index: int) -> str:
    return f"$(steps.{i.STEP_RESOLVE}.results.{input_result_name(index)})"


def needs_own_task(wf: ir.Workflow, step: ir.Step) -> bool:
    return interface_of(wf, step) == "env" or bool(mounts_of(step))


def input_schema(contract: ir.ContractInfo) -> dict[str, Any]:
    """What resolve-inputs checks the resolved inputs against: the IR's own ``ContractInfo`` fields
    that ``compiler.contracts.constraints.check_inputs`` reads."""
    return {"action_type": contract.action_type, "additional_inputs": contract.additional_inputs,
            "inputs": [d.model_dump(mode="json", exclude_none=True) for d in contract.inputs or ()]}


def encode_input_schema(wf: ir.Workflow, step: ir.Step) -> str | None:
    """The ``inputSchema`` param of a step; None without a contract that records its inputs."""
    contract = wf.contracts.get(step.action_type)
    if contract is None or contract.inputs is None:
        return None
    return encode_json(input_schema(contract))


def _helper_user(step: dict[str, Any]) -> None:
    # An env Task's pod runs as the image's user; the helpers keep kubernaut's own.
    step["securityContext"] = {**step["securityContext"], "runAsUser": NONROOT_UID, "runAsGroup": NONROOT_GID}


def _env_execute(wf: ir.Workflow, step: ir.Step, template: dict[str, Any]) -> dict[str, Any]:
    contract = wf.contracts[step.action_type]
    env = [{"name": d.name, "value": step_result_ref(n)} for n, d in enumerate(contract.inputs or ())]
    identity = [e for e in template.get("env") or [] if e["name"] in {"KUBERNAUT_WORKFLOW", "KUBERNAUT_STEP"}]
    env += [*identity, {"name": OUTPUTS_ENV, "value": i.OUTPUTS_FILE}]
    # The contract's user and group (if any) are the pod's (PipelineRun podTemplate), as on V1.
    security = restricted_container_security_context(read_only_root=contract.read_only_root_filesystem)
    # No command, args or script: Tekton runs the image's own ENTRYPOINT and CMD.
    return {"name": i.STEP_EXECUTE, "image": template["image"], "env": env,
            "volumeMounts": list(template.get("volumeMounts") or []), "securityContext": security}


def _make_env(wf: ir.Workflow, step: ir.Step, spec: dict[str, Any]) -> None:
    contract = wf.contracts[step.action_type]
    declared = contract.inputs or ()
    steps = spec["steps"]
    for position, item in enumerate(steps):
        if item["name"] == i.STEP_RESOLVE:
            item["env"] = [*item["env"],
                           {"name": i.ENV_RESULT_FILES, "value": json.dumps(
                               {d.name: f"$(step.results.{input_result_name(n)}.path)"
                                for n, d in enumerate(declared)}, separators=(",", ":"))}]
            item["results"] = [{"name": input_result_name(n), "type": "string"} for n in range(len(declared))]
            _helper_user(item)
        elif item["name"] == i.STEP_EXECUTE:
            steps[position] = _env_execute(wf, step, item)
        else:
            _helper_user(item)
    spec["description"] = (f"Runs the '{step.action_type}' action with its image's own entrypoint, one "
                           "environment variable per declared input (generated by kubernaut; do not edit).")


def _add_mounts(step: ir.Step, spec: dict[str, Any]) -> None:
    workspaces = list(spec.get("workspaces") or [])
    for mount in mounts_of(step):
        workspaces.append({"name": mount.volume, "description": f"The {mount.kind} '{mount.name}', read-only.",
                           "mountPath": mount.path, "readOnly": True})
    spec["workspaces"] = workspaces


def task_for(wf: ir.Workflow, step: ir.Step, options: TektonOptions) -> dict[str, Any] | None:
    """The Task generated for ``step``, or None when the shared meta-Task runs it."""
    if not needs_own_task(wf, step):
        return None
    task = copy.deepcopy(meta_task(options, wf.namespace))
    spec = task["spec"]
    env = interface_of(wf, step) == "env"
    if env:
        _make_env(wf, step, spec)
    _add_mounts(step, spec)
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:10]
    base = f"{i.TASK_NAME}-env-{action_type_slug(step.action_type)}" if env else i.TASK_NAME
    task["metadata"]["name"] = child_name(base, f"-{digest}")
    return task


def generated_tasks(wf: ir.Workflow, options: TektonOptions) -> dict[str, dict[str, Any]]:
    """Step name -> its generated Task, for the steps that need one (in step order)."""
    found: dict[str, dict[str, Any]] = {}
    for step in wf.steps:
        task = task_for(wf, step, options)
        if task is not None:
            found[step.name] = task
    return found
