"""Literal inputs against their contract's constraints (KN048).

A value without any reference is known now, so its ``enum``, ``pattern``, ``minimum``,
``maximum``, ``minLength`` and ``maxLength`` are checked here, with the same function the
controllers use at run time for values that come from references
(``compiler.contracts.constraints.check_value``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compiler.contracts.constraints import check_value, json_type, type_matches
from compiler.diagnostics import Diagnostic, error
from compiler.expressions import iter_strings
from compiler.rules.context import RuleContext


def _has_reference(value: Any) -> bool:
    return any("$(" in text for _, text in iter_strings(value))


def input_constraints(ctx: RuleContext) -> Iterator[Diagnostic]:
    for i, step in enumerate(ctx.steps):
        contract = ctx.contract(step)
        if contract is None:
            continue
        for name, value in step.inputs.items():
            declared = contract.input(name)
            if declared is None or _has_reference(value) or not type_matches(declared.type, json_type(value)):
                continue  # undeclared (KN042), known at run time only, or the wrong type (KN041)
            for problem in check_value(declared, value):
                yield error("KN048", f"{problem} (contract of '{step.actionType}')",
                            ctx.doc.span(ctx.step_path(i, "inputs", name)), _hint(declared.enum, declared.pattern))


def _hint(enum: list[Any] | None, pattern: str | None) -> str | None:
    if enum is not None:
        return "allowed values: " + ", ".join(str(v) for v in enum)
    if pattern is not None:
        return f"the value must match {pattern}"
    return None
