"""Pieces of the parity checker: kubelet expansion, guard normal forms, the models, rendering."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import targets.jobs
import targets.tekton
from compiler.frontend import compile_files
from targets.parity import ManifestError, compare_manifests, jobs_model, tekton_model
from targets.parity.compare import Difference
from targets.parity.guards import normal_from_source, normal_guard
from targets.parity.manifests import kubelet_expand

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("value", "expected"), [
    ("$$(date)", "$(date)"),
    ("$$$$", "$$"),
    ("$(A) and $(B)", "1 and $(B)"),
    ("$$(A)", "$(A)"),
    ("cost $5 $(", "cost $5 $("),
])
def test_kubelet_expansion(value: str, expected: str) -> None:
    assert kubelet_expand(value, {"A": "1"}) == expected


def test_jobs_inputs_survive_the_kubelet() -> None:
    text = '{"s":"$(x) $$ $$(y)"}'
    assert kubelet_expand(targets.jobs.escape_env_value(text), {"x": "no"}) == text


@pytest.mark.parametrize(("source", "normal"), [
    ("$(steps.a.outputs.x) == 'true'", '$(steps.a.outputs.x) in ["true"]'),
    ("$(steps.a.outputs.x) == true", '$(steps.a.outputs.x) in ["true"]'),
    ("$(steps.a.outputs.n) notin [1, 1.5, null]", '$(steps.a.outputs.n) notin ["1", "1.5", "null"]'),
    ("'prod' != 'dev'", '"prod" notin ["dev"]'),
    ("$(workspace.path) == '/workspace'", '"/workspace" in ["/workspace"]'),
    ("$(workflow.namespace) in ['a']", '$(workflow.namespace) in ["a"]'),
])
def test_guard_normal_form(source: str, normal: str) -> None:
    assert normal_from_source(source, "here") == normal


def test_literal_left_sides_never_look_like_references() -> None:
    assert normal_guard("$(workflow.name)", False, "in", ["x"]) != normal_guard("$(workflow.name)", True, "in", ["x"])


def test_a_malformed_guard_is_a_manifest_error() -> None:
    with pytest.raises(ManifestError, match="invalid guard"):
        normal_from_source("$(steps.a.outputs.x) ~ 1", "ActionExecution x")


def _compiled(path: Path) -> tuple[str, list[dict[str, object]], list[dict[str, object]]]:
    (wf,) = compile_files([path]).workflows
    source = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return wf.name, targets.jobs.compile_workflow(wf) + source, targets.tekton.compile_workflow(wf)


def test_models_agree_on_the_gitops_example() -> None:
    name, jobs, tekton = _compiled(ROOT / "examples" / "gitops-pr.yaml")
    left, right = jobs_model(jobs, name), tekton_model(tekton, name)
    assert left == right
    assert left.timeout_seconds == 900 and left.workspace == {"size": "1Gi", "storageClassName": None}
    step = left.steps["git-push-pr"]
    assert step.dependencies == {"git-commit"} and step.uses_workspace and step.retries == 0
    assert step.container_security["readOnlyRootFilesystem"] is True


def test_a_missing_step_is_named() -> None:
    name, jobs, tekton = _compiled(ROOT / "examples" / "parallel-dependent.yaml")
    jobs = [d for d in jobs if not (d["kind"] in ("ActionExecution", "Job")
                                    and "restart-pods" in str(d["metadata"]))]  # type: ignore[index]
    differences = [str(d) for d in compare_manifests(jobs, tekton, name)]
    assert "step 'restart-pods': only on tekton" in differences
    # Dependents keep naming it on both sides: only the missing step itself is reported.
    assert "step 'create-gitops-pr': dependencies: 'restart-pods' only on tekton" not in differences


def test_difference_rendering() -> None:
    assert str(Difference(None, "timeoutSeconds", "jobs 1, tekton 2")) == "workflow: timeoutSeconds: jobs 1, tekton 2"
    assert str(Difference("a", "", "only on jobs")) == "step 'a': only on jobs"
