"""The ``batch/v1`` Job that runs one attempt of a step.

The V1 controller calls :func:`job_for_attempt` at run time with the step's *resolved* inputs;
``kubernaut compile`` calls it for attempt 1 with the raw inputs (references still in ``$(...)``
form) so that a reviewer sees exactly what will run.
"""

from __future__ import annotations

import json
from typing import Any

from compiler import ir
from targets.common import labels as labels_module
from targets.common.failures import STDERR_FILE, replay_stderr_script
from targets.common.interfaces import OUTPUTS_ENV, env_inputs, interface_of, mounts_of, run_as
from targets.common.rbac import needs_api_token
from targets.common.resources import step_resources
from targets.common.security import (
    image_user_pod_security_context,
    restricted_container_security_context,
    restricted_pod_security_context,
)
from targets.jobs.metadata import ATTEMPT, action_type_annotations, attempt_labels, object_meta
from targets.jobs.names import job_name, service_account_name, workspace_claim_name
from targets.jobs.workspace import VOLUME_NAME

CONTAINER_NAME = "action"
ENTRYPOINT = "/action-entrypoint"
TERMINATION_LOG = "/dev/termination-log"

# The one shell script every action Job runs. It is a constant: no input, name or other value is
# ever substituted into it (values reach the action through environment variables only), so no
# input can inject shell code. The action's stdout (its JSON outputs) goes to the termination
# message, which is how the controller reads outputs back; it is echoed to the log as well for
# humans. Its stderr is kept in a file and replayed to the log when it exits; when it failed, its
# last stderr lines replace the outputs in the termination message — the failure channel V2 has
# too (targets.common.failures). sh has no pipefail, hence the explicit status variable.
SCRIPT = (f"{ENTRYPOINT} > {TERMINATION_LOG} 2> {STDERR_FILE}\nrc=$?\ncat {TERMINATION_LOG}\n"
          + replay_stderr_script("rc", TERMINATION_LOG) + 'exit "$rc"\n')

# Finished Jobs are evidence for whoever debugs a remediation, but must not pile up forever.
TTL_SECONDS_AFTER_FINISHED = 3600

TMP_VOLUME = "tmp"
#: The attempt number the action sees (the only per-attempt value in a Job's pod spec).
ATTEMPT_ENV = "KUBERNAUT_ATTEMPT"


def encode_inputs(inputs: dict[str, Any]) -> str:
    """The ``ACTION_INPUTS`` text the action reads: compact JSON, non-ASCII kept as is."""
    return json.dumps(inputs, ensure_ascii=False, separators=(",", ":"))


def escape_env_value(text: str) -> str:
    """``text`` written so that the kubelet passes it to the container unchanged.

    The kubelet expands ``$(NAME)`` in an env ``value`` from the container's other variables and
    the service-link variables, and turns ``$$`` into ``$``. Inputs are data, so every ``$`` is
    doubled: ``$$(date)`` in an input reaches the action as ``$$(date)``, never as the value of
    some variable. :func:`unescape_env_value` is the kubelet's side of it.
    """
    return text.replace("$", "$$")


def unescape_env_value(value: str) -> str:
    """What the container sees for an env ``value`` written by :func:`escape_env_value`."""
    return value.replace("$$", "$")


def _identity_env(wf: ir.Workflow, step: ir.Step, attempt: int) -> list[dict[str, str]]:
    # DNS-1123 names hold no '$': nothing to escape.
    return [
        {"name": "KUBERNAUT_WORKFLOW", "value": wf.name},
        {"name": "KUBERNAUT_STEP", "value": step.name},
        {"name": ATTEMPT_ENV, "value": str(attempt)},
    ]


def _env(wf: ir.Workflow, step: ir.Step, attempt: int, inputs: dict[str, Any]) -> list[dict[str, str]]:
    contract = wf.contracts.get(step.action_type)
    if contract is not None and contract.inputs is not None and not contract.additional_inputs:
        # Never deliver an input the contract does not declare (it may be a credential someone
        # chose to pass); the compiler and the controller refuse such inputs before this point.
        declared = {d.name for d in contract.inputs}
        inputs = {k: v for k, v in inputs.items() if k in declared}
    if contract is not None and contract.interface == "env":
        # Each declared input in the variable of its name (targets.common.interfaces.env_text).
        return ([{"name": name, "value": escape_env_value(text)} for name, text in env_inputs(contract, inputs)]
                + _identity_env(wf, step, attempt) + [{"name": OUTPUTS_ENV, "value": TERMINATION_LOG}])
    return [{"name": "ACTION_INPUTS", "value": escape_env_value(encode_inputs(inputs))},
            *_identity_env(wf, step, attempt)]


def pod_failure_policy(wf: ir.Workflow, step: ir.Step) -> dict[str, Any]:
    """Honest retries: an exit code the contract calls non-retryable fails the Job at once with
    reason ``PodFailurePolicy`` (the controller then starts no further attempt), and a pod
    disruption (eviction, preemption, node drain) is ignored — the Job runs the attempt again in
    a new pod, so it does not count as an attempt."""
    contract = wf.contracts.get(step.action_type)
    rules: list[dict[str, Any]] = []
    if contract is not None and contract.non_retryable_exit_codes:
        rules.append({"action": "FailJob", "onExitCodes": {"containerName": CONTAINER_NAME, "operator": "In",
                                                            "values": list(contract.non_retryable_exit_codes)}})
    rules.append({"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]})
    return {"rules": rules}


def _read_only_root(wf: ir.Workflow, step: ir.Step) -> bool:
    contract = wf.contracts.get(step.action_type)
    return contract.read_only_root_filesystem if contract is not None else True


def _container(wf: ir.Workflow, step: ir.Step, attempt: int, inputs: dict[str, Any]) -> dict[str, Any]:
    # /tmp is always writable (an emptyDir), since the root file system normally is not.
    mounts = [{"name": TMP_VOLUME, "mountPath": "/tmp"}]
    if step.uses_workspace:
        mounts.append({"name": VOLUME_NAME, "mountPath": ir.WORKSPACE_PATH})
    mounts.extend(m.volume_mount() for m in mounts_of(step))
    container: dict[str, Any] = {"name": CONTAINER_NAME, "image": step.image}
    env_interface = interface_of(wf, step) == "env"
    if not env_interface:
        container["command"] = ["/bin/sh", "-c", SCRIPT]
    # An env action runs the image's own ENTRYPOINT and CMD: no command, no args.
    container["env"] = _env(wf, step, attempt, inputs)
    resources = step_resources(wf, step)
    if resources:
        container["resources"] = resources
    container["volumeMounts"] = mounts
    # The script writes the message itself (outputs, or the action's last stderr lines), so the
    # log is never needed: "File" keeps stdout a failing action printed out of the message. An env
    # action writes its outputs to the same file itself ($KUBERNAUT_OUTPUTS); what it logs is
    # never taken for outputs.
    container["terminationMessagePolicy"] = "File"
    container["securityContext"] = restricted_container_security_context(read_only_root=_read_only_root(wf, step))
    return container


def _volumes(wf: ir.Workflow, step: ir.Step) -> list[dict[str, Any]]:
    volumes: list[dict[str, Any]] = [{"name": TMP_VOLUME, "emptyDir": {}}]
    if step.uses_workspace:
        volumes.append({"name": VOLUME_NAME, "persistentVolumeClaim": {"claimName": workspace_claim_name(wf)}})
    volumes.extend({"name": m.volume, **m.volume_source()} for m in mounts_of(step))
    return volumes


def _pod_security_context(wf: ir.Workflow, step: ir.Step) -> dict[str, Any]:
    if interface_of(wf, step) == "env":
        return image_user_pod_security_context(*run_as(wf, step))
    return restricted_pod_security_context()


def job_for_attempt(wf: ir.Workflow, step: ir.Step, attempt: int, inputs: dict[str, Any]) -> dict[str, Any]:
    """The Job of ``attempt`` (1-based) of ``step``, passing ``inputs`` as ``ACTION_INPUTS``.

    One Job per attempt with ``backoffLimit: 0``: retries are new Jobs the controller creates
    with exponential backoff, so every attempt keeps its own pod, logs and termination message,
    and ``activeDeadlineSeconds`` bounds each attempt exactly as the step's ``timeout`` says.
    """
    labels = attempt_labels(wf, step, attempt)
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "serviceAccountName": service_account_name(wf, step),
    }
    if not needs_api_token(wf, step):
        pod_spec["automountServiceAccountToken"] = False
    pod_spec["securityContext"] = _pod_security_context(wf, step)
    pod_spec["containers"] = [_container(wf, step, attempt, inputs)]
    pod_spec["volumes"] = _volumes(wf, step)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": object_meta(wf, job_name(wf, step, attempt), labels, action_type_annotations(step)),
        "spec": {
            "backoffLimit": 0,
            "podFailurePolicy": pod_failure_policy(wf, step),
            "activeDeadlineSeconds": step.timeout_seconds,
            "ttlSecondsAfterFinished": TTL_SECONDS_AFTER_FINISHED,
            "template": {
                "metadata": {"labels": dict(labels), "annotations": action_type_annotations(step)},
                "spec": pod_spec,
            },
        },
    }


def job_template(wf: ir.Workflow, step: ir.Step, inputs: dict[str, Any]) -> dict[str, Any]:
    """The step's resolved plan: the Job of attempt 1 without its identity (``metadata.labels``,
    ``metadata.annotations`` and ``spec``), with ``inputs`` already in its environment.

    The V1 engine stores it in the ActionExecution's ``spec.jobTemplate`` when the step starts,
    so every attempt is built from that snapshot alone (:func:`job_from_template`): no later
    read or edit of the workflow can change what an attempt runs."""
    job = job_for_attempt(wf, step, 1, inputs)
    meta = job["metadata"]
    return {"metadata": {key: meta[key] for key in ("labels", "annotations") if key in meta}, "spec": job["spec"]}


def job_from_template(template: dict[str, Any], name: str, namespace: str | None, attempt: int,
                      image: str) -> dict[str, Any]:
    """The Job of ``attempt`` from a :func:`job_template`: its name, attempt label and
    ``KUBERNAUT_ATTEMPT``, and ``image`` (the reference verified for the step) in the action
    container. ``job_from_template(job_template(wf, step, inputs), ...)`` equals
    :func:`job_for_attempt` for the same attempt and the step's image.

    ``template`` is never changed, and the Job shares what it does not change with it (the
    template is usually a read-only snapshot from the cache, and copying all of it for every
    attempt was a deep copy per step): copy the Job before editing it below its metadata."""
    if attempt < 1:
        raise ValueError(f"attempts are numbered from 1, got {attempt}")
    meta = template.get("metadata") or {}
    labels = {**(meta.get("labels") or {}), ATTEMPT: str(attempt)}
    # New dicts and lists along the paths that change, down to the action container.
    spec = dict(template.get("spec") or {})
    pod = dict(spec.get("template") or {})
    pod_meta = dict(pod.get("metadata") or {})
    pod_meta["labels"] = {**(pod_meta.get("labels") or {}), ATTEMPT: str(attempt)}
    pod["metadata"] = pod_meta
    pod_spec = dict(pod.get("spec") or {})
    containers = list(pod_spec.get("containers") or [])
    actions = [i for i, c in enumerate(containers) if c.get("name") == CONTAINER_NAME]
    if len(actions) != 1:
        raise ValueError(f"the job template has no single '{CONTAINER_NAME}' container")
    container = dict(containers[actions[0]])
    container["image"] = image
    if container.get("env"):
        container["env"] = [{**variable, "value": str(attempt)} if variable.get("name") == ATTEMPT_ENV else variable
                            for variable in container["env"]]
    containers[actions[0]] = container
    pod_spec["containers"] = containers
    pod["spec"] = pod_spec
    spec["template"] = pod
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": labels_module.object_meta(name, namespace, labels, meta.get("annotations")),
        "spec": spec,
    }
