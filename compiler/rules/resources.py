"""A step's ``resources`` override: valid quantities, within what its action contract allows.

The contract's ``resources.maximum`` bounds each resource a step may request or limit; a resource
without a maximum may not go above the contract's own limit for it (an action's author knows what
it needs; a workflow may give it more only where the author said it may). Every violation is a
located KN046 naming the bound.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

from compiler.diagnostics import Diagnostic, error
from compiler.rules.context import RuleContext
from compiler.values import quantity_problem

__all__ = ["quantity_value", "step_resources_within_contract"]

_SUFFIX = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"m": Decimal("0.001"), "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9),
            "T": Decimal(10**12), "P": Decimal(10**15), "E": Decimal(10**18)}


def quantity_value(text: str) -> Decimal | None:
    """A Kubernetes quantity as a number (``500m`` -> 0.5, ``1Gi`` -> 1073741824); None if invalid."""
    match = _SUFFIX.match(text.strip())
    if match is None:
        return None
    number, suffix = Decimal(match.group(1)), match.group(2) or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    if suffix:
        return number * Decimal(10) ** int(suffix[1:])
    return number


def step_resources_within_contract(ctx: RuleContext) -> Iterator[Diagnostic]:
    for i, step in enumerate(ctx.steps):
        if step.resources is None:
            continue
        contract = ctx.contract(step)
        declared = contract.spec.resources if contract is not None else None
        for kind, values in (("requests", step.resources.requests), ("limits", step.resources.limits)):
            for name, text in values.items():
                path = ctx.step_path(i, "resources", kind, name)
                problem = quantity_problem(text)
                if problem:
                    yield error("KN016", problem, ctx.doc.span(path))
                    continue
                if declared is None:
                    continue  # no contract: KN043 already says nothing is checked
                bound = declared.maximum.get(name) or declared.limits.get(name)
                source = "maximum" if name in declared.maximum else "limit"
                if bound is None:
                    continue
                value, most = quantity_value(text), quantity_value(bound)
                if value is not None and most is not None and value > most:
                    yield error("KN046", f"step '{step.name}' asks for {kind}.{name} {text}, more than the "
                                f"{bound} the contract of '{step.actionType}' allows", ctx.doc.span(path),
                                f"at most {bound} (the contract's resources.{source}.{name})")
