"""Server-side apply, simplified but faithful where a controller can tell the difference.

Merge rules (a subset of structured-merge-diff, without schemas):

* maps merge key by key, recursively;
* lists of maps that all carry a unique string ``name`` merge item by item on ``name``
  (containers, env, volumes, params, tasks...); items the manager no longer sends are removed
  only if it owned them;
* ``metadata.finalizers`` merges as a set;
* every other list is atomic: the applied list replaces the stored one.

Ownership is recorded per manager in ``metadata.managedFields`` (operation ``Apply``, ``FieldsV1``
with ``f:``/``k:``/``v:`` keys as the real server writes them). A field the manager applied before
and omits now is removed unless another manager owns it. Another manager's field with a different
value is a 409 conflict unless ``force`` (then ownership moves to this manager). Non-apply writers
(create/update) are not tracked as managers.

Copies: the embedded API server hands in read-only snapshots (the stored object and the request
body) and freezes the result when it stores it, so the applied values are shared rather than
deep-copied, and the live object is copied only when fields must be removed from it.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import Conflict
from .resources import ResourceType
from .snapshots import freeze

__all__ = [
    "FieldPath",
    "FieldSet",
    "applied_content",
    "field_set",
    "from_fields_v1",
    "server_side_apply",
    "to_fields_v1",
]

FieldPath = tuple[str, ...]
FieldSet = frozenset[FieldPath]

_APPLYABLE_METADATA = ("labels", "annotations", "finalizers", "ownerReferences")
_SET_LISTS = frozenset({("f:metadata", "f:finalizers")})
_METADATA: FieldPath = ("f:metadata",)
_MISSING: Any = object()


@functools.lru_cache(maxsize=4096)  # one per keyed list item of every apply; the names repeat
def _key_element(name: str) -> str:
    return "k:" + json.dumps({"name": name}, separators=(",", ":"))


def _value_element(value: Any) -> str:
    return "v:" + json.dumps(value, separators=(",", ":"), sort_keys=True)


def _is_keyed(items: Any) -> bool:
    if not isinstance(items, list) or not items:
        return False
    names = [item.get("name") if isinstance(item, dict) else None for item in items]
    return all(isinstance(n, str) for n in names) and len(set(names)) == len(names)


def applied_content(rt: ResourceType, obj: Mapping[str, Any]) -> dict[str, Any]:
    """The part of an applied object that apply may set: no identity, no server metadata, and no
    status when status is a subresource."""
    content = {
        key: value for key, value in obj.items()
        if key not in ("apiVersion", "kind", "metadata") and not (key == "status" and rt.status_subresource)
    }
    meta = obj.get("metadata") or {}
    content["metadata"] = {k: meta[k] for k in _APPLYABLE_METADATA if k in meta}
    return content


def field_set(content: Mapping[str, Any]) -> FieldSet:
    """Every field path ``content`` sets (prefixes included), in FieldsV1 element syntax."""
    out: set[FieldPath] = set()
    _collect(content, (), out)
    if not any(len(p) > 1 and p[0] == _METADATA[0] for p in out):
        out.discard(_METADATA)  # an empty metadata map owns nothing
    return frozenset(out)


def _collect(value: Any, path: FieldPath, out: set[FieldPath]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            child = (*path, f"f:{key}")
            out.add(child)
            _collect(item, child, out)
    elif path in _SET_LISTS and isinstance(value, list):
        out.update((*path, _value_element(item)) for item in value)
    elif _is_keyed(value):
        for item in value:
            child = (*path, _key_element(item["name"]))
            out.add(child)
            _collect({k: v for k, v in item.items() if k != "name"}, child, out)


def to_fields_v1(fields: Iterable[FieldPath]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(fields):
        node = tree
        for element in path:
            node = node.setdefault(element, {})
        if path and path[-1].startswith("k:"):
            node.setdefault(".", {})
    return tree


def from_fields_v1(tree: Mapping[str, Any]) -> FieldSet:
    out: set[FieldPath] = set()

    def walk(node: Mapping[str, Any], path: FieldPath) -> None:
        for element, child in node.items():
            if element == ".":
                continue
            out.add((*path, element))
            if isinstance(child, Mapping):
                walk(child, (*path, element))

    walk(tree, ())
    return frozenset(out)


def _child(node: Any, element: str) -> Any:
    kind, _, key = element.partition(":")
    if kind == "f" and isinstance(node, dict):
        return node.get(key, _MISSING)
    if kind in ("k", "v") and isinstance(node, list):
        for item in node:
            if _matches(item, element):
                return item
    return _MISSING


def _matches(item: Any, element: str) -> bool:
    if element.startswith("k:"):
        return isinstance(item, dict) and _key_element(str(item.get("name"))) == element
    return _value_element(item) == element


def _value_at(obj: Any, path: FieldPath) -> Any:
    for element in path:
        obj = _child(obj, element)
        if obj is _MISSING:
            break
    return obj


def _remove_child(node: Any, element: str) -> None:
    if element.startswith("f:") and isinstance(node, dict):
        node.pop(element[2:], None)
    elif isinstance(node, list):
        node[:] = [item for item in node if not _matches(item, element)]


def _emptied(node: Any, element: str) -> bool:
    if element.startswith("k:"):
        return isinstance(node, dict) and set(node) <= {"name"}
    return node == {} or node == []


def remove_fields(live: dict[str, Any], removed: Iterable[FieldPath], previous: FieldSet) -> dict[str, Any]:
    """``live`` without the fields in ``removed``. A field that had children in ``previous`` goes
    only once it is empty, so fields set by others inside it survive. (``live`` itself when
    nothing is removed: :func:`merge` never edits its input.)"""
    removed = list(removed)
    if not removed:
        return live
    result = copy.deepcopy(live)
    parents = {p[:-1] for p in previous}
    for path in sorted(removed, key=len, reverse=True):  # children before their parents
        if path == _METADATA:
            continue
        container = _value_at(result, path[:-1])
        node = _child(container, path[-1])
        if node is _MISSING or (path in parents and not _emptied(node, path[-1])):
            continue
        _remove_child(container, path[-1])
    return result


def merge(live: Any, applied: Any, path: FieldPath = ()) -> Any:
    """``applied`` merged into ``live`` by the rules in the module docstring: new containers along
    the merged paths; values are shared with ``live`` and ``applied``, neither of which is edited."""
    if isinstance(live, dict) and isinstance(applied, dict):
        result = dict(live)
        for key, value in applied.items():
            child = (*path, f"f:{key}")
            result[key] = merge(live[key], value, child) if key in live else value
        # Unchanged: ``live`` itself, so storing shares it (a re-apply copies nothing).
        if path and len(result) == len(live) and all(result[k] is v for k, v in live.items()):
            return live
        return result
    if isinstance(live, list) and isinstance(applied, list):
        if path in _SET_LISTS:
            return [*live, *(v for v in applied if v not in live)]
        if _is_keyed(applied) and all(isinstance(i, dict) and "name" in i for i in live):
            by_name = {item["name"]: item for item in live}
            ours = [merge(by_name[i["name"]], i, path) if i["name"] in by_name else i for i in applied]
            sent = {i["name"] for i in applied}
            merged = ours + [i for i in live if i["name"] not in sent]
            unchanged = len(merged) == len(live) and all(a is b for a, b in zip(merged, live, strict=True))
            return live if unchanged else merged
    return live if applied == live else applied


def _leaves(fields: FieldSet) -> set[FieldPath]:
    parents = {p[:-1] for p in fields}
    return {p for p in fields if p not in parents and p[-1].startswith("f:")}


def _describe(path: FieldPath) -> str:
    return ".".join(element[2:] for element in path)


def server_side_apply(
    live: dict[str, Any],
    applied: Mapping[str, Any],
    rt: ResourceType,
    *,
    manager: str,
    force: bool,
    timestamp: str,
) -> dict[str, Any]:
    """The object after ``manager`` applies ``applied`` to ``live`` (``managedFields`` updated).

    ``live`` is the stored object, or a skeleton (apiVersion, kind, name, namespace) on create.
    Raises Conflict when another manager owns a field with a different value and not ``force``.
    """
    content = applied_content(rt, applied)
    new_fields = field_set(content)
    entries: list[dict[str, Any]] = list(live["metadata"].get("managedFields") or [])  # entries kept are shared
    owned = {e["manager"]: from_fields_v1(e.get("fieldsV1") or {})
             for e in entries if e.get("operation") == "Apply"}
    before = dict(owned)
    previous = owned.pop(manager, frozenset())

    conflicts = [(other, path) for other, fields in owned.items() for path in _leaves(new_fields) & fields
                 if _value_at(live, path) != _value_at(content, path)]
    if conflicts and not force:
        listing = "; ".join(f'conflict with "{m}": .{_describe(p)}' for m, p in sorted(conflicts))
        name = live["metadata"].get("name")
        raise Conflict(f'Apply failed with {len(conflicts)} conflict(s) on {rt.group_resource} '
                       f'"{name}": {listing}')
    for other, path in conflicts:  # force: the conflicting fields change hands
        owned[other] = owned[other] - {path}

    others: set[FieldPath] = set().union(*owned.values())
    result = remove_fields(live, previous - new_fields - others, previous)
    result = merge(result, content)  # a new top level (the caller's to edit)
    result["metadata"] = dict(result["metadata"])  # and metadata, which merge may have left shared
    owned[manager] = new_fields
    result["metadata"]["managedFields"] = _rebuild_entries(
        entries, before, owned, manager, rt.api_version, timestamp)
    if not result["metadata"]["managedFields"]:
        del result["metadata"]["managedFields"]
    return result


def _rebuild_entries(
    entries: list[dict[str, Any]],
    before: Mapping[str, FieldSet],
    after: Mapping[str, FieldSet],
    manager: str,
    api_version: str,
    timestamp: str,
) -> list[dict[str, Any]]:
    """managedFields with only changed entries rewritten, so an unchanged apply compares equal."""
    rebuilt: list[dict[str, Any]] = []
    for entry in entries:
        name = entry["manager"]
        if entry.get("operation") != "Apply" or after.get(name) == before.get(name):
            rebuilt.append(entry)
        elif after.get(name):
            rebuilt.append(_entry(name, after[name], api_version, timestamp))
    if manager not in before and after[manager]:
        rebuilt.append(_entry(manager, after[manager], api_version, timestamp))
    return rebuilt


def _entry(manager: str, fields: FieldSet, api_version: str, timestamp: str) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": "Apply",
        "apiVersion": api_version,
        "time": timestamp,
        "fieldsType": "FieldsV1",
        "fieldsV1": _frozen_fields_v1(fields),
    }


def _frozen_fields_v1(fields: FieldSet) -> dict[str, Any]:
    """``to_fields_v1``, read-only, each top-level field's subtree memoised: the objects a manager
    applies over and over (a Pipeline per workflow) own the same fields under ``f:spec``, while
    ``f:metadata`` differs (names, owner uids), and storing a frozen subtree shares it."""
    groups: dict[str, set[FieldPath]] = {}
    for path in fields:
        groups.setdefault(path[0], set()).add(path[1:])
    tree: dict[str, Any] = freeze({head: _frozen_subtree(frozenset(groups[head]), head.startswith("k:"))
                                   for head in sorted(groups)})
    return tree


@functools.lru_cache(maxsize=256)
def _frozen_subtree(tails: frozenset[FieldPath], keyed: bool) -> dict[str, Any]:
    children = to_fields_v1(tail for tail in tails if tail)
    # As to_fields_v1 marks a keyed item's own node ("." first: its path sorts before its children's).
    subtree: dict[str, Any] = freeze({".": {}, **children} if keyed and () in tails else children)
    return subtree
