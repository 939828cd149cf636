"""``check_workflow``: what the tekton target cannot express is a diagnostic, never a silent drop."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from compiler import ir
from compiler.diagnostics import Span
from targets.tekton import NotExpressibleError, check_workflow, compile_workflow

ECHO = "ghcr.io/kubernaut/actions/echo@sha256:092c79e8f80e559e404bcf660c48f3522b67aba9ff1484b0367e1a4ddef7431d"


def _step(name: str, **fields: object) -> ir.Step:
    return ir.Step(name=name, action_type=str(fields.pop("action_type", "kubernaut/echo")), image=ECHO,
                   inputs=fields.pop("inputs", {}), **fields)  # type: ignore[arg-type]


def _codes(wf: ir.Workflow) -> list[str]:
    return [d.code for d in check_workflow(wf)]


def test_the_corpus_is_expressible(corpus_workflow: ir.Workflow) -> None:
    assert check_workflow(corpus_workflow) == []


def test_a_guard_literal_with_dollar_paren_is_kn070(lower: Callable[..., ir.Workflow]) -> None:
    wf = lower(f"""
    - name: a
      actionType: kubernaut/echo
      image: {ECHO}
      inputs: {{x: 1}}
    - name: b
      actionType: kubernaut/echo
      image: {ECHO}
      when: ["$(steps.a.outputs.x) != '$$(date)'"]
      inputs: {{y: 2}}
    """)
    (problem,) = check_workflow(wf)
    assert problem.code == "KN070" and problem.is_error
    assert "step 'b'" in problem.message and "$(" in problem.message
    assert problem.span == Span("test.yaml", 1, 1)
    assert problem.hint and "engine: jobs" in problem.hint
    with pytest.raises(NotExpressibleError) as raised:
        compile_workflow(wf)
    assert raised.value.diagnostics == [problem]


def test_a_writable_root_file_system_is_kn070() -> None:
    contract = ir.ContractInfo(action_type="kubernaut/echo", read_only_root_filesystem=False)
    wf = ir.Workflow(name="w", steps=(_step("s"),), contracts={"kubernaut/echo": contract})
    assert _codes(wf) == ["KN070"]
    assert "read-only" in check_workflow(wf)[0].message


def test_inputs_larger_than_one_env_var_are_kn071() -> None:
    wf = ir.Workflow(name="w", steps=(_step("big", inputs={"blob": "x" * 131_100}),))
    (problem,) = check_workflow(wf)
    assert problem.code == "KN071" and "step 'big'" in problem.message
    # `$` costs six bytes in the param: the limit is on the encoded size.
    assert _codes(ir.Workflow(name="w", steps=(_step("s", inputs={"d": "$" * 22_000}),))) == ["KN071"]
    assert _codes(ir.Workflow(name="w", steps=(_step("s", inputs={"d": "x" * 100_000}),))) == []


def test_inputs_of_all_steps_above_one_mebibyte_are_kn071() -> None:
    steps = tuple(_step(f"s{i}", inputs={"blob": "x" * 120_000}) for i in range(10))
    (problem,) = check_workflow(ir.Workflow(name="w", steps=steps))
    assert problem.code == "KN071" and "all steps" in problem.message


def test_guard_keys_beyond_the_result_budget_are_kn071() -> None:
    keys = [f"k{i:03d}_" + "x" * 40 for i in range(100)]
    guards = tuple(ir.Guard(source=f"$(steps.p.outputs.{k}) == 'y'", left_ref=ir.Ref(kind="step", step="p", key=k),
                            op="==", values=("y",)) for k in keys)
    wf = ir.Workflow(name="w", steps=(_step("p"), _step("c", guards=guards, dependencies=("p",))))
    (problem,) = check_workflow(wf)
    assert problem.code == "KN071" and "step 'p'" in problem.message
    few = ir.Workflow(name="w", steps=(_step("p"), _step("c", guards=guards[:5], dependencies=("p",))))
    assert check_workflow(few) == []
