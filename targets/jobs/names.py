"""Names of everything the jobs target emits.

Every name goes through ``child_name`` (knative's ``kmeta.ChildName``), so it is deterministic,
at most 63 characters and collision-free after truncation; the V1 controller calls the same
functions at run time to find the objects the preview announced.
"""

from __future__ import annotations

from compiler import ir
from targets.common.accounts import action_service_account, action_type_slug
from targets.common.naming import child_name, step_object_name
from targets.common.rbac import step_service_account

__all__ = ["action_execution_name", "action_type_slug", "job_name", "rbac_name", "service_account_name",
           "workspace_claim_name"]


def rbac_name(action_type: str, image: str) -> str:
    """Name shared by the ServiceAccount, Role and RoleBinding of an action type run by ``image``.

    The rule lives in ``targets.common.accounts`` because the tekton target names the same
    accounts in its PipelineRuns: the action type made readable, plus a digest of the exact
    action type and the image's digest, so look-alike action types and other images of the same
    action type never share an account (docs/targets-jobs.md).
    """
    return action_service_account(action_type, image)


def workspace_claim_name(wf: ir.Workflow) -> str:
    return child_name(wf.name, "-workspace")


def action_execution_name(wf: ir.Workflow, step: ir.Step) -> str:
    """Unique per (workflow, step) in a namespace (``targets.common.naming.step_object_name``)."""
    return step_object_name(wf.name, step.name)


def job_name(wf: ir.Workflow, step: ir.Step, attempt: int) -> str:
    """The Job of ``attempt`` (1-based): ``<action execution>-<attempt>``, shortened as needed."""
    if attempt < 1:
        raise ValueError(f"attempts are numbered from 1, got {attempt}")
    return child_name(action_execution_name(wf, step), f"-{attempt}")


def service_account_name(wf: ir.Workflow, step: ir.Step) -> str:
    """The account a step's pods run under: the workflow's when it names one, else the one its
    contract names (upstream entries), else its action type's (``targets.common.rbac``)."""
    return step_service_account(wf, step)
