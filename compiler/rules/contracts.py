"""Inputs against action contracts: required inputs, JSON types, unknown inputs, workspace use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compiler.contracts import ActionContract
from compiler.contracts.constraints import json_type, type_matches
from compiler.diagnostics import Diagnostic, error, warning
from compiler.didyoumean import did_you_mean
from compiler.expressions import ExpressionError, parse_template
from compiler.rules.context import RuleContext
from compiler.spec import Step


def contract_known(ctx: RuleContext) -> Iterator[Diagnostic]:
    for i, step in enumerate(ctx.steps):
        if ctx.contract(step) is None:
            hint = did_you_mean(step.actionType, ctx.catalog.names())
            yield warning("KN043", f"no contract known for action type '{step.actionType}'; inputs are not checked",
                          ctx.doc.span(ctx.step_path(i, "actionType")),
                          hint or "add its ActionContract with --contracts DIR")


def _value_type(ctx: RuleContext, value: Any, depth: int = 0) -> str | None:
    """JSON type of an input value; a whole-string reference has its output's type (None: unknown)."""
    if not isinstance(value, str) or "$(" not in value:
        return json_type(value)
    try:
        template = parse_template(value)
    except ExpressionError:
        return None  # reported by the expression analysis
    ref = template.whole
    if ref is None or ref.kind != "step" or ref.step is None:
        return "string"  # interpolation, or workflow/workspace identity: always text
    producer_index = ctx.step_index.get(ref.step)
    if producer_index is None or depth > len(ctx.steps):  # unknown step, or a cycle (reported elsewhere)
        return None
    producer = ctx.steps[producer_index]
    contract = ctx.contract(producer)
    if contract is None:
        return None
    if contract.spec.outputsFromInputs:  # echo-style: the output is the producer's own input
        if ref.key not in producer.inputs:
            return None
        return _value_type(ctx, producer.inputs[ref.key], depth + 1)
    output = next((o for o in contract.spec.outputs if o.name == ref.key), None)
    return output.type if output else None


def inputs_match_contract(ctx: RuleContext) -> Iterator[Diagnostic]:
    for i, step in enumerate(ctx.steps):
        contract = ctx.contract(step)
        if contract is None:
            continue
        yield from _missing_inputs(ctx, i, step, contract)
        for name, value in step.inputs.items():
            path = ctx.step_path(i, "inputs", name)
            declared = contract.input(name)
            if declared is None:
                if not contract.spec.additionalInputs:
                    # An error: the controller never delivers an undeclared input (it may be a
                    # credential someone chose to pass), so the step could not run as written.
                    allowed = [d.name for d in contract.spec.inputs]
                    yield error("KN042", f"input '{name}' is not declared by the contract of "
                                f"'{step.actionType}'", ctx.doc.key_span(path),
                                did_you_mean(name, allowed) or f"declared inputs: {', '.join(allowed) or 'none'}")
                continue
            actual = _value_type(ctx, value)
            if actual is not None and not type_matches(declared.type, actual):
                yield error("KN041", f"input '{name}' of '{step.actionType}' must be {declared.type}, "
                            f"not {actual}", ctx.doc.span(path),
                            "quote the value to pass a string" if declared.type == "string" else None)


def _missing_inputs(ctx: RuleContext, i: int, step: Step, contract: ActionContract) -> Iterator[Diagnostic]:
    for declared in contract.spec.inputs:
        if declared.required and declared.name not in step.inputs:
            has_inputs = "inputs" in ctx.doc.data["spec"]["steps"][i]
            where = ctx.step_path(i, "inputs") if has_inputs else ctx.step_path(i, "name")
            yield error("KN040", f"step '{step.name}' is missing required input '{declared.name}' "
                        f"({declared.type}) of '{step.actionType}'", ctx.doc.key_span(where),
                        f"add '{declared.name}:' under inputs")


def workspace_matches_contract(ctx: RuleContext) -> Iterator[Diagnostic]:
    for i, step in enumerate(ctx.steps):
        contract = ctx.contract(step)
        if contract is None:
            continue
        if contract.spec.workspace == "required" and not step.usesWorkspace:
            yield error("KN044", f"'{step.actionType}' needs the workspace but step '{step.name}' does not use it",
                        ctx.doc.span(ctx.step_path(i, "name")), "set 'usesWorkspace: true' on the step")
        if contract.spec.workspace == "none" and step.usesWorkspace:
            yield warning("KN044", f"'{step.actionType}' does not use a workspace; mounting it is unnecessary",
                          ctx.doc.span(ctx.step_path(i, "usesWorkspace")))
