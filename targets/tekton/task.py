"""The generic meta-Task ``kubernaut-action``: one Task runs every action container.

Three steps, because each needs a different image and none may see a value inside a script:

1. ``resolve-inputs`` (helper image) resolves the step's input template against the outputs of
   its upstream steps — with the same resolver the V1 controller uses — and writes the resolved
   inputs to ``/kubernaut/inputs.json``. Values arrive through env vars and args only.
2. ``execute`` (the action image) feeds that file to ``/action-entrypoint`` both as
   ``ACTION_INPUTS`` and on stdin (the seed's dual input mode) and keeps its stdout.
3. ``publish-outputs`` (helper image) checks that stdout is one JSON object within the 4096-byte
   termination-message limit holding every key later steps read (``requiredOutputs``; else the
   attempt fails and is retried) and writes the results ``outputs`` and ``guardValues``.
"""

from __future__ import annotations

from typing import Any

from targets.common.failures import STDERR_FILE, replay_stderr_script
from targets.common.security import restricted_container_security_context
from targets.tekton import interface as i
from targets.tekton.metadata import object_meta, shared_labels
from targets.tekton.options import TektonOptions

ENTRYPOINT = "/action-entrypoint"

# The execute step's script. It is a constant: Tekton substitutes nothing into it (no
# `$(params...)`: Tekton's guidance against script injection), so no input can become shell code.
# Only shell built-ins are used (`read`, `printf`), because the action image may carry a bare
# /bin/sh and nothing else. inputs.json is one line (compact JSON escapes every newline) ending
# in "\n", so `read` takes all of it. sh has no pipefail, hence the explicit status.
# The action's stderr is kept in a file and replayed to the log when it exits; when it failed,
# its last lines go to the `failure` result (targets.common.failures: V1 writes the same lines to
# its termination message).
EXECUTE_SCRIPT = f"""#!/bin/sh
IFS= read -r ACTION_INPUTS < {i.INPUTS_FILE} || {{ echo "kubernaut: {i.INPUTS_FILE} is missing" >&2; exit 1; }}
export ACTION_INPUTS
{ENTRYPOINT} < {i.INPUTS_FILE} > {i.OUTPUTS_FILE} 2> {STDERR_FILE}
status=$?
while IFS= read -r line || [ -n "$line" ]; do printf '%s\\n' "$line"; done < {i.OUTPUTS_FILE}
""" + replay_stderr_script("status", f'"${i.ENV_RESULTS_FAILURE_PATH}"') + 'exit "$status"\n'

# The helper steps run the kubernaut CLI (Python): enough for the resolver, bounded all the same.
HELPER_RESOURCES = {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}


def _param(name: str, description: str, *, array: bool = False, default: Any = None) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "type": "array" if array else "string", "description": description}
    if default is not None:
        param["default"] = default
    return param


def _params() -> list[dict[str, Any]]:
    return [
        _param(i.PARAM_ACTION_TYPE, "The action type, e.g. git/clone (for humans and status)."),
        _param(i.PARAM_ACTION_IMAGE, "The action container image, pinned by digest."),
        _param(i.PARAM_STEP_NAME, "The workflow step this task runs (for messages)."),
        _param(i.PARAM_INPUTS, "The step's input template as JSON, every '$' written as \\u0024.",
               default="{}"),
        _param(i.PARAM_UPSTREAM_STEPS, "Steps whose outputs the inputs reference.", array=True, default=[]),
        _param(i.PARAM_UPSTREAM_OUTPUTS, "Their outputs results, in the same order.", array=True, default=[]),
        _param(i.PARAM_GUARD_KEYS, "Output keys whose text downstream when expressions compare.",
               array=True, default=[]),
        _param(i.PARAM_REQUIRED_OUTPUTS, "Output keys later steps read; outputs lacking one fail the attempt.",
               array=True, default=[]),
        _param(i.PARAM_WORKFLOW_NAME, "The workflow's name."),
        _param(i.PARAM_WORKFLOW_NAMESPACE, "The workflow's namespace."),
        _param(i.PARAM_WORKFLOW_UID, "The workflow's uid."),
        _param(i.PARAM_INPUT_SCHEMA, "The contract's declared inputs and constraints as JSON, every '$' "
               "written as \\u0024 (empty: no contract known).", default=""),
    ]


def _mounts() -> list[dict[str, str]]:
    # The root file system is read-only in every step; these are the writable places.
    return [{"name": i.SCRATCH_VOLUME, "mountPath": i.SCRATCH_DIR}, {"name": i.TMP_VOLUME, "mountPath": "/tmp"}]


def _env(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value}


def _identity_env() -> list[dict[str, str]]:
    return [
        _env(i.ENV_STEP, i.param_ref(i.PARAM_STEP_NAME)),
        _env(i.ENV_WORKFLOW_NAME, i.param_ref(i.PARAM_WORKFLOW_NAME)),
        _env(i.ENV_WORKFLOW_NAMESPACE, i.param_ref(i.PARAM_WORKFLOW_NAMESPACE)),
        _env(i.ENV_WORKFLOW_UID, i.param_ref(i.PARAM_WORKFLOW_UID)),
    ]


def _failure_env() -> dict[str, str]:
    # Every step may fail, and each says why in the same result (only a failed step writes it).
    return _env(i.ENV_RESULTS_FAILURE_PATH, f"$(results.{i.RESULT_FAILURE}.path)")


def _resolve_step(options: TektonOptions) -> dict[str, Any]:
    return {
        "name": i.STEP_RESOLVE,
        "image": options.helper_image,
        # "--" ends the CLI's own options: what follows is the marker/value layout of the arrays.
        "command": ["kubernaut", "task", "resolve-inputs", "--out", i.INPUTS_FILE, "--"],
        "args": [i.ARG_UPSTREAM_STEPS, i.array_param_ref(i.PARAM_UPSTREAM_STEPS),
                 i.ARG_UPSTREAM_OUTPUTS, i.array_param_ref(i.PARAM_UPSTREAM_OUTPUTS)],
        "env": [_env(i.ENV_INPUTS, i.param_ref(i.PARAM_INPUTS)), *_identity_env(), _failure_env(),
                _env(i.ENV_INPUT_SCHEMA, i.param_ref(i.PARAM_INPUT_SCHEMA))],
        "computeResources": HELPER_RESOURCES,
        "volumeMounts": _mounts(),
        "securityContext": restricted_container_security_context(read_only_root=True),
    }


def _execute_step() -> dict[str, Any]:
    return {
        "name": i.STEP_EXECUTE,
        "image": i.param_ref(i.PARAM_ACTION_IMAGE),
        # The same identity variables the V1 Job gives the action (names only: nothing to escape).
        "env": [_env("KUBERNAUT_WORKFLOW", i.param_ref(i.PARAM_WORKFLOW_NAME)),
                _env("KUBERNAUT_STEP", i.param_ref(i.PARAM_STEP_NAME)), _failure_env()],
        "volumeMounts": _mounts(),
        # The Task is generic, so the action gets the strictest context; contracts that need a
        # writable root file system are reported as KN070 (targets.tekton.checks).
        "securityContext": restricted_container_security_context(read_only_root=True),
        "script": EXECUTE_SCRIPT,
    }


def _publish_step(options: TektonOptions) -> dict[str, Any]:
    return {
        "name": i.STEP_PUBLISH,
        "image": options.helper_image,
        "command": ["kubernaut", "task", "publish-outputs", "--from", i.OUTPUTS_FILE, "--"],
        "args": [i.ARG_GUARD_KEYS, i.array_param_ref(i.PARAM_GUARD_KEYS),
                 i.ARG_REQUIRED_OUTPUTS, i.array_param_ref(i.PARAM_REQUIRED_OUTPUTS)],
        "env": [
            _env(i.ENV_RESULTS_OUTPUTS_PATH, f"$(results.{i.RESULT_OUTPUTS}.path)"),
            _env(i.ENV_RESULTS_GUARDS_PATH, f"$(results.{i.RESULT_GUARD_VALUES}.path)"),
            _env(i.ENV_STEP, i.param_ref(i.PARAM_STEP_NAME)),
            _failure_env(),
        ],
        "computeResources": HELPER_RESOURCES,
        "volumeMounts": _mounts(),
        "securityContext": restricted_container_security_context(read_only_root=True),
    }


def meta_task(options: TektonOptions, namespace: str | None) -> dict[str, Any]:
    """The ``kubernaut-action`` Task. It depends only on ``options``: every workflow of a
    namespace applies the very same object."""
    return {
        "apiVersion": "tekton.dev/v1",
        "kind": "Task",
        "metadata": object_meta(i.TASK_NAME, namespace, shared_labels()),
        "spec": {
            "description": "Runs one kubernaut action container (generated by kubernaut; do not edit).",
            "params": _params(),
            "workspaces": [{"name": i.WORKSPACE_NAME, "description": "The workflow's shared workspace.",
                            "mountPath": i.WORKSPACE_MOUNT, "optional": True}],
            "results": [
                {"name": i.RESULT_OUTPUTS, "type": "string",
                 "description": "The action's outputs: one JSON object, every '$' written as \\u0024."},
                {"name": i.RESULT_GUARD_VALUES, "type": "array",
                 "description": "Text of the outputs named by guardKeys, in that order."},
                {"name": i.RESULT_FAILURE, "type": "string",
                 "description": "Written only by a failing step: why it failed (the action's last "
                                "stderr lines, or the helper's reason)."},
            ],
            "volumes": [{"name": i.SCRATCH_VOLUME, "emptyDir": {}}, {"name": i.TMP_VOLUME, "emptyDir": {}}],
            "steps": [_resolve_step(options), _execute_step(), _publish_step(options)],
        },
    }
