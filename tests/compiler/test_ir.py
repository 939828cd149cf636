"""The IR: defaults, explicit DAG, parsed guards, frozen and serialisable."""

from __future__ import annotations

import json
from pathlib import Path

import pydantic
import pytest
import yaml

from compiler import ir
from compiler.frontend import compile_files

ROOT = Path(__file__).resolve().parents[2]


def example(name: str) -> ir.Workflow:
    result = compile_files([ROOT / "examples" / name])
    assert result.ok
    (workflow,) = result.workflows
    return workflow


def test_defaults_and_durations() -> None:
    wf = example("gitops-pr.yaml")
    assert wf.timeout_seconds == 900
    clone = wf.step("git-clone")
    assert (clone.retries, clone.timeout_seconds) == (2, 120)
    commit = wf.step("git-commit")
    assert (commit.retries, commit.timeout_seconds) == (0, ir.DEFAULT_STEP_TIMEOUT_SECONDS)
    assert wf.workspace == ir.WorkspaceSpec(size="1Gi", storage_class_name=None)
    assert wf.contracts["git/clone"].resources.requests == {"cpu": "100m", "memory": "128Mi"}


def test_no_workspace_when_no_step_uses_it() -> None:
    assert example("single-action.yaml").workspace is None
    assert example("single-action.yaml").timeout_seconds == ir.DEFAULT_WORKFLOW_TIMEOUT_SECONDS


def test_implied_and_declared_dependencies() -> None:
    wf = example("echo-data-passing.yaml")
    consume = wf.step("consume")
    assert consume.run_after == ()
    assert consume.dependencies == ("produce",)
    assert ir.Ref(kind="step", step="produce", key="replicas") in consume.references
    assert ir.Ref(kind="workflow", key="namespace") in consume.references
    assert ("produce", "never") in wf.edges


def test_guards_are_parsed() -> None:
    wf = example("echo-data-passing.yaml")
    (guard,) = wf.step("only-when-enabled").guards
    assert guard.left_ref == ir.Ref(kind="step", step="produce", key="enabled")
    assert (guard.op, guard.values) == ("==", ("true",))
    (never,) = wf.step("never").guards
    assert (never.op, never.values) == ("notin", ("abc123", "def456"))


def test_ir_is_frozen() -> None:
    wf = example("single-action.yaml")
    with pytest.raises(pydantic.ValidationError):
        wf.name = "other"  # type: ignore[misc]


def test_ir_round_trips_through_json_and_yaml() -> None:
    wf = example("echo-data-passing.yaml")
    dumped = wf.dump()
    assert ir.Workflow.model_validate(json.loads(json.dumps(dumped))) == wf
    assert ir.Workflow.model_validate(yaml.safe_load(yaml.safe_dump(dumped))) == wf


def test_steps_keep_workflow_order() -> None:
    wf = example("parallel-dependent.yaml")
    assert [s.name for s in wf.steps] == ["restart-pods", "scale-deployment", "create-gitops-pr"]
    assert wf.step("create-gitops-pr").dependencies == ("restart-pods", "scale-deployment")
