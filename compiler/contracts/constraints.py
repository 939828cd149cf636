"""Input checks against an action contract: one pure function for compile time and run time.

:func:`check_inputs` is what every component that delivers inputs to an action calls: the
compiler for literal inputs (``compiler.rules.constraints``, KN048), the V1 ActionExecution
controller and the V2 ``resolve-inputs`` helper for the resolved values, before the action's
container starts (a failed check fails the step with reason ``InvalidInputs``). Other run-time
checks (e.g. against an image's *signed* contract) call the same function, so every component
refuses the same values with the same words.

The constraints mean what they mean in JSON Schema: ``enum`` (the value equals one listed),
``pattern`` (a regular expression the string contains a match of; Python ``re`` syntax, which
agrees with ECMA-262 on the usual subset), ``minimum``/``maximum`` (inclusive), ``minLength``/
``maxLength`` (in characters). Constraints that do not apply to a value's type are ignored, like
JSON Schema does; the type itself is checked first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from compiler import ir
from compiler.contracts.model import ActionContract, ContractInput

#: A contract as the compiler reads it, or as the IR records it for the targets and controllers.
AnyContract = ActionContract | ir.ContractInfo
Declared = ContractInput | ir.InputDecl

__all__ = ["AnyContract", "InputProblem", "check_inputs", "check_value", "declared_only", "json_type",
           "problems_message", "type_matches"]


@dataclass(frozen=True)
class InputProblem:
    """One reason the inputs are refused. ``kind``: ``undeclared``, ``missing``, ``type`` or
    ``constraint``; ``message`` names the input and never contains its value when the input is
    undeclared (an undeclared input may be a credential an LLM chose to pass)."""

    input: str
    kind: str
    message: str


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def type_matches(expected: str, actual: str) -> bool:
    return actual == expected or (expected == "number" and actual == "integer")


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "..."


def check_value(declared: Declared, value: Any) -> list[str]:
    """Why ``value`` breaks the constraints of ``declared`` (empty: it satisfies them). The type
    is not checked here (see :func:`check_inputs`)."""
    problems: list[str] = []
    name = declared.name
    if declared.enum is not None and value not in declared.enum:
        allowed = ", ".join(_show(v) for v in declared.enum)
        problems.append(f"input '{name}' must be one of {allowed}, not {_show(value)}")
    if isinstance(value, str):
        if declared.pattern is not None:
            regex = _regex(declared.pattern)
            if regex is None or regex.search(value) is None:
                problems.append(f"input '{name}' = {_show(value)} does not match the pattern '{declared.pattern}'")
        if declared.minLength is not None and len(value) < declared.minLength:
            problems.append(f"input '{name}' is {len(value)} characters long, shorter than minLength "
                            f"{declared.minLength}")
        if declared.maxLength is not None and len(value) > declared.maxLength:
            problems.append(f"input '{name}' is {len(value)} characters long, longer than maxLength "
                            f"{declared.maxLength}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if declared.minimum is not None and value < declared.minimum:
            problems.append(f"input '{name}' = {value} is below the minimum {declared.minimum}")
        if declared.maximum is not None and value > declared.maximum:
            problems.append(f"input '{name}' = {value} is above the maximum {declared.maximum}")
    return problems


def _declarations(contract: AnyContract) -> tuple[str, Sequence[Declared] | None, bool]:
    """(action type, declared inputs or None when unknown, whether any input is accepted)."""
    if isinstance(contract, ActionContract):
        return contract.action_type, contract.spec.inputs, contract.spec.additionalInputs
    return contract.action_type, contract.inputs, contract.additional_inputs


def check_inputs(contract: AnyContract, values: Mapping[str, Any]) -> list[InputProblem]:
    """Every reason the resolved ``values`` may not be delivered to an action of ``contract``:
    inputs it does not declare (unless it takes any), required inputs missing, values of the
    wrong JSON type and values breaking a constraint. In declaration order, undeclared last."""
    action_type, inputs, additional = _declarations(contract)
    if inputs is None:
        return []  # nothing recorded to check against
    problems: list[InputProblem] = []
    for declared in inputs:
        if declared.name not in values:
            if declared.required:
                problems.append(InputProblem(declared.name, "missing", f"required input '{declared.name}' "
                                             f"({declared.type}) is missing"))
            continue
        value = values[declared.name]
        actual = json_type(value)
        if not type_matches(declared.type, actual):
            problems.append(InputProblem(declared.name, "type", f"input '{declared.name}' must be "
                                         f"{declared.type}, not {actual}"))
            continue
        problems.extend(InputProblem(declared.name, "constraint", m) for m in check_value(declared, value))
    if not additional:
        declared_names = {d.name for d in inputs}
        for name in values:
            if name not in declared_names:
                problems.append(InputProblem(name, "undeclared", f"input '{name}' is not declared by the "
                                             f"contract of '{action_type}'"))
    return problems


def declared_only(contract: AnyContract, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without the inputs ``contract`` does not declare (all of them when it takes any,
    or when its inputs are not recorded): what may reach the container even if a caller skipped
    :func:`check_inputs`."""
    _, inputs, additional = _declarations(contract)
    if additional or inputs is None:
        return dict(values)
    declared_names = {d.name for d in inputs}
    return {k: v for k, v in values.items() if k in declared_names}


def problems_message(step: str, action_type: str, problems: Sequence[InputProblem]) -> str:
    """The one message both engines give a step whose resolved inputs are refused."""
    return f"the inputs of step '{step}' break the contract of '{action_type}': " + "; ".join(
        p.message for p in problems)
