"""The verified image's own contract, checked against what a step is about to receive.

The compiler checks inputs against the catalog's contract when the workflow is compiled; step
output references only resolve at run time, and the catalog may not be what the image says. So
the controller checks again, just before the step runs, against the ``/action-contract.yaml`` of
the very image that was verified (defense in depth): the action type, required inputs, undeclared
inputs (unless the contract accepts any) and JSON types.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from compiler.contracts import ActionContract

__all__ = ["ContractProblem", "check_inputs", "deferred_inputs", "parse_contract"]


class ContractProblem(ValueError):
    """The image's contract is unreadable, or the step does not fit it."""


def _json_type(value: Any) -> str:
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


def parse_contract(raw: bytes) -> ActionContract:
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ContractProblem(f"the image's /action-contract.yaml is not YAML: {exc}") from exc
    try:
        return ActionContract.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "document"
        raise ContractProblem(f"the image's /action-contract.yaml is not a valid ActionContract: {where}: "
                              f"{first['msg']}") from exc


def deferred_inputs(inputs: Mapping[str, Any]) -> set[str]:
    """Inputs whose value holds a reference (known only when the step starts)."""
    return {name for name, value in inputs.items() if "$(" in json.dumps(value)}


def check_inputs(contract: ActionContract, action_type: str, inputs: Mapping[str, Any],
                 deferred: Collection[str] = ()) -> list[str]:
    """What is wrong with running ``action_type`` with ``inputs`` on an image with ``contract``
    (empty: nothing). ``null`` stands for "not given" as the compiler treats it; ``deferred``
    inputs are present but their values are not known yet (their types are not checked)."""
    problems: list[str] = []
    if contract.action_type != action_type:
        problems.append(f"the image implements '{contract.action_type}', not '{action_type}'")
    for declared in contract.spec.inputs:
        if declared.required and inputs.get(declared.name) is None and declared.name not in deferred:
            problems.append(f"required input '{declared.name}' ({declared.type}) is missing")
    for name in sorted(inputs):
        found = contract.input(name)
        if found is None:
            if not contract.spec.additionalInputs:
                problems.append(f"input '{name}' is not declared by the image's contract")
            continue
        if name in deferred:
            continue
        actual = _json_type(inputs[name])
        if actual != "null" and actual != found.type and not (found.type == "number" and actual == "integer"):
            problems.append(f"input '{name}' must be {found.type}, not {actual}")
    return problems
