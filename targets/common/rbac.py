"""Least-privilege RBAC: a ServiceAccount per action type, plus a Role and RoleBinding granting
exactly the permissions of its contract when it declares any.

Both targets emit these: V1 Job pods and V2 TaskRun pods run under the same per-action-type
accounts, so a cluster that only ever runs one engine still gets them.
"""

from __future__ import annotations

from typing import Any

from compiler import ir
from targets.common.accounts import action_service_account, action_type_slug
from targets.common.labels import ACTION_TYPE, MANAGED_BY, MANAGER, object_meta

RBAC_API_VERSION = "rbac.authorization.k8s.io/v1"


def action_type_labels(action_type: str) -> dict[str, str]:
    """Labels of the RBAC objects of an action type.

    They are shared by every workflow in the namespace that uses the action type, so they carry
    no workflow label: pruning one workflow's objects by label must never delete them.
    """
    return {MANAGED_BY: MANAGER, ACTION_TYPE: action_type_slug(action_type)}


def action_types(wf: ir.Workflow) -> list[str]:
    """The workflow's action types, each once, in the order the steps first use them."""
    return list(dict.fromkeys(step.action_type for step in wf.steps))


def permissions(wf: ir.Workflow, action_type: str) -> tuple[ir.PolicyRule, ...]:
    """The contract's RBAC rules; none for an action type without a contract."""
    contract = wf.contracts.get(action_type)
    return contract.permissions if contract is not None else ()


def needs_api_token(wf: ir.Workflow, step: ir.Step) -> bool:
    """Whether the step's pods get a service-account token mounted.

    An action without permissions can do nothing with the API server but read what
    ``system:serviceaccounts`` may read, so it gets no token at all. A workflow-wide
    ``serviceAccountName`` belongs to the user, who decides; kubernaut then leaves the default.
    """
    return wf.service_account_name is not None or bool(permissions(wf, step.action_type))


def _rule(rule: ir.PolicyRule) -> dict[str, Any]:
    # Empty lists mean "absent" to the API server; leaving them out keeps the review short.
    out: dict[str, Any] = {}
    if rule.apiGroups:
        out["apiGroups"] = list(rule.apiGroups)
    if rule.resources:
        out["resources"] = list(rule.resources)
    if rule.resourceNames:
        out["resourceNames"] = list(rule.resourceNames)
    out["verbs"] = list(rule.verbs)
    return out


def service_account(wf: ir.Workflow, action_type: str) -> dict[str, Any]:
    account: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": object_meta(action_service_account(action_type), wf.namespace, action_type_labels(action_type)),
    }
    if not permissions(wf, action_type):
        account["automountServiceAccountToken"] = False
    return account


def role(wf: ir.Workflow, action_type: str) -> dict[str, Any]:
    return {
        "apiVersion": RBAC_API_VERSION,
        "kind": "Role",
        "metadata": object_meta(action_service_account(action_type), wf.namespace, action_type_labels(action_type)),
        "rules": [_rule(r) for r in permissions(wf, action_type)],
    }


def role_binding(wf: ir.Workflow, action_type: str) -> dict[str, Any]:
    name = action_service_account(action_type)
    subject: dict[str, Any] = {"kind": "ServiceAccount", "name": name}
    if wf.namespace is not None:
        subject["namespace"] = wf.namespace
    return {
        "apiVersion": RBAC_API_VERSION,
        "kind": "RoleBinding",
        "metadata": object_meta(name, wf.namespace, action_type_labels(action_type)),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [subject],
    }


def rbac_for(wf: ir.Workflow) -> list[dict[str, Any]]:
    """ServiceAccounts, then Roles, then RoleBindings (dependency order), per action type.

    Nothing when the workflow names its own ``serviceAccountName``: that account and its
    permissions belong to the user, and kubernaut must not grant it anything behind their back.
    A Role without rules grants nothing, so actions without permissions get only the account.
    """
    if wf.service_account_name is not None:
        return []
    types = action_types(wf)
    privileged = [t for t in types if permissions(wf, t)]
    return ([service_account(wf, t) for t in types]
            + [role(wf, t) for t in privileged]
            + [role_binding(wf, t) for t in privileged])
