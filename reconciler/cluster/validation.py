"""Object-level validation the API server performs for every kind (names, namespaces, labels).

Strict on purpose: a name or label that a real server would reject with 422 must fail here too,
or a bug in a target's naming would only surface on a real cluster.
"""

from __future__ import annotations

import re
from typing import Any

from .crd_rules import rule_violation
from .errors import BadRequest, Invalid
from .resources import NameRule, ResourceType
from .selectors import label_key_error, label_value_error
from .snapshots import LEAF_TYPES, FrozenDict, FrozenList, NotJson, freeze, frozen_json

__all__ = ["ensure_json", "json_body", "validate_object"]

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def name_error(name: str, rule: NameRule) -> str | None:
    if rule == "label":
        ok = len(name) <= 63 and bool(_LABEL.match(name))
        expected = "a lowercase RFC 1123 label (at most 63 characters)"
    elif rule == "subdomain":
        ok = len(name) <= 253 and bool(_SUBDOMAIN.match(name))
        expected = "a lowercase RFC 1123 subdomain (at most 253 characters)"
    else:
        ok = bool(name) and name not in (".", "..") and "/" not in name and "%" not in name
        expected = "a valid path segment name"
    return None if ok else f"Invalid value: {name!r}: must be {expected}"


def validate_object(rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None = None) -> None:
    """422 for a bad name, namespace or label, or a broken CEL rule of a kubernaut CRD (``old``:
    the stored version an update replaces, for transition rules); runs after defaulting, as the
    server does."""
    meta = obj["metadata"]
    name = meta["name"]

    def invalid(detail: str) -> Invalid:
        return Invalid(f'{rt.group_kind} "{name}" is invalid: {detail}')

    # What an update shares with the stored version (the same objects, as a status write
    # shares its metadata's parts) was checked when it was stored.
    stored_meta = old["metadata"] if old is not None else None
    if stored_meta is None or name != stored_meta.get("name"):
        if (problem := name_error(name, rt.name_rule)) is not None:
            raise invalid(f"metadata.name: {problem}")
        if rt.namespaced and (problem := name_error(meta["namespace"], "label")) is not None:
            raise invalid(f"metadata.namespace: {problem}")
    for where in ("metadata",), ("spec", "template", "metadata"):
        labels = _dig(obj, where).get("labels") or {}
        if old is not None and labels and labels is _dig(old, where).get("labels"):
            continue
        if not isinstance(labels, dict):
            raise invalid(f"{'.'.join(where)}.labels: must be a map of strings")
        for key, value in labels.items():
            if not isinstance(value, str):
                raise invalid(f"{'.'.join(where)}.labels[{key}]: must be a string, got {value!r}")
            if (problem := label_key_error(key) or label_value_error(value)) is not None:
                raise invalid(f"{'.'.join(where)}.labels: {problem}")
    finalizers = meta.get("finalizers") or []
    if not isinstance(finalizers, list) or not all(isinstance(f, str) and f for f in finalizers):
        raise invalid("metadata.finalizers: must be a list of non-empty strings")
    if (problem := rule_violation(rt.api_version, rt.kind, obj, old)) is not None:
        raise invalid(problem)


def _dig(obj: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    node: Any = obj
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def ensure_json(value: Any, where: str = "object") -> None:
    """400 for anything that is not plain JSON data (a datetime, a tuple, a non-str key...).

    A real client would fail to serialise these or send something else than intended; failing
    loudly here keeps the embedded cluster from accepting what a real one never sees.
    """
    if not _plain_json(value):  # the common case is checked without building a path per node
        _check_json(value, where)


def json_body(value: Any, where: str = "object") -> Any:
    """A request body as the embedded API server keeps it: a read-only deep copy (the caller may
    go on editing its own), checked to be plain JSON data on the same walk; 400 locating the
    first value that is not (see :func:`ensure_json`)."""
    try:
        return frozen_json(value)
    except NotJson:
        _check_json(value, where)  # raises, unless only exact types were the problem
        return freeze(value, None)  # dict/list/str subclasses: accepted as before, kept as they are


def _check_json(value: Any, where: str) -> None:
    if value is None or isinstance(value, str | bool | int | float):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise BadRequest(f"{where}: map keys must be strings, got {key!r}")
            _check_json(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]")
    else:
        raise BadRequest(f"{where}: {type(value).__name__} is not JSON data")


def _plain_json(value: Any) -> bool:
    """Whether ``value`` is made only of dicts with str keys, lists and the JSON scalar types
    (exact types: anything else takes ``ensure_json``'s slow, locating path)."""
    kind = type(value)
    if kind in LEAF_TYPES or kind is FrozenDict or kind is FrozenList:
        return True  # frozen parts come from the store or a watch: JSON by construction
    if kind is dict:
        return all(type(k) is str for k in value) and all(
            type(v) in LEAF_TYPES or _plain_json(v) for v in value.values())
    if kind is list:
        return all(type(v) in LEAF_TYPES or _plain_json(v) for v in value)
    return False
