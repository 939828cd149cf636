"""Upstream kubernaut ``RemediationWorkflow`` entries as contracts (vendored from
jordigilh/kubernaut-demo-scenarios, see tests/data/kubernaut-upstream/SOURCE.md)."""

from __future__ import annotations

from pathlib import Path

from compiler.contracts import load_catalog
from compiler.diagnostics import Severity
from compiler.frontend import compile_source

UPSTREAM = Path(__file__).resolve().parents[1] / "data" / "kubernaut-upstream"
SCALE_IMAGE = ("quay.io/kubernaut-cicd/test-workflows/scale-replicas-job@sha256:"
               "ec886736180027fe23aefa7f7037f0f8a1af7bf5a211d02226d037f1a19ea065")


def test_a_job_entry_becomes_an_env_contract() -> None:
    catalog, problems = load_catalog([UPSTREAM / "scale-replicas"])
    assert [d for d in problems if d.severity is not Severity.NOTE] == []
    contract = catalog.get("ScaleReplicas")
    assert contract is not None
    assert contract.spec.interface == "env"
    assert contract.spec.image == SCALE_IMAGE
    assert contract.spec.serviceAccountName == "scale-replicas-v1-runner"
    assert contract.metadata.version == "1.5.3"
    assert [(i.name, i.type, i.required) for i in contract.spec.inputs] == [
        ("TARGET_RESOURCE_NAMESPACE", "string", True), ("TARGET_RESOURCE_NAME", "string", True),
        ("TARGET_RESOURCE_KIND", "string", True), ("SCALE_REPLICAS", "string", False)]


def test_other_kinds_in_the_file_are_skipped_with_a_note() -> None:
    _, problems = load_catalog([UPSTREAM / "scale-replicas"])
    assert [(d.code, d.severity, d.message) for d in problems] == [
        ("KN082", Severity.NOTE, "skipped a ClusterRole (not an action contract)"),
        ("KN082", Severity.NOTE, "skipped a ServiceAccount (not an action contract)"),
        ("KN082", Severity.NOTE, "skipped a ClusterRoleBinding (not an action contract)")]


def test_secrets_dependencies_become_mounts() -> None:
    catalog, _ = load_catalog([UPSTREAM / "gitops-drift"])
    contract = catalog.get("GitRevertCommit")
    assert contract is not None and contract.spec.secrets == ["gitea-repo-creds"]


def test_ansible_entries_are_reported_as_unsupported() -> None:
    catalog, problems = load_catalog([UPSTREAM / "disk-pressure-emptydir"])
    [problem] = [d for d in problems if d.is_error]
    assert problem.code == "KN081"
    assert "runs an Ansible playbook (execution.engine: ansible)" in problem.message
    assert problem.span is not None and problem.span.line == 90  # the entry's execution.engine
    assert catalog.get("MigrateEmptyDirToPVC") is None


def test_tekton_bundle_entries_and_constraints(tmp_path: Path) -> None:
    (tmp_path / "entries.yaml").write_text(
        "apiVersion: kubernaut.ai/v1alpha1\nkind: RemediationWorkflow\nmetadata: {name: t}\n"
        "spec:\n  actionType: RestartPod\n  execution: {engine: tekton, bundle: quay.io/x/y:1}\n"
        "  parameters: [{name: A, type: string, required: true}]\n"
        "---\napiVersion: kubernaut.ai/v1alpha1\nkind: RemediationWorkflow\nmetadata: {name: j}\n"
        "spec:\n  actionType: Tune\n  execution: {engine: job, bundle: quay.io/x/y@sha256:" + "a" * 64 + "}\n"
        "  dependencies: {configMaps: [{name: tuning}]}\n"
        "  parameters:\n  - {name: LEVEL, type: string, required: true, enum: [low, high]}\n"
        "  - {name: FACTOR, type: float, minimum: 0.5, maximum: 2}\n"
        "  - {name: NAME, type: string, pattern: '^[a-z]+$', default: web}\n")
    catalog, problems = load_catalog([tmp_path])
    [problem] = problems
    assert problem.code == "KN081" and "a Tekton bundle (execution.engine: tekton)" in problem.message
    tune = catalog.get("Tune")
    assert tune is not None and tune.spec.configMaps == ["tuning"]
    level, factor, name = tune.spec.inputs
    assert level.enum == ["low", "high"] and factor.type == "number" and (factor.minimum, factor.maximum) == (0.5, 2)
    assert name.pattern == "^[a-z]+$" and name.default == "web"


def test_a_step_without_image_takes_the_entry_image() -> None:
    catalog, _ = load_catalog([UPSTREAM / "scale-replicas"])
    text = ("apiVersion: workflowexecution.kubernaut.ai/v1alpha1\nkind: WorkflowExecution\n"
            "metadata: {name: isolate, namespace: demo}\nspec:\n  steps:\n    - name: scale\n"
            "      actionType: ScaleReplicas\n      inputs:\n        TARGET_RESOURCE_NAMESPACE: demo\n"
            "        TARGET_RESOURCE_NAME: web\n        TARGET_RESOURCE_KIND: Deployment\n")
    result = compile_source("wf.yaml", text.encode(), catalog)
    assert result.diagnostics == []
    [wf] = result.workflows
    assert wf.steps[0].image == SCALE_IMAGE
    assert wf.contracts["ScaleReplicas"].interface == "env"


def test_a_step_without_image_and_without_contract_image_is_an_error() -> None:
    catalog, _ = load_catalog()
    text = ("apiVersion: workflowexecution.kubernaut.ai/v1alpha1\nkind: WorkflowExecution\n"
            "metadata: {name: wf}\nspec:\n  steps:\n    - name: a\n      actionType: kubernaut/echo\n")
    result = compile_source("wf.yaml", text.encode(), catalog)
    assert [d.code for d in result.diagnostics] == ["KN049"]


def test_other_kinds_in_a_workflow_file_are_skipped_with_a_note() -> None:
    catalog, _ = load_catalog([UPSTREAM / "scale-replicas"])
    text = (UPSTREAM / "scale-replicas" / "scale-replicas.yaml").read_text().split("---\napiVersion: kubernaut")[0]
    text += ("---\napiVersion: workflowexecution.kubernaut.ai/v1alpha1\nkind: WorkflowExecution\n"
             "metadata: {name: isolate}\nspec:\n  steps:\n    - name: scale\n      actionType: ScaleReplicas\n"
             "      inputs: {TARGET_RESOURCE_NAMESPACE: d, TARGET_RESOURCE_NAME: w,"
             " TARGET_RESOURCE_KIND: Deployment}\n")
    result = compile_source("wf.yaml", text.encode(), catalog)
    assert result.ok and [d.code for d in result.diagnostics] == ["KN082"] * 3
    assert [w.name for w in result.workflows] == ["isolate"]
