"""The V1 target: IR -> native Kubernetes objects run by kubernaut's own controllers.

Per workflow: a ServiceAccount (and, when the contract needs permissions, a Role and RoleBinding)
per action type, a workspace PersistentVolumeClaim when a step uses it, and per step an
``ActionExecution`` plus the ``batch/v1`` Job of its first attempt. docs/targets-jobs.md
explains each choice. Everything here is a pure function of the IR.
"""

from targets.common.rbac import rbac_for
from targets.jobs.actionexecution import ActionExecution, ActionExecutionSpec, action_execution
from targets.jobs.job import (
    SCRIPT,
    encode_inputs,
    escape_env_value,
    job_for_attempt,
    job_from_template,
    job_template,
    unescape_env_value,
)
from targets.jobs.names import (
    action_execution_name,
    action_type_slug,
    job_name,
    rbac_name,
    service_account_name,
    workspace_claim_name,
)
from targets.jobs.workflow import compile_workflow
from targets.jobs.workspace import workspace_claim

__all__ = [
    "SCRIPT",
    "ActionExecution",
    "ActionExecutionSpec",
    "action_execution",
    "action_execution_name",
    "action_type_slug",
    "compile_workflow",
    "encode_inputs",
    "escape_env_value",
    "job_for_attempt",
    "job_from_template",
    "job_name",
    "job_template",
    "rbac_for",
    "rbac_name",
    "service_account_name",
    "unescape_env_value",
    "workspace_claim",
    "workspace_claim_name",
]
