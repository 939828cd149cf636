"""Diff-based apply: desired objects vs observed objects -> a plan -> server-side apply.

:func:`plan` compares only the fields kubernaut owns — the fields present in the desired object —
so what the API server adds (defaults, generated labels, uid, resourceVersion, status...) never
shows up as a difference and never causes an endless stream of updates (controller-runtime's
``CreateOrUpdate`` warning; kopf's ``DiffScope.LEFT``). Concretely the observed object is
*projected* onto the desired object's shape before comparing:

* maps: only the keys the desired map has;
* lists of maps merged by ``name`` in server-side apply (containers, env, volumes, ...): the
  observed items with the desired names, in the desired order (items added by others are theirs);
* other lists of maps: element by element on the desired keys (a different length is a diff);
* ``metadata.finalizers``: a set (others may add finalizers);
* every other value, scalar lists included, is compared whole.

A field kubernaut set before and no longer wants would be invisible to that projection, so the
plan also reads the observed object's ``managedFields``: any field owned by kubernaut's field
manager that the desired object lacks is a difference too (server-side apply removes it).

Pruning: an observed object that carries *all* of the ``owned_selector`` labels
(``app.kubernetes.io/managed-by: kubernaut`` and ``kubernaut.ai/workflow: <name>``) and is no
longer desired is deleted. The selector must name the workflow, so the per-action-type RBAC
objects shared by all workflows (which have no workflow label) are never pruned.

:func:`execute` carries a plan out with ``Cluster.apply`` (create and patch alike, so every field
kubernaut writes is recorded as owned by its field manager). It raises the first API error
unchanged, so a reconcile's error routing (``is_transient``) applies; the loop re-plans next time.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from deepdiff import DeepDiff

from targets.common.labels import MANAGED_BY as MANAGED_BY_LABEL
from targets.common.labels import MANAGER as MANAGED_BY
from targets.common.labels import WORKFLOW as WORKFLOW_LABEL

from .cluster import Cluster, JsonObject, NotFound
from .cluster.server_side_apply import from_fields_v1

__all__ = [
    "MANAGED_BY",
    "MANAGED_BY_LABEL",
    "WORKFLOW_LABEL",
    "Action",
    "ApplyResult",
    "Change",
    "ObjectKey",
    "Plan",
    "execute",
    "object_key",
    "observe",
    "ownership_selector",
    "plan",
    "sync",
]

#: Metadata only the server sets; never compared.
_SERVER_METADATA = frozenset({
    "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
    "deletionGracePeriodSeconds", "managedFields", "selfLink",
})
#: Metadata a client may set and kubernaut therefore owns when it sets it.
_OWNED_METADATA = ("labels", "annotations", "ownerReferences", "finalizers")
_MISSING: Any = object()
_VALUE_WIDTH = 80


class Action(enum.StrEnum):
    CREATE = "create"
    PATCH = "patch"
    DELETE = "delete"
    NOOP = "no-op"


class ObjectKey(NamedTuple):
    api_version: str
    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where} ({self.api_version})"


def object_key(obj: Mapping[str, Any]) -> ObjectKey:
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if not obj.get("apiVersion") or not obj.get("kind") or not name:
        raise ValueError(f"object needs apiVersion, kind and metadata.name: {_short(obj)}")
    return ObjectKey(obj["apiVersion"], obj["kind"], meta.get("namespace") or None, name)


def ownership_selector(workflow: str) -> dict[str, str]:
    """The labels that mark an object as owned by one workflow (what pruning selects on)."""
    return {MANAGED_BY_LABEL: MANAGED_BY, WORKFLOW_LABEL: workflow}


@dataclass(frozen=True)
class Change:
    """What the plan does to one object, and why (``diff``: readable lines, empty for no-op)."""

    action: Action
    key: ObjectKey
    desired: JsonObject | None = None
    observed: JsonObject | None = None
    diff: tuple[str, ...] = ()
    #: The observed object is being deleted; the desired one can only be re-created afterwards.
    waiting: bool = False

    def render(self) -> str:
        symbol = {Action.CREATE: "+", Action.PATCH: "~", Action.DELETE: "-", Action.NOOP: "="}[self.action]
        note = " (being deleted; will be re-created when it is gone)" if self.waiting else ""
        lines = [f"{symbol} {self.action.value} {self.key}{note}"]
        lines.extend(f"    {line}" for line in self.diff)
        return "\n".join(lines)


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...] = ()

    def of(self, action: Action) -> list[Change]:
        return [c for c in self.changes if c.action is action]

    @property
    def creates(self) -> list[Change]:
        return self.of(Action.CREATE)

    @property
    def patches(self) -> list[Change]:
        return self.of(Action.PATCH)

    @property
    def deletes(self) -> list[Change]:
        return self.of(Action.DELETE)

    @property
    def noops(self) -> list[Change]:
        return self.of(Action.NOOP)

    @property
    def has_changes(self) -> bool:
        return any(c.action is not Action.NOOP for c in self.changes)

    @property
    def converged(self) -> bool:
        """Nothing to do and nothing waiting for a deletion to finish."""
        return not self.has_changes and not any(c.waiting for c in self.changes)

    def summary(self) -> str:
        return (f"{len(self.creates)} to create, {len(self.patches)} to patch, "
                f"{len(self.deletes)} to delete, {len(self.noops)} unchanged")

    def render(self, *, include_noops: bool = False) -> str:
        """A reviewable, ``kubectl diff``-like text (``--dry-run`` output, logs)."""
        shown = [c.render() for c in self.changes if include_noops or c.action is not Action.NOOP or c.waiting]
        return "\n".join([*shown, f"Plan: {self.summary()}."])


# -- planning ----------------------------------------------------------------------------------


def plan(
    desired: Sequence[JsonObject],
    observed: Iterable[JsonObject],
    *,
    owned_selector: Mapping[str, str],
    field_manager: str = "kubernaut",
    default_namespace: str = "default",
) -> Plan:
    """The changes that make ``observed`` match ``desired`` (see the module docstring).

    Desired objects keep their order (targets emit them in dependency order); deletions come
    last, in reverse observed order. ``owned_selector`` must include the workflow label. A
    desired object without a namespace matches an observed one in ``default_namespace`` (where
    the server puts it), so it is neither re-created nor pruned.
    """
    if owned_selector.get(MANAGED_BY_LABEL) != MANAGED_BY or not owned_selector.get(WORKFLOW_LABEL):
        raise ValueError(f"owned_selector must set {MANAGED_BY_LABEL}={MANAGED_BY} and {WORKFLOW_LABEL}, "
                         "so shared objects without a workflow label are never pruned")
    by_key: dict[ObjectKey, JsonObject] = {}
    for obj in observed:
        by_key[object_key(obj)] = obj
    changes: list[Change] = []
    wanted: set[ObjectKey] = set()
    seen: set[ObjectKey] = set()  # observed keys matched by a desired object
    for obj in desired:
        key = object_key(obj)
        if key in wanted:
            raise ValueError(f"{key} is desired twice")
        wanted.add(key)
        defaulted = key._replace(namespace=default_namespace)
        if key not in by_key and key.namespace is None and defaulted in by_key:
            key = defaulted
        seen.add(key)
        live = by_key.get(key)
        if live is None:
            changes.append(Change(Action.CREATE, key, obj, None, tuple(_creation_lines(obj))))
        elif _terminating(live):
            changes.append(Change(Action.NOOP, key, obj, live, waiting=True))
        else:
            lines = diff_owned(obj, live, field_manager=field_manager)
            changes.append(Change(Action.PATCH if lines else Action.NOOP, key, obj, live, tuple(lines)))
    prunable = [(key, obj) for key, obj in by_key.items()
                if key not in seen and _owned(obj, owned_selector) and not _terminating(obj)]
    for key, obj in reversed(prunable):
        changes.append(Change(Action.DELETE, key, None, obj, ("no longer desired",)))
    return Plan(tuple(changes))


def diff_owned(desired: JsonObject, observed: JsonObject, *, field_manager: str = "kubernaut") -> list[str]:
    """Readable differences on the fields ``desired`` owns; empty when applying it changes nothing."""
    want = _normalise(owned_content(desired))
    have = _normalise(_project(owned_content(observed), want, ()))
    # Nothing to tell apart (the usual case: most applies change nothing) is found by comparing
    # JSON text, which tells 1 from 1.0 and true from 1 as DeepDiff does, far faster than it.
    same = json.dumps(have, sort_keys=True) == json.dumps(want, sort_keys=True)
    found = [] if same else _deepdiff_lines(have, want)
    found.extend(f"- {path}: set by {field_manager} before, no longer desired"
                 for path in _stale_owned_fields(observed, want, field_manager))
    return found


def owned_content(obj: Mapping[str, Any]) -> JsonObject:
    """The part of an object a client writes: no identity, no server metadata, no status."""
    content = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}
    meta = obj.get("metadata") or {}
    owned_meta = {k: meta[k] for k in _OWNED_METADATA if k in meta and k not in _SERVER_METADATA}
    if owned_meta:
        content["metadata"] = owned_meta
    return content


def _is_keyed(items: Any) -> bool:
    """A list server-side apply merges by ``name`` (every item a map with a unique string name)."""
    if not isinstance(items, list) or not items:
        return False
    names = [i.get("name") if isinstance(i, dict) else None for i in items]
    return all(isinstance(n, str) for n in names) and len(set(names)) == len(names)


def _project(observed: Any, desired: Any, path: tuple[str | int, ...]) -> Any:
    """``observed`` restricted to the shape of ``desired`` (see the module docstring)."""
    if isinstance(desired, dict):
        if not isinstance(observed, dict):
            return observed
        return {k: _project(observed[k], v, (*path, k)) for k, v in desired.items() if k in observed}
    if isinstance(desired, list) and isinstance(observed, list):
        if path == ("metadata", "finalizers"):
            return [f for f in desired if f in observed]  # a set: others may add their own
        if _is_keyed(desired) and all(isinstance(o, dict) and "name" in o for o in observed):
            by_name = {o["name"]: o for o in observed}
            return [_project(by_name[d["name"]], d, (*path, i)) for i, d in enumerate(desired)
                    if d["name"] in by_name]
        if all(isinstance(d, dict) for d in desired):
            return [_project(o, desired[i], (*path, i)) if i < len(desired) else o
                    for i, o in enumerate(observed)]
    return observed


def _normalise(value: Any) -> Any:
    """JSON has one number type: 3.0 and 3 are the same value (but True is not 1)."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _deepdiff_lines(observed: Any, desired: Any) -> list[str]:
    diff = DeepDiff(observed, desired, view="tree", verbose_level=2)
    lines: list[tuple[str, str]] = []
    for report, levels in diff.items():
        for level in levels:
            parts = level.path(output_format="list")
            where = _render_path(parts, desired)
            if report in ("dictionary_item_added", "iterable_item_added"):
                lines.append((where, f"+ {where}: {_short(level.t2)}"))
            elif report in ("dictionary_item_removed", "iterable_item_removed"):
                lines.append((where, f"- {where}: {_short(level.t1)}"))
            else:
                lines.append((where, f"~ {where}: {_short(level.t1)} -> {_short(level.t2)}"))
    return [line for _, line in sorted(lines)]


def _render_path(parts: Sequence[Any], desired: Any) -> str:
    """``.spec.template.spec.containers[name=main].image``: names for lists merged by name."""
    out = []
    node = desired
    for part in parts:
        if isinstance(part, int):
            if _is_keyed(node) and part < len(node):
                out.append(f"[name={node[part]['name']}]")
            else:
                out.append(f"[{part}]")
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            out.append(f".{part}")
            node = node.get(part) if isinstance(node, dict) else None
    return "".join(out) or "."


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 3] + "..."


def _stale_owned_fields(observed: JsonObject, desired_content: Any, field_manager: str) -> list[str]:
    """Leaf fields ``field_manager`` applied before (per managedFields) that desired lacks."""
    owned: frozenset[tuple[str, ...]] = frozenset()
    for entry in (observed.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") == field_manager and entry.get("operation") == "Apply":
            owned = owned | from_fields_v1(entry.get("fieldsV1") or {})
    if not owned:
        return []
    parents = {path[:-1] for path in owned}
    stale = []
    for path in sorted(owned):
        if path in parents or path[:1] == ("f:status",):
            continue
        if _value_at(desired_content, path) is _MISSING:
            stale.append(_fields_path_text(path))
    return stale


def _value_at(node: Any, path: Sequence[str]) -> Any:
    """Follow a FieldsV1 path (``f:``/``k:``/``v:`` elements) through plain data."""
    for element in path:
        kind, _, text = element.partition(":")
        if kind == "f" and isinstance(node, dict) and text in node:
            node = node[text]
        elif kind == "k" and isinstance(node, list):
            wanted = json.loads(text)
            node = next((i for i in node if isinstance(i, dict)
                         and all(i.get(k) == v for k, v in wanted.items())), _MISSING)
        elif kind == "v" and isinstance(node, list):
            wanted = json.loads(text)
            node = wanted if wanted in node else _MISSING
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def _fields_path_text(path: Sequence[str]) -> str:
    out = []
    for element in path:
        kind, _, text = element.partition(":")
        if kind == "f":
            out.append(f".{text}")
        elif kind == "k":
            out.append("[" + ",".join(f"{k}={v}" for k, v in json.loads(text).items()) + "]")
        else:
            out.append(f"[{text}]")
    return "".join(out)


def _creation_lines(obj: JsonObject) -> list[str]:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return [f"labels: {_short(labels)}"] if labels else []


def _terminating(obj: Mapping[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def _owned(obj: Mapping[str, Any], selector: Mapping[str, str]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


# -- observing and executing ---------------------------------------------------------------------


def observe(
    cluster: Cluster,
    desired: Sequence[JsonObject],
    *,
    owned_selector: Mapping[str, str],
    prune_kinds: Iterable[tuple[str, str]] = (),
    namespace: str | None = None,
) -> list[JsonObject]:
    """What :func:`plan` needs to see: the owned objects of every desired or ``prune_kinds`` kind
    (one labelled list per kind) plus the desired objects that list missed (one get each)."""
    kinds: dict[tuple[str, str], None] = {}
    for obj in desired:
        kinds[(obj["apiVersion"], obj["kind"])] = None
    for type_key in prune_kinds:
        kinds[type_key] = None
    found: dict[ObjectKey, JsonObject] = {}
    for api_version, kind in kinds:
        for obj in cluster.list(api_version, kind, namespace, dict(owned_selector)).items:
            found[object_key(obj)] = obj
    for obj in desired:
        key = object_key(obj)
        if key in found:
            continue
        try:
            live = cluster.get(key.api_version, key.kind, key.name, key.namespace)
        except NotFound:
            continue
        found[object_key(live)] = live
    return list(found.values())


@dataclass
class ApplyResult:
    """What :func:`execute` did. ``written``: objects whose resourceVersion differs from the
    observed one (a create counts as written: there was no observed version to compare with)."""

    dry_run: bool = False
    created: list[ObjectKey] = field(default_factory=list)
    patched: list[ObjectKey] = field(default_factory=list)
    deleted: list[ObjectKey] = field(default_factory=list)
    unchanged: list[ObjectKey] = field(default_factory=list)
    written: list[ObjectKey] = field(default_factory=list)
    #: The server's answer for every object applied (dry run: what would be stored).
    objects: dict[ObjectKey, JsonObject] = field(default_factory=dict)


def execute(
    cluster: Cluster,
    plan: Plan,
    field_manager: str = "kubernaut",
    dry_run: bool = False,
    *,
    force: bool = True,
) -> ApplyResult:
    """Carry out ``plan`` with server-side apply. Creates and patches are both ``apply`` (an
    object that appeared since the plan was made is merged into, not an error); deleting an
    object that is already gone succeeds. Raises the first API error."""
    result = ApplyResult(dry_run=dry_run)
    for change in plan.changes:
        key = change.key
        if change.action is Action.NOOP:
            result.unchanged.append(key)
            continue
        if change.action is Action.DELETE:
            try:
                cluster.delete(key.api_version, key.kind, key.name, key.namespace, dry_run=dry_run)
            except NotFound:
                result.unchanged.append(key)  # already gone: what we wanted
                continue
            result.deleted.append(key)
            if not dry_run:
                result.written.append(key)
            continue
        assert change.desired is not None
        before = (change.observed or {}).get("metadata", {}).get("resourceVersion")
        answer = cluster.apply(change.desired, field_manager=field_manager, force=force, dry_run=dry_run)
        result.objects[key] = answer
        (result.created if change.action is Action.CREATE else result.patched).append(key)
        after = (answer.get("metadata") or {}).get("resourceVersion")
        if not dry_run and after != before:
            result.written.append(key)
    return result


def sync(
    cluster: Cluster,
    desired: Sequence[JsonObject],
    *,
    owned_selector: Mapping[str, str],
    prune_kinds: Iterable[tuple[str, str]] = (),
    namespace: str | None = None,
    field_manager: str = "kubernaut",
    dry_run: bool = False,
) -> tuple[Plan, ApplyResult]:
    """observe -> plan -> execute, the whole diff-based apply in one call."""
    live = observe(cluster, desired, owned_selector=owned_selector, prune_kinds=prune_kinds, namespace=namespace)
    the_plan = plan(desired, live, owned_selector=owned_selector, field_manager=field_manager)
    return the_plan, execute(cluster, the_plan, field_manager, dry_run)
