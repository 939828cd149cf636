"""The jobs target over the golden corpus: the snapshot, then every object against its schema."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.kube_schema import validate_kube
from support.pss import check_restricted, pod_specs_of

from compiler import spec
from targets.jobs import ActionExecution

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
KUBERNAUT_API_VERSIONS = {spec.API_VERSION, spec.ACTION_API_VERSION}


def test_jobs_output_matches_golden(case: str, compiled: Callable[..., Any], golden: Callable[..., Any]) -> None:
    out = compiled(GOLDEN / case / "workflow.yaml")
    assert out.exit_code == 0, out.stderr
    assert out.stdout == golden(case, "jobs")


def test_core_kinds_pass_strict_kubernetes_schema(case: str, compiled: Callable[..., Any]) -> None:
    out = compiled(GOLDEN / case / "workflow.yaml")
    core = [d for d in out.docs if d["apiVersion"] not in KUBERNAUT_API_VERSIONS]
    assert core, "every workflow emits at least its Jobs"
    for doc in core:
        assert validate_kube(doc) == [], f"{doc['kind']}/{doc['metadata']['name']}"


def test_action_executions_match_their_crd_and_model(case: str, compiled: Callable[..., Any],
                                                     crd_validator: Callable[[str], Any]) -> None:
    out = compiled(GOLDEN / case / "workflow.yaml")
    validator = crd_validator("ActionExecution")
    for doc in out.kind("ActionExecution"):
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
        assert errors == [], doc["metadata"]["name"]
        # The controller reads them back through the same model.
        assert ActionExecution.model_validate(doc).model_dump(mode="json", exclude_none=True) == doc


def test_every_pod_meets_the_restricted_profile(case: str, compiled: Callable[..., Any]) -> None:
    out = compiled(GOLDEN / case / "workflow.yaml")
    pods = [(doc, pod) for doc in out.docs for pod in pod_specs_of(doc)]
    assert len(pods) == len(out.kind("Job"))
    for doc, pod in pods:
        assert check_restricted(pod) == [], doc["metadata"]["name"]
