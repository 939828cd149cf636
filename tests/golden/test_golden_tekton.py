"""The tekton target over the golden corpus: the snapshot (``golden/<case>/tekton.yaml``), Tekton's
own validation of every object, and V1/V2 parity of each case, all through the real CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from support.golden_contracts import contract_args
from support.kube_schema import validate_kube
from support.pss import check_restricted, tekton_pod_specs
from support.tekton_schema import validate_tekton

from targets.parity import compare_manifests

GOLDEN = Path(__file__).resolve().parents[2] / "golden"


def _compile_tekton(cli: Callable[[list[str]], Any], case: str) -> tuple[str, list[dict[str, Any]]]:
    source = GOLDEN / case / "workflow.yaml"
    result = cli(["compile", "--target", "tekton", *contract_args(source), str(source)])
    assert result.exit_code == 0, result.stderr
    return result.stdout, list(yaml.safe_load_all(result.stdout))


def test_tekton_output_matches_golden(case: str, cli: Callable[..., Any], golden: Callable[..., Any]) -> None:
    text, _ = _compile_tekton(cli, case)
    assert text == golden(case, "tekton")


def test_tekton_accepts_every_object(case: str, cli: Callable[..., Any]) -> None:
    _, everything = _compile_tekton(cli, case)
    rbac = [d for d in everything if d["apiVersion"] != "tekton.dev/v1"]
    docs = everything[len(rbac):]
    assert {d["kind"] for d in rbac} <= {"ServiceAccount", "Role", "RoleBinding"}
    for doc in rbac:
        assert validate_kube(doc) == [], doc["kind"]
    # The meta-Task, then any Tasks generated for env actions and mounts (targets.tekton.generated).
    kinds = [d["kind"] for d in docs]
    assert kinds[0] == "Task" and kinds[-2:] == ["Pipeline", "PipelineRun"] and set(kinds[:-2]) == {"Task"}
    for doc in docs:
        assert validate_tekton(doc) == [], doc["kind"]
    for task in docs[:-2]:
        for pod in tekton_pod_specs(task, docs[-1]):
            assert check_restricted(pod) == []


def test_golden_jobs_and_tekton_are_equivalent(case: str, cli: Callable[..., Any]) -> None:
    # The committed files, compared with each other: what a GitOps repository would hold.
    source = GOLDEN / case / "workflow.yaml"
    jobs, tekton = GOLDEN / case / "jobs.yaml", GOLDEN / case / "tekton.yaml"
    result = cli(["parity", str(source), *contract_args(source), "--jobs-manifests", str(jobs),
                  "--tekton-manifests", str(tekton)])
    assert result.exit_code == 0, result.stdout + result.stderr
    workflow_docs = [d for d in yaml.safe_load_all(source.read_text(encoding="utf-8")) if d]
    jobs_docs = [*yaml.safe_load_all(jobs.read_text(encoding="utf-8")), *workflow_docs]
    tekton_docs = list(yaml.safe_load_all(tekton.read_text(encoding="utf-8")))
    name = workflow_docs[0]["metadata"]["name"]
    assert compare_manifests(jobs_docs, tekton_docs, name) == []
