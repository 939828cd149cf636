"""``kubernaut parity`` through the CLI: the corpus is equivalent, planted drift is reported."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.golden_contracts import contract_args

from compiler.yamlout import dump_documents

ROOT = Path(__file__).resolve().parents[2]

GITOPS = ROOT / "golden" / "seed-gitops-pr" / "workflow.yaml"
ECHO = ROOT / "examples" / "echo-data-passing.yaml"
Docs = list[dict[str, Any]]



def _of(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The one Tekton object of ``kind`` (the output also holds the shared RBAC objects)."""
    return next(d for d in docs if d["kind"] == kind and d["apiVersion"] == "tekton.dev/v1")

def write(path: Path, docs: Docs) -> Path:
    path.write_text(dump_documents(docs), encoding="utf-8")
    return path


def test_the_whole_corpus_is_equivalent(corpus_file: Path, cli: Callable[..., Any]) -> None:
    result = cli("parity", *contract_args(corpus_file), corpus_file)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "jobs and tekton are equivalent" in result.stdout


def test_many_files_at_once(cli: Callable[..., Any]) -> None:
    result = cli("parity", *sorted((ROOT / "examples").glob("*.yaml")))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("equivalent") == 4


def _task(docs: Docs, name: str) -> dict[str, Any]:
    return next(t for t in _of(docs, "Pipeline")["spec"]["tasks"] if t["name"] == name)


def _param(docs: Docs, task: str, name: str) -> dict[str, Any]:
    return next(p for p in _task(docs, task)["params"] if p["name"] == name)


def _change_image(docs: Docs) -> None:
    _param(docs, "git-clone", "actionImage")["value"] = "ghcr.io/evil/clone@sha256:" + "0" * 64


def _drop_dependency(docs: Docs) -> None:
    del _task(docs, "git-commit")["runAfter"]


def _change_retries(docs: Docs) -> None:
    _task(docs, "git-clone")["retries"] = 5


def _change_input(docs: Docs) -> None:
    param = _param(docs, "git-commit", "inputs")
    param["value"] = json.dumps({**json.loads(param["value"]), "message": "something else"})


def _change_timeout(docs: Docs) -> None:
    _task(docs, "modify-deployment")["timeout"] = "1h"


def _drop_workspace(docs: Docs) -> None:
    del _task(docs, "git-push-pr")["workspaces"]


def _change_account(docs: Docs) -> None:
    _of(docs, "PipelineRun")["spec"]["taskRunSpecs"][0]["serviceAccountName"] = "default"


def _weaken_security(docs: Docs) -> None:
    execute = next(s for s in _of(docs, "Task")["spec"]["steps"] if s["name"] == "execute")
    execute["securityContext"]["allowPrivilegeEscalation"] = True


def _change_workflow_timeout(docs: Docs) -> None:
    _of(docs, "PipelineRun")["spec"]["timeouts"]["pipeline"] = "2h"


def _change_workspace_size(docs: Docs) -> None:
    claim = _of(docs, "PipelineRun")["spec"]["workspaces"][0]["volumeClaimTemplate"]["spec"]
    claim["resources"]["requests"]["storage"] = "5Gi"


DRIFT = {
    "image": (_change_image, "step 'git-clone': image: jobs"),
    "dependency": (_drop_dependency, "step 'git-commit': dependencies: 'modify-deployment' only on jobs"),
    "retries": (_change_retries, "step 'git-clone': retries: jobs 2, tekton 5"),
    "input": (_change_input, "step 'git-commit': inputs.message: jobs"),
    "timeout": (_change_timeout, "step 'modify-deployment': timeoutSeconds: jobs 600, tekton 3600"),
    "workspace": (_drop_workspace, "step 'git-push-pr': usesWorkspace: jobs true, tekton false"),
    "account": (_change_account, "step 'git-clone': serviceAccountName: jobs 'kubernaut-git-clone-e86a270f0094', "
                "tekton 'default'"),
    "security": (_weaken_security, "containerSecurityContext.allowPrivilegeEscalation: jobs false, tekton true"),
    "workflow-timeout": (_change_workflow_timeout, "workflow: timeoutSeconds: jobs 900, tekton 7200"),
    "workspace-size": (_change_workspace_size, "workflow: workspace.size: jobs '1Gi', tekton '5Gi'"),
}


@pytest.mark.parametrize("drift", list(DRIFT))
def test_planted_drift_in_tekton_manifests_is_reported(drift: str, cli: Callable[..., Any],
                                                       manifests: Callable[..., Any], tmp_path: Path) -> None:
    path, docs = manifests(GITOPS, "tekton")
    assert cli("parity", GITOPS, "--tekton-manifests", path).exit_code == 0
    plant, expected = DRIFT[drift]
    plant(docs)
    result = cli("parity", GITOPS, "--tekton-manifests", write(path, docs))
    assert result.exit_code == 1, result.stdout + result.stderr
    assert expected in result.stdout
    assert "workflow 'payment-memory-fix':" in result.stdout


def test_a_changed_guard_is_reported(cli: Callable[..., Any], manifests: Callable[..., Any]) -> None:
    path, docs = manifests(ECHO, "tekton")
    _task(docs, "never")["when"][0]["operator"] = "in"
    result = cli("parity", ECHO, "--tekton-manifests", write(path, docs))
    assert result.exit_code == 1
    assert """step 'never': guards: '$(steps.produce.outputs.sha) notin ["abc123", "def456"]' only on jobs""" \
        in result.stdout
    assert """'$(steps.produce.outputs.sha) in ["abc123", "def456"]' only on tekton""" in result.stdout


def test_both_manifest_files(cli: Callable[..., Any], manifests: Callable[..., Any], tmp_path: Path) -> None:
    jobs_path, jobs_docs = manifests(ECHO, "jobs")
    tekton_path, _ = manifests(ECHO, "tekton")
    args = ("parity", ECHO, "--jobs-manifests", jobs_path, "--tekton-manifests", tekton_path)
    assert cli(*args).exit_code == 0
    job = next(d for d in jobs_docs if d["kind"] == "Job" and d["metadata"]["labels"]["kubernaut.ai/step"] == "consume")
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    action_inputs = next(e for e in env if e["name"] == "ACTION_INPUTS")
    action_inputs["value"] = action_inputs["value"].replace("$$(date)", "$$(whoami)")
    write(jobs_path, jobs_docs)
    result = cli(*args)
    assert result.exit_code == 1
    assert "step 'consume': inputs.shell: jobs 'echo $$(whoami) in $(workflow.namespace)', " \
           "tekton 'echo $$(date) in $(workflow.namespace)'" in result.stdout


def test_jobs_manifests_alone(cli: Callable[..., Any], manifests: Callable[..., Any]) -> None:
    jobs_path, jobs_docs = manifests(GITOPS, "jobs")
    assert cli("parity", GITOPS, "--jobs-manifests", jobs_path).exit_code == 0
    record = next(d for d in jobs_docs if d["kind"] == "ActionExecution" and d["spec"]["step"] == "git-push-pr")
    record["spec"]["dependencies"] = []
    result = cli("parity", GITOPS, "--jobs-manifests", write(jobs_path, jobs_docs))
    assert result.exit_code == 1
    assert "step 'git-push-pr': dependencies: 'git-commit' only on tekton" in result.stdout


def test_errors_exit_2(cli: Callable[..., Any], tmp_path: Path, manifests: Callable[..., Any]) -> None:
    assert cli("parity", tmp_path / "missing.yaml").exit_code == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: WorkflowExecution\nspec: [\n", encoding="utf-8")
    assert cli("parity", broken).exit_code == 2
    result = cli("parity", GITOPS, "--tekton-manifests", broken)
    assert result.exit_code == 2 and "is not YAML" in result.stderr
    path, docs = manifests(GITOPS, "tekton")
    result = cli("parity", GITOPS, "--tekton-manifests", write(path, docs[:2]))
    assert result.exit_code == 2
    assert "no PipelineRun of workflow 'payment-memory-fix'" in result.stderr


def test_a_workflow_tekton_cannot_run_exits_2(cli: Callable[..., Any], tmp_path: Path) -> None:
    text = ECHO.read_text(encoding="utf-8").replace("notin ['abc123', 'def456']", "== '$$(x)'")
    source = tmp_path / "wf.yaml"
    source.write_text(text, encoding="utf-8")
    result = cli("parity", source)
    assert result.exit_code == 2
    assert "error[KN070]" in result.stderr
