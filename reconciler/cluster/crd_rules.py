"""The CEL validation rules (``x-kubernetes-validations``) of kubernaut's own CRDs, evaluated as the
API server evaluates them.

The rules come from the CRDs ``targets.crds`` generates (the bytes of ``deploy/crds/``), read
generically: every rule at every schema node, ``self`` bound to the value at that node and, for a
transition rule (one that names ``oldSelf``), ``oldSelf`` to the value it replaces. As on the API
server:

* a transition rule runs on updates only, where the node exists in both versions (an atomic list
  has no correlated items, so rules under ``items`` run without ``oldSelf`` only);
* a node whose value did not change is not re-validated (validation ratcheting, on by default
  since Kubernetes 1.30), so a status write never trips a rule on the unchanged spec;
* a rule that is false, or cannot be evaluated, is a 422 with the rule's message at the node's
  path: ``spec: Invalid value: "object": <message>``.

CEL is evaluated with ``cel-python`` (``celpy``); each rule is compiled once per process.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Rule", "rule_violation", "rules_of"]

_NOT_SET = object()


@dataclass(frozen=True)
class Rule:
    rule: str
    message: str

    @property
    def is_transition(self) -> bool:
        return "oldSelf" in _identifiers(self.rule)


@functools.cache
def _schemas() -> Mapping[tuple[str, str], Mapping[str, Any]]:
    """``(apiVersion, kind) -> openAPIV3Schema`` of every version of kubernaut's CRDs."""
    from targets.crds import crds  # the generated CRDs: imported on first use, by MemoryCluster only

    out: dict[tuple[str, str], Mapping[str, Any]] = {}
    for crd in crds():
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            out[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return out


def rules_of(api_version: str, kind: str) -> Mapping[str, Any] | None:
    """The schema of a kubernaut CRD kind, or None for every other kind."""
    return _schemas().get((api_version, kind))


@functools.cache
def _identifiers(expression: str) -> frozenset[str]:
    import celpy

    tree = celpy.Environment().compile(expression)
    return frozenset(str(token) for token in tree.scan_values(lambda t: getattr(t, "type", None) == "IDENT"))


@functools.cache
def _program(expression: str) -> Any:
    import celpy

    env = celpy.Environment()
    return env.program(env.compile(expression))


def _holds(rule: Rule, value: Any, old: Any) -> bool:
    from celpy import CELEvalError, json_to_cel

    activation = {"self": json_to_cel(value)}
    if old is not _NOT_SET:
        activation["oldSelf"] = json_to_cel(old)
    try:
        return bool(_program(rule.rule).evaluate(activation))
    except (CELEvalError, TypeError, ValueError):
        # The API server refuses an object whose rule cannot be evaluated on it, too.
        return False


def _describe(value: Any) -> str:
    return '"object"' if isinstance(value, dict) else '"array"' if isinstance(value, list) else repr(value)


@dataclass(frozen=True)
class _Node:
    """A schema node reduced to what the walk needs: its rules, and only the children under
    which some rule sits (so a status write does not traverse all of status to find none)."""

    rules: tuple[Rule, ...]
    properties: tuple[tuple[str, _Node], ...]
    additional: _Node | None
    items: _Node | None


#: The reduced schema of each kind, by the id of its (process-lifetime) openAPIV3Schema.
_NODES: dict[int, _Node | None] = {}


def _node(schema: Mapping[str, Any]) -> _Node | None:
    """``schema`` reduced, or None when no rule sits at or below it."""
    if id(schema) in _NODES:
        return _NODES[id(schema)]
    rules = tuple(Rule(entry["rule"], entry.get("message") or f"failed rule: {entry['rule']}")
                  for entry in schema.get("x-kubernetes-validations") or ())
    properties = tuple((name, child) for name, sub in (schema.get("properties") or {}).items()
                       if isinstance(sub, Mapping) and (child := _node(sub)) is not None)
    extra, items = schema.get("additionalProperties"), schema.get("items")
    additional = _node(extra) if isinstance(extra, Mapping) else None
    each = _node(items) if isinstance(items, Mapping) else None
    found = _Node(rules, properties, additional, each) if rules or properties or additional or each else None
    _NODES[id(schema)] = found
    return found


def _violations(node: _Node, value: Any, old: Any, path: str) -> Iterator[str]:
    if value is None or (old is not _NOT_SET and value == old):
        return  # absent, or unchanged (ratcheting)
    for rule in node.rules:
        if rule.is_transition and old is _NOT_SET:
            continue
        if not _holds(rule, value, old):
            yield f"{path}: Invalid value: {_describe(value)}: {rule.message}"
    if isinstance(value, dict):
        for name, sub in node.properties:
            if name in value:
                before = old[name] if isinstance(old, dict) and name in old else _NOT_SET
                yield from _violations(sub, value[name], before, f"{path}.{name}" if path else name)
        if node.additional is not None:
            for key, item in value.items():
                before = old[key] if isinstance(old, dict) and key in old else _NOT_SET
                yield from _violations(node.additional, item, before, f"{path}[{key}]")
    elif isinstance(value, list) and node.items is not None:
        for i, item in enumerate(value):
            yield from _violations(node.items, item, _NOT_SET, f"{path}[{i}]")


def rule_violation(api_version: str, kind: str, obj: Mapping[str, Any],
                   old: Mapping[str, Any] | None = None) -> str | None:
    """The first rule of the kind's CRD that ``obj`` (replacing ``old`` on an update) breaks, as
    the API server words it after ``<kind> "<name>" is invalid: ``; None when all hold."""
    schema = rules_of(api_version, kind)
    node = _node(schema) if schema is not None else None
    if node is None:
        return None
    return next(_violations(node, obj, _NOT_SET if old is None else old, ""), None)
