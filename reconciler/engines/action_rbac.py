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
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..cluster import Cluster, JsonObject, NotFound

__all__ = ["RBAC_KINDS", "ActionRbac", "missing_rbac", "split_rbac"]

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
