"""``when`` guards as Tekton ``when`` expressions.

Both engines compare texts (docs/architecture.md, "Guards"): the left side's text against the
texts of the literals, made by the same ``to_text`` the V1 resolver uses. Tekton only knows
``in`` and ``notin``, so ``==`` becomes ``in [v]`` and ``!=`` becomes ``notin [v]``.
"""

from __future__ import annotations

from typing import Any

from compiler import ir
from compiler.expressions import to_text
from targets.tekton.dataflow import StepFlow
from targets.tekton.interface import RESULT_GUARD_VALUES, WORKFLOW_PARAMS, indexed_result_ref, param_ref

OPERATORS = {"==": "in", "!=": "notin", "in": "in", "notin": "notin"}


def guard_input(guard: ir.Guard, flows: dict[str, StepFlow]) -> str:
    """The ``input`` of the when expression: a Tekton variable, ``/workspace`` or literal text."""
    ref = guard.left_ref
    if ref is None:
        return to_text(guard.left_literal)
    if ref.kind == "step":
        assert ref.step is not None, "step references name their step"
        index = flows[ref.step].guard_keys.index(ref.key)
        return indexed_result_ref(ref.step, RESULT_GUARD_VALUES, index)
    if ref.kind == "workflow":
        return param_ref(WORKFLOW_PARAMS[ref.key])
    # $(workspace.path) is a constant on both engines.
    return ir.WORKSPACE_PATH


def guard_literal_texts(guard: ir.Guard) -> list[str]:
    return [to_text(value) for value in guard.values]


def when_expression(guard: ir.Guard, flows: dict[str, StepFlow]) -> dict[str, Any]:
    return {"input": guard_input(guard, flows), "operator": OPERATORS[guard.op],
            "values": guard_literal_texts(guard)}
