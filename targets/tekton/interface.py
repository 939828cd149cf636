"""The interface of the meta-Task ``kubernaut-action``: every name the Task, the Pipeline, the
PipelineRun, the in-task helper commands and the engines agree on.

The meta-Task is shared by every workflow in a namespace, so these names are a wire format:
renaming one breaks pipelines compiled by an older kubernaut. docs/targets-tekton.md documents
them.
"""

from __future__ import annotations

TASK_NAME = "kubernaut-action"

# -- params -----------------------------------------------------------------------------------
PARAM_ACTION_TYPE = "actionType"
PARAM_ACTION_IMAGE = "actionImage"
PARAM_STEP_NAME = "stepName"
PARAM_INPUTS = "inputs"
PARAM_UPSTREAM_STEPS = "upstreamSteps"
PARAM_UPSTREAM_OUTPUTS = "upstreamOutputs"
PARAM_GUARD_KEYS = "guardKeys"
PARAM_REQUIRED_OUTPUTS = "requiredOutputs"
PARAM_WORKFLOW_NAME = "workflowName"
PARAM_WORKFLOW_NAMESPACE = "workflowNamespace"
PARAM_WORKFLOW_UID = "workflowUid"
#: The contract's declared inputs and constraints (JSON, '$' hidden): resolve-inputs refuses
#: resolved inputs that break them and drops undeclared ones. Empty: no contract known.
PARAM_INPUT_SCHEMA = "inputSchema"
# Pipeline params carrying the workflow's identity, keyed by the reference field they stand for.
WORKFLOW_PARAMS = {"name": PARAM_WORKFLOW_NAME, "namespace": PARAM_WORKFLOW_NAMESPACE, "uid": PARAM_WORKFLOW_UID}

# -- results ----------------------------------------------------------------------------------
RESULT_OUTPUTS = "outputs"
RESULT_GUARD_VALUES = "guardValues"
#: Written only when a step fails: why (the action's last stderr lines, or a helper's reason).
#: Tekton keeps a failed TaskRun's results out of ``status.results``; the failed step's
#: ``terminated.message`` carries them (tektoncd/pipeline#3439), and the engine reads them there.
RESULT_FAILURE = "failure"

# -- workspace and volumes --------------------------------------------------------------------
WORKSPACE_NAME = "workspace"
WORKSPACE_MOUNT = "/workspace"
SCRATCH_VOLUME = "kubernaut"
SCRATCH_DIR = "/kubernaut"
TMP_VOLUME = "tmp"
INPUTS_FILE = f"{SCRATCH_DIR}/inputs.json"
OUTPUTS_FILE = f"{SCRATCH_DIR}/outputs.json"

# -- steps ------------------------------------------------------------------------------------
STEP_RESOLVE = "resolve-inputs"
STEP_EXECUTE = "execute"
STEP_PUBLISH = "publish-outputs"

# -- the helper commands' command line --------------------------------------------------------
# Array params can only be spliced into args as whole elements, so each array follows a marker.
# No value can start with "--" (step names are DNS labels, outputs are JSON objects, output keys
# start with a letter or '_'), which makes the layout unambiguous without counts.
ARG_UPSTREAM_STEPS = "--upstream-steps"
ARG_UPSTREAM_OUTPUTS = "--upstream-outputs"
ARG_GUARD_KEYS = "--guard-keys"
ARG_REQUIRED_OUTPUTS = "--required-outputs"

ENV_INPUTS = "KUBERNAUT_INPUTS"
ENV_INPUT_SCHEMA = "KUBERNAUT_INPUT_SCHEMA"
#: In a generated env Task: {input name: its step-result file} (targets.tekton.generated).
ENV_RESULT_FILES = "KUBERNAUT_ENV_RESULTS"
ENV_STEP = "KUBERNAUT_STEP"
ENV_WORKFLOW_NAME = "KUBERNAUT_WORKFLOW_NAME"
ENV_WORKFLOW_NAMESPACE = "KUBERNAUT_WORKFLOW_NAMESPACE"
ENV_WORKFLOW_UID = "KUBERNAUT_WORKFLOW_UID"
ENV_RESULTS_OUTPUTS_PATH = "RESULTS_OUTPUTS_PATH"
ENV_RESULTS_GUARDS_PATH = "RESULTS_GUARDS_PATH"
ENV_RESULTS_FAILURE_PATH = "RESULTS_FAILURE_PATH"


def param_ref(name: str) -> str:
    """``$(params.<name>)``: a Tekton variable (never a kubernaut reference)."""
    return f"$(params.{name})"


def array_param_ref(name: str) -> str:
    return f"$(params.{name}[*])"


def result_ref(task: str, result: str) -> str:
    return f"$(tasks.{task}.results.{result})"


def indexed_result_ref(task: str, result: str, index: int) -> str:
    return f"$(tasks.{task}.results.{result}[{index}])"
