"""Tekton's variable substitution, as the controllers apply it.

Tekton replaces ``$(key)`` for every key it knows, in one pass (``substitution.ApplyReplacements``
uses a ``strings.Replacer``, so a replaced value is never substituted again) and leaves anything
it does not know untouched. Passes happen in a fixed order, which matters: the PipelineRun
controller applies params, then context variables (so a param whose value is
``$(context.pipelineRun.uid)`` — kubernaut's ``workflowUid`` — resolves), then task results just
before a TaskRun is created; the TaskRun controller applies the Task's params, context, results
paths and workspaces to the steps.

Arrays: an array element that is exactly ``$(params.x[*])`` or ``$(tasks.t.results.r[*])`` is
spliced in as whole elements; ``[i]`` picks one element.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...cluster import JsonObject

__all__ = [
    "ParamError",
    "Replacements",
    "ResultRef",
    "apply_to_param_values",
    "apply_to_when",
    "param_values",
    "result_refs",
    "substitute",
    "substitute_list",
    "task_replacements",
    "task_texts",
]

# The text between "$(" and ")": Tekton variables never contain parentheses.
_VARIABLE = re.compile(r"\$\(([^()]*)\)")
# params["x"] and params['x'], optionally indexed: other spellings of params.x.
_BRACKETED_PARAM = re.compile(r"""params\[(["'])(.+?)\1\](\[(?:\*|\d+)\])?""")
# tasks.<task>.results.<result> with an optional [index] or [*] (dot notation, as kubernaut emits).
_RESULT_REF = re.compile(r"^tasks\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.results\.([A-Za-z0-9_.-]+?)(\[(\*|\d+)\])?$")


class ParamError(ValueError):
    """A param that Tekton would refuse (a required param without a value, a type mismatch)."""


@dataclass
class Replacements:
    """Known variables: ``strings`` by key (``params.x``), ``arrays`` by key without ``[*]``."""

    strings: dict[str, str] = field(default_factory=dict)
    arrays: dict[str, list[str]] = field(default_factory=dict)

    def value(self, key: str) -> str | None:
        if key in self.strings:
            return self.strings[key]
        base, index = _split_index(key)
        if index is not None and index != "*" and base in self.arrays:
            items = self.arrays[base]
            position = int(index)
            return items[position] if position < len(items) else None
        return None

    def merged(self, other: Replacements) -> Replacements:
        return Replacements({**self.strings, **other.strings}, {**self.arrays, **other.arrays})


def _split_index(key: str) -> tuple[str, str | None]:
    if key.endswith("]") and "[" in key:
        base, _, rest = key.rpartition("[")
        return base, rest[:-1]
    return key, None


def _lookup(repl: Replacements, expression: str) -> str | None:
    # A plain key (``params.x``, ``results.r.path``: what the meta-Task writes) is found as it
    # is; only other spellings (``params["x"]``, an index) need their canonical form.
    found = repl.strings.get(expression)
    if found is not None:
        return found
    for key in _canonical(expression):
        value = repl.value(key)
        if value is not None:
            return value
    return None


def _canonical(expression: str) -> Iterable[str]:
    match = _BRACKETED_PARAM.fullmatch(expression)
    if match:
        yield f"params.{match.group(2)}{match.group(3) or ''}"
    yield expression


def substitute(text: str, repl: Replacements) -> str:
    """Replace every known ``$(key)`` in ``text`` (one pass); unknown variables stay as written."""

    if "$(" not in text:
        return text  # no variable (most values): no regular expression to run
    if text.startswith("$(") and text.endswith(")") and text.count("(") == 1 and text.count(")") == 1:
        # Exactly one variable (every env value of the meta-Task): no regular expression either.
        value = _lookup(repl, text[2:-1])
        return text if value is None else value

    def replace(match: re.Match[str]) -> str:
        value = _lookup(repl, match.group(1))
        return match.group(0) if value is None else value

    return _VARIABLE.sub(replace, text)


def substitute_list(items: Sequence[str], repl: Replacements) -> list[str]:
    """Substitute an array of strings: an element that is exactly an array reference with
    ``[*]`` becomes the array's elements (Tekton's ``ApplyArrayReplacements``)."""
    out: list[str] = []
    for item in items:
        if "$(" not in item:
            out.append(item)  # no variable: nothing to splice or substitute
            continue
        match = _VARIABLE.fullmatch(item)
        if match is not None:
            base, index = _split_index(match.group(1))
            spliced = next((repl.arrays[k] for k in _canonical(base) if k in repl.arrays), None)
            if index == "*" and spliced is not None:
                out.extend(spliced)
                continue
        out.append(substitute(item, repl))
    return out


# -- params -------------------------------------------------------------------------------------


def param_values(declared: Sequence[Mapping[str, Any]], given: Sequence[Mapping[str, Any]],
                 *, prefix: str = "params") -> Replacements:
    """The values of the declared params: given values over defaults (Tekton's validation:
    a declared param without a value and without a default is an error)."""
    values = {str(p.get("name")): p.get("value") for p in given}
    repl = Replacements()
    missing = []
    for spec in declared:
        name = str(spec.get("name"))
        value = values.get(name, spec.get("default"))
        if value is None:
            missing.append(name)
            continue
        kind = spec.get("type") or ("array" if isinstance(value, list) else "string")
        # Only under ``params.x``: lookups turn ``params["x"]`` and ``params['x']`` into it.
        if kind == "array":
            if not isinstance(value, list):
                raise ParamError(f"param {name!r} is an array, but its value is a string")
            repl.arrays[f"{prefix}.{name}"] = [str(v) for v in value]
        else:
            if isinstance(value, list | dict):
                raise ParamError(f"param {name!r} is a string, but its value is not")
            repl.strings[f"{prefix}.{name}"] = str(value)
    if missing:
        raise ParamError(f"missing value(s) for param(s) without default: {', '.join(missing)}")
    return repl


def apply_to_param_values(params: Sequence[Mapping[str, Any]], repl: Replacements) -> list[JsonObject]:
    """``[{name, value}]`` with every value substituted (arrays stay arrays)."""
    out = []
    for param in params:
        value = param.get("value")
        if isinstance(value, list):
            value = substitute_list([str(v) for v in value], repl)
        elif isinstance(value, str):
            value = substitute(value, repl)
        out.append({**param, "value": value})
    return out


def apply_to_when(when: Sequence[Mapping[str, Any]], repl: Replacements) -> list[JsonObject]:
    """``when`` expressions with input and values substituted."""
    return [{**w, "input": substitute(str(w.get("input", "")), repl),
             "values": substitute_list([str(v) for v in w.get("values") or []], repl)} for w in when]


# -- result references ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultRef:
    """``$(tasks.<task>.results.<result>)``, optionally indexed (``index`` is "*" or digits)."""

    task: str
    result: str
    index: str | None = None

    @property
    def key(self) -> str:
        base = f"tasks.{self.task}.results.{self.result}"
        return base if self.index is None else f"{base}[{self.index}]"


def result_refs(texts: Iterable[str]) -> list[ResultRef]:
    """Every result reference in ``texts``, in order of appearance, without duplicates."""
    found: dict[ResultRef, None] = {}
    for text in texts:
        for match in _VARIABLE.finditer(text):
            ref = _RESULT_REF.match(match.group(1))
            if ref is not None:
                found[ResultRef(ref.group(1), ref.group(3), ref.group(5))] = None
    return list(found)


def task_texts(task: Mapping[str, Any]) -> list[str]:
    """Every string of a pipeline task where Tekton looks for result references (params, when)."""
    texts: list[str] = []
    for param in task.get("params") or []:
        value = param.get("value")
        texts.extend([str(v) for v in value] if isinstance(value, list) else [str(value)])
    for expression in task.get("when") or []:
        texts.append(str(expression.get("input", "")))
        texts.extend(str(v) for v in expression.get("values") or [])
    return texts


# -- the TaskRun controller's substitution -----------------------------------------------------

#: Where Tekton mounts the results directory in every step.
RESULTS_DIR = "/tekton/results"


def task_replacements(task_spec: Mapping[str, Any], taskrun: Mapping[str, Any], retry_count: int) -> Replacements:
    """Variables of a Task's steps in a TaskRun: params (defaults applied), context, result
    paths and workspaces (``applyParamsContextsResultsAndWorkspaces``). ParamError when a param
    has no value."""
    spec = taskrun.get("spec") or {}
    meta = taskrun.get("metadata") or {}
    repl = param_values(task_spec.get("params") or [], spec.get("params") or [])
    repl.strings.update({
        "context.taskRun.name": str(meta.get("name", "")),
        "context.taskRun.namespace": str(meta.get("namespace", "")),
        "context.taskRun.uid": str(meta.get("uid", "")),
        "context.task.name": str((spec.get("taskRef") or {}).get("name") or meta.get("name", "")),
        "context.task.retry-count": str(retry_count),
    })
    for result in task_spec.get("results") or []:
        name = str(result.get("name"))
        repl.strings[f"results.{name}.path"] = f"{RESULTS_DIR}/{name}"
    bindings = {b.get("name"): b for b in spec.get("workspaces") or []}
    for ws in task_spec.get("workspaces") or []:
        name = str(ws.get("name"))
        binding = bindings.get(name)
        claim = ((binding or {}).get("persistentVolumeClaim") or {}).get("claimName", "")
        mount = str(ws.get("mountPath") or f"/workspace/{name}")
        repl.strings.update({
            f"workspaces.{name}.path": mount if binding is not None else "",
            f"workspaces.{name}.bound": "true" if binding is not None else "false",
            f"workspaces.{name}.claim": str(claim),
        })
    return repl
