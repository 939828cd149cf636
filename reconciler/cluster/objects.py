"""Pure helpers over Kubernetes objects as dicts (no cluster state here)."""

from __future__ import annotations

from typing import Any

from .resources import ANY, ResourceType
from .snapshots import FrozenDict, freeze

__all__ = [
    "SERVER_METADATA",
    "generation_content",
    "immutable_violation",
    "merge_patch",
    "owner_uids",
]

#: metadata fields only the server sets; clients' values are ignored on update and apply.
SERVER_METADATA = (
    "uid", "resourceVersion", "generation", "creationTimestamp",
    "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields",
)


def generation_content(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """What ``metadata.generation`` tracks: everything but metadata (and status, if it is a
    subresource), so label edits and status writes never look like a new desired state."""
    skip = {"metadata", "status"} if rt.status_subresource else {"metadata"}
    return {k: v for k, v in obj.items() if k not in skip}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (maps merge recursively, None deletes, anything else replaces)
    onto a frozen ``target`` (a stored object's part): the result is frozen and shares every part
    the patch leaves equal, so a status write copies only what it changes."""
    if not isinstance(patch, dict):
        return freeze(patch, target)
    base = target if isinstance(target, dict) else {}
    result = dict(base)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(base.get(key), value)
    if isinstance(target, FrozenDict) and result == target:
        return target
    return FrozenDict(result)


def owner_uids(obj: dict[str, Any]) -> list[str]:
    return [ref["uid"] for ref in obj["metadata"].get("ownerReferences") or [] if ref.get("uid")]


_MISSING = object()


def _get(node: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _without(node: Any, path: tuple[str, ...]) -> Any:
    """A copy of ``node`` with ``path`` removed (``ANY`` walks every list element / map value)."""
    if not path:
        return _MISSING
    head, rest = path[0], path[1:]
    if head == ANY:
        if isinstance(node, list):
            return [item for item in (_without(x, rest) for x in node) if item is not _MISSING]
        if isinstance(node, dict):
            return {k: v for k, v in ((k, _without(x, rest)) for k, x in node.items()) if v is not _MISSING}
        return node
    if not isinstance(node, dict) or head not in node:
        return node
    result = dict(node)
    stripped = _without(node[head], rest)
    if stripped is _MISSING:
        del result[head]
    else:
        result[head] = stripped
    return result


def immutable_violation(rt: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """The first immutable path that ``new`` changes relative to ``old``, dotted, or None."""
    for rule in rt.immutable:
        before, after = _get(old, rule.path), _get(new, rule.path)
        if before is after or before == after:
            continue  # unchanged (shared with the stored version on a status write): nothing to strip
        for allowed in rule.except_paths:
            before, after = _without(before, allowed), _without(after, allowed)
        if before != after:
            return ".".join(rule.path)
    return None
