"""Input constraints: the pure checker both the compiler and the controllers call, literal inputs
checked at compile time (KN048), undeclared inputs as errors (KN042), and every independent
error of a document reported in one run."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.contracts import load_catalog
from compiler.contracts.constraints import check_inputs, declared_only
from compiler.frontend import compile_source

ENV_CONTRACTS = Path(__file__).resolve().parents[1] / "interfaces" / "contracts"


@pytest.fixture(scope="module")
def env_catalog():  # type: ignore[no-untyped-def]
    catalog, problems = load_catalog([ENV_CONTRACTS])
    assert [d for d in problems if d.is_error] == []
    return catalog


def _wf(inputs: str, extra: str = "") -> str:
    return ("apiVersion: workflowexecution.kubernaut.ai/v1alpha1\nkind: WorkflowExecution\n"
            "metadata: {name: wf}\nspec:\n  steps:\n    - name: patch\n      actionType: acme/patch-config\n"
            f"      inputs: {inputs}\n{extra}")


def test_check_inputs_names_every_problem(env_catalog) -> None:  # type: ignore[no-untyped-def]
    contract = env_catalog.get("acme/patch-config")
    problems = check_inputs(contract, {"TARGET_NAME": "Web_1", "MODE": "upsert", "REPLICAS": 11, "RATIO": 0.05,
                                       "DRY_RUN": "yes", "GIT_PASSWORD": "hunter2"})
    kinds = [(p.input, p.kind) for p in problems]
    assert kinds == [("TARGET_NAME", "constraint"), ("MODE", "constraint"), ("REPLICAS", "constraint"),
                     ("RATIO", "constraint"), ("DRY_RUN", "type"), ("GIT_PASSWORD", "undeclared")]
    assert "hunter2" not in " ".join(p.message for p in problems)  # an undeclared value is never echoed
    assert check_inputs(contract, {"TARGET_NAME": "web-1", "MODE": "replace", "REPLICAS": 10, "RATIO": 1}) == []
    assert [p.kind for p in check_inputs(contract, {})] == ["missing"]
    assert check_inputs(contract, {"TARGET_NAME": "x" * 64})[0].message.endswith("longer than maxLength 63")


def test_declared_only_drops_what_the_contract_does_not_declare(env_catalog) -> None:  # type: ignore[no-untyped-def]
    contract = env_catalog.get("acme/patch-config")
    assert declared_only(contract, {"TARGET_NAME": "a", "GIT_PASSWORD": "x"}) == {"TARGET_NAME": "a"}


def test_literal_inputs_are_checked_at_compile_time(env_catalog) -> None:  # type: ignore[no-untyped-def]
    text = _wf("{TARGET_NAME: Web_1, MODE: upsert, REPLICAS: 11, RATIO: 0.05}")
    result = compile_source("wf.yaml", text.encode(), env_catalog)
    found = [(d.code, d.span.line, d.span.col) for d in result.diagnostics if d.span]  # type: ignore[union-attr]
    assert found == [("KN048", 8, 29), ("KN048", 8, 42), ("KN048", 8, 60), ("KN048", 8, 71)]
    messages = [d.message for d in result.diagnostics]
    assert any("does not match the pattern '^[a-z0-9-]+$'" in m for m in messages)
    assert any("must be one of 'merge', 'replace', not 'upsert'" in m for m in messages)
    assert not result.ok


def test_values_from_references_wait_for_run_time(env_catalog) -> None:  # type: ignore[no-untyped-def]
    text = _wf("{TARGET_NAME: 'x-$(workflow.name)', MODE: merge}")
    result = compile_source("wf.yaml", text.encode(), env_catalog)
    assert [d.code for d in result.diagnostics if d.is_error] == []


def test_undeclared_input_is_an_error(env_catalog) -> None:  # type: ignore[no-untyped-def]
    result = compile_source("wf.yaml", _wf("{TARGET_NAME: web, GIT_PASSWORD: hunter2}").encode(), env_catalog)
    [problem] = result.diagnostics
    assert (problem.code, problem.is_error) == ("KN042", True)
    assert not result.ok and result.workflows == []


def test_an_unknown_field_does_not_hide_other_errors(env_catalog) -> None:  # type: ignore[no-untyped-def]
    text = ("apiVersion: workflowexecution.kubernaut.ai/v1alpha1\nkind: WorkflowExecution\n"
            "metadata: {name: wf}\nspec:\n  steps:\n    - name: a\n      actionType: kubernaut/echo\n"
            "      image: ghcr.io/x/y:latest\n      usesWorkspce: true\n      retries: -1\n")
    result = compile_source("wf.yaml", text.encode(), env_catalog)
    assert [d.code for d in result.diagnostics] == ["KN015", "KN005", "KN014"]
    assert result.workflows == []


def test_a_wrongly_typed_optional_field_does_not_hide_other_errors(env_catalog) -> None:  # type: ignore[no-untyped-def]
    text = ("apiVersion: workflowexecution.kubernaut.ai/v1alpha1\nkind: WorkflowExecution\n"
            "metadata: {name: wf}\nspec:\n  steps:\n    - name: a\n      actionType: kubernaut/echo\n"
            "      image: ghcr.io/x/y:latest\n      usesWorkspace: maybe\n")
    result = compile_source("wf.yaml", text.encode(), env_catalog)
    assert [d.code for d in result.diagnostics] == ["KN015", "KN007"]


def test_invalid_pattern_in_a_contract_is_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: kubernaut.ai/v1alpha1\nkind: ActionContract\nmetadata: {name: acme/bad}\n"
        "spec:\n  interface: env\n  inputs: [{name: NAME, pattern: '(unclosed'}, {name: bad-name}]\n")
    _, problems = load_catalog([tmp_path])
    assert [d.code for d in problems] == ["KN045"]
