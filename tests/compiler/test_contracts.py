"""The built-in catalog, user contract directories and input checks."""

from __future__ import annotations

from pathlib import Path

from compiler.contracts import load_catalog
from compiler.frontend import compile_files


def test_builtin_catalog_has_the_standard_actions() -> None:
    catalog, problems = load_catalog()
    assert problems == []
    scale = catalog.get("kubernetes/scale_deployment")
    assert scale is not None
    assert {(i.name, i.type, i.required) for i in scale.spec.inputs} == {
        ("deployment", "string", True), ("namespace", "string", False), ("replicas", "integer", True)}
    assert [(o.name, o.type) for o in scale.spec.outputs] == [("previousReplicas", "integer")]
    clone = catalog.get("git/clone")
    assert clone is not None
    assert clone.spec.resources.requests == {"cpu": "100m", "memory": "128Mi"}
    assert clone.spec.workspace == "required"
    assert clone.input("branch") is not None and clone.input("branch").default == "main"  # type: ignore[union-attr]
    pr = catalog.get("git/create-pr")
    assert pr is not None and [o.name for o in pr.spec.outputs] == ["prURL", "prNumber"]
    echo = catalog.get("kubernaut/echo")
    assert echo is not None and echo.spec.outputsFromInputs and echo.spec.additionalInputs
    for name in ("kubernetes/restart_pod", "git/modify-file", "git/commit"):
        assert catalog.get(name) is not None


def test_user_directory_adds_and_overrides_contracts(tmp_path: Path) -> None:
    (tmp_path / "custom.yaml").write_text(
        "apiVersion: kubernaut.ai/v1alpha1\nkind: ActionContract\nmetadata: {name: acme/notify}\n"
        "spec:\n  inputs: [{name: channel, type: string, required: true}]\n"
        "---\napiVersion: kubernaut.ai/v1alpha1\nkind: ActionContract\nmetadata: {name: git/clone}\n"
        "spec: {inputs: [{name: url, type: string, required: true}], workspace: required}\n")
    catalog, problems = load_catalog([tmp_path])
    assert problems == []
    assert catalog.get("acme/notify") is not None
    clone = catalog.get("git/clone")
    assert clone is not None and [i.name for i in clone.spec.inputs] == ["url"]


def test_invalid_contract_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: kubernaut.ai/v1alpha1\nkind: ActionContract\nmetadata: {name: x/y}\n"
        "spec:\n  inputs:\n    - {name: a, type: str}\n")
    _, problems = load_catalog([tmp_path])
    assert [p.code for p in problems] == ["KN045"]
    assert problems[0].span is not None and problems[0].span.line == 6


def test_missing_contract_directory_is_reported(tmp_path: Path) -> None:
    _, problems = load_catalog([tmp_path / "missing"])
    assert [p.code for p in problems] == ["KN045"]


def test_user_contract_checks_inputs(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "notify.yaml").write_text(
        "apiVersion: kubernaut.ai/v1alpha1\nkind: ActionContract\nmetadata: {name: acme/notify}\n"
        "spec:\n  inputs: [{name: channel, type: string, required: true}]\n")
    wf = tmp_path / "wf.yaml"
    wf.write_text(
        "apiVersion: workflowexecution.kubernaut.ai/v1alpha1\nkind: WorkflowExecution\nmetadata: {name: n}\n"
        "spec:\n  steps:\n    - name: a\n      actionType: acme/notify\n"
        "      image: r/n@sha256:" + "0" * 64 + "\n      inputs: {chanel: x}\n")
    without = compile_files([wf])
    assert without.ok and [d.code for d in without.diagnostics] == ["KN043"]
    with_dir = compile_files([wf], [contracts])
    assert sorted(d.code for d in with_dir.diagnostics) == ["KN040", "KN042"]
    typo = next(d for d in with_dir.diagnostics if d.code == "KN042")
    assert typo.hint == "did you mean 'channel'?"


SCALE_AFTER_CLONE = """\
apiVersion: workflowexecution.kubernaut.ai/v1alpha1
kind: WorkflowExecution
metadata: {name: typed}
spec:
  steps:
    - name: first
      actionType: kubernetes/scale_deployment
      image: r/s@sha256:%(d)s
      inputs: {deployment: d, replicas: 2}
    - name: clone
      actionType: git/clone
      image: r/c@sha256:%(d)s
      usesWorkspace: true
      inputs: {repository: r}
    - name: second
      actionType: kubernetes/scale_deployment
      image: r/s@sha256:%(d)s
      inputs: {deployment: d, replicas: %(replicas)s}
"""


def test_typed_reference_counts_as_its_output_type(compile_text) -> None:  # type: ignore[no-untyped-def]
    def codes(replicas: str) -> list[str]:
        result = compile_text(SCALE_AFTER_CLONE % {"d": "a" * 64, "replicas": replicas})
        return [d.code for d in result.diagnostics]

    assert codes('"$(steps.first.outputs.previousReplicas)"') == []
    assert codes('"$(steps.clone.outputs.commitSHA)"') == ["KN041"]
    assert codes('"x$(steps.first.outputs.previousReplicas)"') == ["KN041"]


def test_echo_outputs_are_its_inputs(compile_text) -> None:  # type: ignore[no-untyped-def]
    text = (SCALE_AFTER_CLONE % {"d": "a" * 64, "replicas": '"$(steps.clone.outputs.commitSHA)"'})
    text = text.replace("actionType: git/clone", "actionType: kubernaut/echo").replace(
        "inputs: {repository: r}", "inputs: {commitSHA: 3}")
    assert [d.code for d in compile_text(text).diagnostics] == []
    missing = text.replace("inputs: {commitSHA: 3}", "inputs: {other: 3}")
    assert [d.code for d in compile_text(missing).diagnostics] == ["KN033"]


def test_workspace_required_by_contract(compile_text) -> None:  # type: ignore[no-untyped-def]
    text = SCALE_AFTER_CLONE % {"d": "a" * 64, "replicas": "1"}
    result = compile_text(text.replace("      usesWorkspace: true\n", ""))
    assert [d.code for d in result.diagnostics] == ["KN044"]
    assert not result.ok


def test_contract_defaults_are_applied_in_the_ir(compile_text) -> None:  # type: ignore[no-untyped-def]
    result = compile_text(SCALE_AFTER_CLONE % {"d": "a" * 64, "replicas": "1"})
    clone = result.workflows[0].step("clone")
    assert clone.inputs == {"repository": "r", "branch": "main", "destination": "/workspace"}


def test_quoted_number_for_integer_input_is_an_error(compile_text) -> None:  # type: ignore[no-untyped-def]
    result = compile_text(SCALE_AFTER_CLONE % {"d": "a" * 64, "replicas": "'1'"})
    assert [d.code for d in result.diagnostics] == ["KN041"]
