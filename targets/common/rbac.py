"""Least-privilege RBAC: a ServiceAccount per action type and image, plus a Role and RoleBinding
granting exactly the permissions of its contract when it declares any.

Both targets emit these: V1 Job pods and V2 TaskRun pods run under the same accounts, so a
cluster that only ever runs one engine still gets them. The permissions are tied to the image
digests the workflow was compiled with (the account's name and its ``kubernaut.ai/image-digest``
annotation): applying a workflow's RBAC grants nothing to another image of the action type.
"""

from __future__ import annotations

from typing import Any

from compiler import ir
from compiler.values import image_digest
from targets.common.accounts import action_service_account, action_type_slug
from targets.common.labels import ACTION_TYPE, IMAGE_DIGEST, MANAGED_BY, MANAGER, object_meta

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


#: An action type and the image that implements it: what one account's permissions are granted to.
Grantee = tuple[str, str]


def grantees(wf: ir.Workflow) -> list[Grantee]:
    """The workflow's (action type, image digest) pairs, each once, in the order steps first use them."""
    return list(dict.fromkeys((step.action_type, image_digest(step.image)) for step in wf.steps))


def _annotations(grantee: Grantee) -> dict[str, str]:
    # For the reviewer of `kubernaut compile` output: whom the permissions are for, verbatim.
    return {ACTION_TYPE: grantee[0], IMAGE_DIGEST: grantee[1]}


def permissions(wf: ir.Workflow, action_type: str) -> tuple[ir.PolicyRule, ...]:
    """The contract's RBAC rules; none for an action type without a contract."""
    contract = wf.contracts.get(action_type)
    return contract.permissions if contract is not None else ()


def contract_account(wf: ir.Workflow, action_type: str) -> str | None:
    """The pre-existing account the contract names (upstream entries), if any."""
    contract = wf.contracts.get(action_type)
    return contract.service_account_name if contract is not None else None


def step_service_account(wf: ir.Workflow, step: ir.Step) -> str:
    """The account a step's pods run under, on both engines: the workflow's when it names one,
    else the one its contract names, else its action type's least-privilege account."""
    return wf.service_account_name or contract_account(wf, step.action_type) or action_service_account(
        step.action_type, step.image)


def needs_api_token(wf: ir.Workflow, step: ir.Step) -> bool:
    """Whether the step's pods get a service-account token mounted.

    An action without permissions can do nothing with the API server but read what
    ``system:serviceaccounts`` may read, so it gets no token at all. A workflow-wide
    ``serviceAccountName`` belongs to the user, who decides; kubernaut then leaves the default.
    """
    return (wf.service_account_name is not None or contract_account(wf, step.action_type) is not None
            or bool(permissions(wf, step.action_type)))


def _without_secrets(rule: ir.PolicyRule) -> ir.PolicyRule | None:
    """``rule`` minus access to Secrets through the API, or None when nothing is left.

    An action gets the Secrets it is given as read-only mounts (the kubelet reads them, not the
    action), so no Role kubernaut emits lets an action read a Secret — in particular none it was
    not given. Roles are shared by every workflow of the namespace, which rules out granting
    "the given ones" by name. (Contracts may not grant every core resource with ``*``.)
    """
    if "" not in rule.apiGroups and "*" not in rule.apiGroups:
        return rule
    kept = tuple(r for r in rule.resources if r != "secrets" and not r.startswith("secrets/"))
    if not kept:
        return None
    return rule.model_copy(update={"resources": kept})


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


def role_rules(rules: tuple[ir.PolicyRule, ...]) -> list[dict[str, Any]]:
    """The rules of a Role granting ``rules`` (Secrets left out, see ``_without_secrets``)."""
    return [_rule(kept) for r in rules if (kept := _without_secrets(r)) is not None]


def service_account(wf: ir.Workflow, grantee: Grantee) -> dict[str, Any]:
    action_type, image = grantee
    account: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": object_meta(action_service_account(action_type, image), wf.namespace,
                                action_type_labels(action_type), _annotations(grantee)),
    }
    if not permissions(wf, action_type):
        account["automountServiceAccountToken"] = False
    return account


def role(wf: ir.Workflow, grantee: Grantee) -> dict[str, Any]:
    action_type, image = grantee
    return {
        "apiVersion": RBAC_API_VERSION,
        "kind": "Role",
        "metadata": object_meta(action_service_account(action_type, image), wf.namespace,
                                action_type_labels(action_type), _annotations(grantee)),
        "rules": role_rules(permissions(wf, action_type)),
    }


def role_binding(wf: ir.Workflow, grantee: Grantee) -> dict[str, Any]:
    action_type, image = grantee
    name = action_service_account(action_type, image)
    subject: dict[str, Any] = {"kind": "ServiceAccount", "name": name}
    if wf.namespace is not None:
        subject["namespace"] = wf.namespace
    return {
        "apiVersion": RBAC_API_VERSION,
        "kind": "RoleBinding",
        "metadata": object_meta(name, wf.namespace, action_type_labels(action_type), _annotations(grantee)),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [subject],
    }


def rbac_for(wf: ir.Workflow) -> list[dict[str, Any]]:
    """ServiceAccounts, then Roles, then RoleBindings (dependency order), per action type and image.

    Nothing when the workflow names its own ``serviceAccountName``: that account and its
    permissions belong to the user, and kubernaut must not grant it anything behind their back.
    A Role without rules grants nothing, so actions without permissions get only the account.
    """
    if wf.service_account_name is not None:
        return []
    # An action type whose contract names its own account (an upstream entry's pre-created,
    # operator-managed account) gets none from kubernaut, like a workflow-wide account.
    pairs = [g for g in grantees(wf) if contract_account(wf, g[0]) is None]
    privileged = [g for g in pairs if permissions(wf, g[0])]
    return ([service_account(wf, g) for g in pairs]
            + [role(wf, g) for g in privileged]
            + [role_binding(wf, g) for g in privileged])
