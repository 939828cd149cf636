"""Issue 15, item 7 leftovers: what reaches the API server as written is checked with Kubernetes'
own syntax (namespace, labels, ServiceAccount and StorageClass names), and an actionType cannot
smuggle a ``$(`` into a Tekton parameter: each a located ``file:line:col: error[KN0xx]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from compiler.rules import metadata
from compiler.values import action_type_problem, label_key_problem, label_value_problem
from kubernaut.cli import app

from .conftest import IMAGE

HEAD = "apiVersion: workflowexecution.kubernaut.ai/v1alpha1\nkind: WorkflowExecution\n"


def document(*, metadata: str = "", spec: str = "", action: str = "kubernaut/echo") -> str:
    return (f"{HEAD}metadata:\n  name: wf\n{metadata}spec:\n{spec}  steps:\n"
            f"    - name: a\n      actionType: {action}\n      image: {IMAGE}\n")


def errors(compile_text: Any, text: str) -> list[tuple[str, int, int, str]]:
    result = compile_text(text)
    return [(d.code, d.span.line, d.span.col, d.message) for d in result.diagnostics
            if d.severity.name == "ERROR" and d.span is not None]


@pytest.mark.parametrize(("metadata", "code", "line", "col", "words"), [
    ("  namespace: Prod\n", "KN010", 5, 14, "invalid namespace"),
    ("  namespace: prod.eu\n", "KN010", 5, 14, "not a DNS-1123 label"),
    ("  namespace: " + "n" * 64 + "\n", "KN010", 5, 14, "64 characters"),
    ("  labels:\n    team: sre ops\n", "KN018", 6, 11, "label value 'sre ops'"),
    ("  labels:\n    team: " + "v" * 64 + "\n", "KN018", 6, 11, "64 characters"),
    ("  labels:\n    Bad Key: x\n", "KN018", 6, 5, "label key 'Bad Key'"),
    ("  labels:\n    Example.COM/team: x\n", "KN018", 6, 5, "prefix"),
    ("  labels:\n    /team: x\n", "KN018", 6, 5, "prefix"),
    ("  labels:\n    team-: x\n", "KN018", 6, 5, "label key 'team-'"),
], ids=["upper-case-namespace", "dotted-namespace", "long-namespace", "value-with-space", "long-value",
        "key-with-space", "upper-case-prefix", "empty-prefix", "key-ending-in-dash"])
def test_metadata_is_checked_where_it_is_written(compile_text: Any, metadata: str, code: str, line: int,
                                                  col: int, words: str) -> None:
    [(found, at_line, at_col, message)] = errors(compile_text, document(metadata=metadata))
    assert (found, at_line, at_col) == (code, line, col)
    assert words in message


def test_valid_metadata_passes(compile_text: Any) -> None:
    metadata = ("  namespace: prod-eu\n  labels:\n    app.kubernetes.io/part-of: payments\n"
                "    team: sre_ops.1\n    empty: ''\n")
    spec = "  serviceAccountName: remediation.bot\n  workspace:\n    storageClassName: fast-ssd\n"
    assert errors(compile_text, document(metadata=metadata, spec=spec)) == []


@pytest.mark.parametrize(("spec", "line", "col", "kind"), [
    ("  serviceAccountName: Remediation_Bot\n", 6, 23, "ServiceAccount"),
    ("  serviceAccountName: bot..x\n", 6, 23, "ServiceAccount"),
    ("  workspace:\n    storageClassName: Fast SSD\n", 7, 23, "StorageClass"),
], ids=["account-upper-case", "account-empty-label", "storage-class-space"])
def test_object_names_are_dns_subdomains(compile_text: Any, spec: str, line: int, col: int, kind: str) -> None:
    [(code, at_line, at_col, message)] = errors(compile_text, document(spec=spec))
    assert (code, at_line, at_col) == ("KN019", line, col)
    assert message.startswith(f"invalid {kind} name")


@pytest.mark.parametrize("action", ["'x/$(params.other)'", "'kubernetes/scale deployment'", "'git//clone'",
                                    "'/git/clone'", "'git/clone/'", "'git/-clone'", "''", "'ünïcode/x'"])
def test_action_types_outside_the_strict_syntax_are_refused(compile_text: Any, action: str) -> None:
    found = errors(compile_text, document(action=action))
    assert ("KN008", 8, 19) in [(code, line, col) for code, line, col, _ in found]


@pytest.mark.parametrize("action", ["kubernetes/scale_deployment", "git/create-pr", "ScaleReplicas",
                                    "vendor.io/team/action-1.2"])
def test_action_types_of_the_catalog_and_upstream_forms_pass(action: str) -> None:
    assert action_type_problem(action) is None


def test_a_dollar_paren_in_an_action_type_never_reaches_a_tekton_param(tmp_path: Path) -> None:
    # It used to compile, and Tekton would substitute `$(...)` in the param: a different DAG.
    file = tmp_path / "wf.yaml"
    file.write_text(document(action="'kubernaut/echo$(tasks.a.results.outputs)'"), encoding="utf-8")
    for target in ("jobs", "tekton"):
        result = CliRunner().invoke(app, ["compile", str(file), "--target", target])
        assert result.exit_code == 1, result.output
        assert f"{file}:8:19: error[KN008]" in result.output
        assert "kind: Pipeline" not in result.output


def test_label_syntax_helpers_follow_kubernetes() -> None:
    assert label_key_problem("kubernaut.ai/workflow") is None
    assert label_key_problem("a" * 63) is None
    assert label_key_problem("x/" + "a" * 64) is not None
    assert label_key_problem("a" * 254 + "/b") is not None
    assert label_value_problem("") is None
    assert label_value_problem("A.b_c-D") is None
    assert label_value_problem("-a") is not None


def test_a_workflow_cannot_run_under_a_kubernaut_action_account(compile_text: Any) -> None:
    [(code, line, col, message)] = errors(compile_text, document(
        spec="  serviceAccountName: kubernaut-kubernetes-scale-deployment-89c6838ba4c9\n"))
    assert (code, line, col) == ("KN019", 6, 23)
    assert "is reserved" in message


def test_look_alike_action_types_compile_to_distinct_accounts(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    for i, name in enumerate(("acme/scale_it", "acme.scale-it")):
        (contracts / f"{i}.yaml").write_text(
            f"apiVersion: kubernaut.ai/v1alpha1\nkind: ActionContract\nmetadata: {{name: {name}}}\n"
            "spec:\n  permissions:\n    - {apiGroups: [apps], resources: [deployments], verbs: [get]}\n",
            encoding="utf-8")
    file = tmp_path / "wf.yaml"
    file.write_text(f"{HEAD}metadata:\n  name: wf\nspec:\n  steps:\n"
                    f"    - {{name: a, actionType: acme/scale_it, image: '{IMAGE}'}}\n"
                    f"    - {{name: b, actionType: acme.scale-it, image: '{IMAGE}'}}\n", encoding="utf-8")
    for target in ("jobs", "tekton"):
        result = CliRunner().invoke(app, ["compile", str(file), "--target", target, "--contracts", str(contracts)])
        assert result.exit_code == 0, result.output
        roles = [d["metadata"]["name"] for d in yaml.safe_load_all(result.stdout) if d and d["kind"] == "Role"]
        assert len(roles) == 2 and len(set(roles)) == 2, roles


def test_colliding_derived_names_are_a_located_error(compile_text: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only a digest collision can make two action types share an account; simulate one.
    monkeypatch.setattr(metadata, "action_account_digest", lambda action_type, image: "000000000000")
    monkeypatch.setattr(metadata, "action_type_digest", lambda action_type: "00000000")
    text = document().replace("    - name: a\n", "    - name: z\n      actionType: kubernaut.echo\n"
                              f"      image: {IMAGE}\n    - name: a\n")
    found = [(code, line, col) for code, line, col, _ in errors(compile_text, text)]
    assert ("KN009", 11, 19) in found
    [message] = [m for code, _, _, m in errors(compile_text, text) if code == "KN009"]
    assert "'kubernaut/echo' of step 'a' gets the same account name as 'kubernaut.echo' of step 'z'" in message
