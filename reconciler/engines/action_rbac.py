"""Who puts the per-action-type Roles and RoleBindings in place: the controller, or the administrator.

Both targets emit, per action type whose contract asks for API permissions, a Role with exactly
those permissions and a RoleBinding to the action type's ServiceAccount (``targets.common.rbac``).
Kubernetes lets a subject create such a Role only when it holds every permission in it, or the
``escalate`` verb, and bind it only with ``bind``: a controller that creates them can hand out
any permission in any namespace it serves. So the in-cluster controller does not create them:

* ``require`` (the in-cluster controller, ``reconciler.service``): the administrator applies the
  Roles and RoleBindings from ``kubernaut compile`` output (a reviewable change: the permissions
  of an action type are granted by someone entitled to grant them). Before a workflow starts, the
  engine reads them (``get``, never written) and a workflow whose Role is missing or grants less
  than the contract asks fails at once with ``DependencyMissing``, naming the object and how to
  apply it. ServiceAccounts, which grant nothing by themselves, are still created by the engine.
* ``apply`` (the embedded cluster of ``kubernaut run`` and the tests, where the person running
  kubernaut is also the cluster's administrator): the engine applies them like the other objects.

Either way nothing is written outside the workflow's own namespace (docs/security.md).

The permissions follow the image (``borrowed_permissions``): the account of an action type is
named after the action type *and the image digest* it was compiled for (``targets.common.accounts``),
and once the image is verified, a step whose image's signed contract is for another action type, or
declares other permissions than the Role grants, fails with ``PermissionsNotDeclared`` before
anything of it runs. An image without a signed contract runs with the permissions compiled for its
digest (what the administrator applied from ``kubernaut compile`` output, reviewing that digest).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from compiler import ir
from compiler.build import contract_info
from compiler.contracts import ActionContract
from targets.common.accounts import action_service_account
from targets.common.rbac import contract_account, permissions, role_rules, step_service_account

from ..cluster import Cluster, JsonObject, NotFound

__all__ = [
    "RBAC_KINDS", "ActionRbac", "borrowed_installed_role", "borrowed_permissions", "borrowed_role", "missing_rbac",
    "split_rbac",
]

#: The RBAC objects of an action type that only an administrator may create.
RBAC_KINDS = frozenset({"Role", "RoleBinding"})
_RBAC_API = "rbac.authorization.k8s.io/v1"


class ActionRbac(enum.StrEnum):
    """Who applies the action types' Roles and RoleBindings (see the module docstring)."""

    APPLY = "apply"
    REQUIRE = "require"


def split_rbac(objects: Iterable[JsonObject], mode: ActionRbac) -> tuple[list[JsonObject], list[JsonObject]]:
    """``(to_apply, required)``: with ``require``, the Roles and RoleBindings move to ``required``
    (read and checked, never written); with ``apply`` everything is applied."""
    to_apply: list[JsonObject] = []
    required: list[JsonObject] = []
    for obj in objects:
        if mode is ActionRbac.REQUIRE and obj.get("apiVersion") == _RBAC_API and obj.get("kind") in RBAC_KINDS:
            required.append(obj)
        else:
            to_apply.append(obj)
    return to_apply, required


def _covers(installed: Sequence[Mapping[str, Any]], wanted: Mapping[str, Any]) -> bool:
    """Whether one installed rule grants at least ``wanted`` (same groups/resources/names, a
    superset of its verbs). Deliberately literal: a reviewer reads the same rule in both places."""
    for rule in installed:
        if all(sorted(rule.get(key) or []) == sorted(wanted.get(key) or [])
               for key in ("apiGroups", "resources", "resourceNames")) and \
                set(wanted.get("verbs") or []) <= set(rule.get("verbs") or []):
            return True
    return False


def _subject_bound(binding: Mapping[str, Any], wanted: Mapping[str, Any], namespace: str) -> bool:
    if (binding.get("roleRef") or {}) != (wanted.get("roleRef") or {}):
        return False
    have = {(s.get("kind"), s.get("name"), s.get("namespace") or namespace) for s in binding.get("subjects") or []}
    return all((s.get("kind"), s.get("name"), s.get("namespace") or namespace) in have
               for s in wanted.get("subjects") or [])


def missing_rbac(cluster: Cluster, required: Sequence[JsonObject], namespace: str) -> tuple[str, set[str]] | None:
    """Why the administrator's RBAC does not give the steps what their contracts ask for, and the
    names of the objects at fault (an action type's account, Role and RoleBinding share one name);
    None when everything is in place.

    ``required`` are the compiled Roles and RoleBindings, read here in ``namespace`` by name.
    """
    problems = []
    names: set[str] = set()
    for obj in required:
        kind, name = str(obj["kind"]), str(obj["metadata"]["name"])
        try:
            found = cluster.get(_RBAC_API, kind, name, namespace)
        except NotFound:
            problems.append(f"{kind} {namespace}/{name} is missing")
            names.add(name)
            continue
        if kind == "Role":
            lacking = [rule for rule in obj.get("rules") or [] if not _covers(found.get("rules") or [], rule)]
            if lacking:
                problems.append(f"Role {namespace}/{name} does not grant {lacking[0]}")
                names.add(name)
        elif not _subject_bound(found, obj, namespace):
            problems.append(f"RoleBinding {namespace}/{name} does not bind {obj.get('roleRef', {}).get('name')} to "
                            f"its ServiceAccount")
            names.add(name)
    if not problems:
        return None
    return ("the RBAC the action contracts ask for is not installed: " + "; ".join(problems)
            + ". The administrator applies it from `kubernaut compile` output (its Roles and RoleBindings); "
            "the controller does not grant permissions itself (docs/security.md)", names)


def _borrowing(step: str, image: str, action_type: str, account: str, granted: Sequence[Mapping[str, Any]],
               signed: ActionContract) -> str | None:
    """Why the image may not run with the Role ``granted``: its signed contract is for another
    action type, or declares other permissions (compared literally, as ``_covers`` does)."""
    if not granted:
        return None  # an account without a Role grants nothing
    if signed.action_type != action_type:
        return (f"step '{step}': the signed contract of {image} is for action type '{signed.action_type}', "
                f"not '{action_type}'; the image does not get the Role {account} of that action type")
    declared = role_rules(contract_info(signed, {}).permissions)
    if undeclared := [rule for rule in granted if not _covers(declared, rule)]:
        return (f"step '{step}': the Role {account} of '{action_type}' grants {undeclared[0]}, which the signed "
                f"contract of {image} does not declare; the image does not get it (compile the workflow with the "
                "image's own contract, and apply its RBAC)")
    if ungranted := [rule for rule in declared if not _covers(granted, rule)]:
        return (f"step '{step}': the signed contract of {image} declares {ungranted[0]}, which the Role {account} "
                f"of '{action_type}' does not grant: its permissions differ from those compiled for it; the image "
                "does not get the Role (compile the workflow with the image's own contract, and apply its RBAC)")
    return None


def borrowed_permissions(wf: ir.Workflow, step: ir.Step, signed: ActionContract | None) -> str | None:
    """Why ``step`` may not run under its action type's account given its verified image's signed
    contract ``signed``, judged on the compiled Role; None when it may (the V2 engine, which has
    the compiled workflow).

    Only kubernaut's own accounts with a Role are at stake (a workflow-wide or contract-named
    account is someone else's, an account without a Role grants nothing). Without a signed
    contract (None) the Role was compiled for the image's digest, which names the account.
    """
    if signed is None or wf.service_account_name is not None or contract_account(wf, step.action_type):
        return None
    return _borrowing(step.name, step.image, step.action_type, step_service_account(wf, step),
                      role_rules(permissions(wf, step.action_type)), signed)


def borrowed_role(cluster: Cluster, ae: Mapping[str, Any], signed: ActionContract | None) -> str | None:
    """``borrowed_permissions`` for a V1 ActionExecution, judged on the Role installed under its
    account (the ActionExecution controller has no compiled workflow): the Role must grant what the
    image's signed contract declares, no more and no less. Only read when the image has a signed contract
    and the step runs under kubernaut's account of its action type and image."""
    spec = ae.get("spec") or {}
    return borrowed_installed_role(cluster, ae["metadata"].get("namespace"), str(spec.get("step") or ""),
                                   str(spec.get("image") or ""), str(spec.get("actionType") or ""),
                                   spec.get("serviceAccountName"), signed)


def borrowed_installed_role(cluster: Cluster, namespace: str | None, step: str, image: str, action_type: str,
                            account: object, signed: ActionContract | None) -> str | None:
    """Why the Role installed under kubernaut's account of ``action_type`` and ``image`` may not be
    given to the image, judged against its signed contract; None when it may, when there is no
    signed contract, when the step runs under another account or when no Role is installed.

    Both engines ask: an administrator's Role that grants more than was compiled must not reach an
    image whose contract does not declare it, whichever engine runs the step."""
    if signed is None or not action_type or account != action_service_account(action_type, image):
        return None
    try:
        installed = cluster.get(_RBAC_API, "Role", str(account), namespace)
    except NotFound:
        return None
    return _borrowing(step, image, action_type, str(account), installed.get("rules") or [], signed)
