"""Shape checks: apiVersion/kind, then the pydantic models, with every error located.

Pydantic reports error locations as paths of field names; the loader recorded the source
position of every path, so each validation error becomes a located diagnostic.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ValidationError

from compiler.diagnostics import Diagnostic, error
from compiler.didyoumean import did_you_mean
from compiler.source import Path, SourceDocument
from compiler.spec import API_GROUP, API_VERSION, KIND, WorkflowExecution

_TYPE_NAMES = {
    "string_type": "a string", "int_type": "an integer", "bool_type": "true or false",
    "dict_type": "a mapping", "list_type": "a list", "model_type": "a mapping",
    "int_from_float": "an integer", "float_type": "a number",
}


# Pydantic adds the union member name (e.g. 'str') to the path of union errors; they are dropped.
_UNION_MEMBERS = {"str", "int", "bool", "dict[str,any]", "literal['auto','jobs','tekton']"}


def other_kind(doc: SourceDocument) -> str | None:
    """The kind of a Kubernetes object of another kind (a ServiceAccount, a ClusterRole...) that a
    workflow file may carry next to its workflows: skipped with a note (KN082), not an error. A
    document that looks like a misspelt workflow (our API group, or our kind) is checked instead."""
    kind, api_version = doc.data.get("kind"), doc.data.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api_version, str):
        return None
    if kind == KIND or api_version.split("/")[0] == API_GROUP:
        return None
    return kind


def check_kind(doc: SourceDocument) -> list[Diagnostic]:
    data = doc.data
    found: list[Diagnostic] = []
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if api_version != API_VERSION:
        what = "missing" if api_version is None else f"'{api_version}'"
        found.append(error("KN004", f"apiVersion is {what}; expected '{API_VERSION}'",
                           doc.span(("apiVersion",)), f"write 'apiVersion: {API_VERSION}'"))
    if kind != KIND:
        what = "missing" if kind is None else f"'{kind}'"
        found.append(error("KN004", f"kind is {what}; expected '{KIND}'", doc.span(("kind",)),
                           f"write 'kind: {KIND}'"))
    return found


def _fields_at(model: type[BaseModel], path: Path) -> list[str]:
    """The field names allowed at ``path`` (for 'did you mean'), following nested models."""
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = _model_of(field.annotation)
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def describe_value(value: Any) -> str:
    """How a value reads in a message: "a string", "a number", "a list", ..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null" if value is None else type(value).__name__


#: How many times a document is re-validated without the fields that were wrong.
_PRUNE_ROUNDS = 4


def validate_model(doc: SourceDocument) -> tuple[WorkflowExecution | None, list[Diagnostic]]:
    """The model of the document, and the shape problems found in it.

    Shape problems must not hide the document's other problems (all independent errors in one
    run): when validation fails, the fields that were wrong (an unknown field, an optional field of
    the wrong type) are left out of a copy and the copy is validated again, so that the rules still
    check everything else. The model is then returned *with* the diagnostics, which are errors:
    nothing is compiled from it. When leaving fields out cannot help (a required field, a wrong list
    item) no model is returned.
    """
    try:
        return WorkflowExecution.model_validate(doc.data), []
    except ValidationError as exc:
        diagnostics = [_to_diagnostic(doc, problem) for problem in exc.errors()]
        first = exc
    data: Any = copy.deepcopy(doc.data)
    errors = first.errors()
    for _ in range(_PRUNE_ROUNDS):
        if not all(_prune(data, _model_path(problem)) for problem in errors):
            return None, diagnostics
        try:
            return WorkflowExecution.model_validate(data), diagnostics
        except ValidationError as exc:
            errors = exc.errors()
            if any(problem["type"] == "missing" for problem in errors):
                return None, diagnostics  # a required field was wrong: nothing sensible to check
    return None, diagnostics


def _model_path(problem: Any) -> Path:
    path: Path = tuple(p for p in problem["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    return tuple(p for p in path if p not in _UNION_MEMBERS)


def _prune(data: Any, path: Path) -> bool:
    """Remove the mapping key at ``path`` from ``data``; False when it is not a mapping key."""
    if not path or isinstance(path[-1], int):
        return False
    node = data
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    if not isinstance(node, dict) or path[-1] not in node:
        return False
    del node[path[-1]]
    return True


def _to_diagnostic(doc: SourceDocument, problem: Any) -> Diagnostic:
    path = _model_path(problem)
    dotted = ".".join(str(p) for p in path)
    kind = problem["type"]
    if kind == "extra_forbidden":
        field = str(path[-1])
        return error("KN005", f"unknown field '{field}' in {'.'.join(map(str, path[:-1])) or 'document'}",
                     doc.key_span(path), did_you_mean(field, _fields_at(WorkflowExecution, path[:-1]))
                     or f"allowed fields: {', '.join(_fields_at(WorkflowExecution, path[:-1]))}")
    if kind == "missing":
        parent = path[:-1]
        return error("KN006", f"missing required field '{dotted}'", doc.key_span(parent) if parent else doc.span(()),
                     f"add '{path[-1]}:'")
    if kind == "literal_error":
        expected = problem.get("ctx", {}).get("expected", "")
        return error("KN007", f"{dotted}: '{problem.get('input')}' is not allowed; expected {expected}",
                     doc.span(path))
    expected = _TYPE_NAMES.get(kind)
    if expected:
        return error("KN007", f"{dotted} must be {expected}, not {describe_value(problem.get('input'))}",
                     doc.span(path), "quote values that must stay strings" if expected == "a string" else None)
    return error("KN007", f"{dotted}: {problem['msg']}", doc.span(path))
