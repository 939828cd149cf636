"""``compile_workflow``: the whole V1 manifest set of one workflow, in apply order."""

from __future__ import annotations

from typing import Any

from compiler import ir
from targets.common.rbac import rbac_for
from targets.jobs.actionexecution import action_execution
from targets.jobs.job import job_for_attempt
from targets.jobs.workspace import workspace_claim


def compile_workflow(wf: ir.Workflow) -> list[dict[str, Any]]:
    """RBAC (ServiceAccounts, Roles, RoleBindings), the workspace PVC when used, then per step
    (workflow order) its ActionExecution and the Job of its first attempt.

    Kinds come in dependency order, like ``helm template``: an account exists before a pod
    names it, the claim before a pod mounts it.
    """
    docs = rbac_for(wf)
    claim = workspace_claim(wf)
    if claim is not None:
        docs.append(claim)
    for step in wf.steps:
        docs.append(action_execution(wf, step))
        docs.append(job_for_attempt(wf, step, 1, step.inputs))
    return docs
