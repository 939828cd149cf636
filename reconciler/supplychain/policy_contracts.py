"""The verified image's own contract, checked against what a step is about to receive.

The compiler checks inputs against the catalog's contract when the workflow is compiled; step
output references only resolve at run time, and the catalog may not be what the image says. So
the controller checks again, just before the step runs, against the ``/action-contract.yaml`` of
the very image that was verified (defense in depth): the action type, required inputs, undeclared
inputs (unless the contract accepts any), JSON types and constraints — with the function every
other run-time check uses (``compiler.contracts.constraints.check_inputs``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from compiler.contracts import ActionContract, constraints

__all__ = ["ContractProblem", "check_inputs", "deferred_inputs", "parse_contract"]


class ContractProblem(ValueError):
    """The image's contract is unreadable, or the step does not fit it."""


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
    (empty: nothing), in the words of ``compiler.contracts.constraints`` — the check every other
    component that delivers inputs makes. ``deferred`` inputs are present but their values are not
    known yet (references resolved later): they count as given, their values are not checked."""
    problems: list[str] = []
    if contract.action_type != action_type:
        problems.append(f"the image implements '{contract.action_type}', not '{action_type}'")
    known = {name: value for name, value in inputs.items() if name not in deferred}
    for problem in constraints.check_inputs(contract, known):
        if problem.kind == "missing" and problem.input in deferred:
            continue
        problems.append(problem.message)
    if not contract.spec.additionalInputs:
        declared = {d.name for d in contract.spec.inputs}
        problems.extend(f"input '{name}' is not declared by the contract of '{contract.action_type}'"
                        for name in sorted(deferred) if name in inputs and name not in declared)
    return problems
