"""Fixtures of the tekton target's tests: the corpus (golden cases and examples) as IR, and
small workflows built from YAML snippets through the real front end."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from support.golden_contracts import contract_dirs

from compiler import ir
from compiler.contracts import load_catalog
from compiler.frontend import compile_files, compile_source

ROOT = Path(__file__).resolve().parents[3]


def corpus_files() -> list[Path]:
    return sorted(ROOT.glob("golden/*/workflow.yaml")) + sorted(ROOT.glob("examples/*.yaml"))


def _id(path: Path) -> str:
    return str(path.parent.name if path.name == "workflow.yaml" else path.stem)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "corpus_workflow" in metafunc.fixturenames:
        files = corpus_files()
        metafunc.parametrize("corpus_workflow", files, ids=[_id(p) for p in files], indirect=True)


@pytest.fixture
def corpus_workflow(request: pytest.FixtureRequest) -> ir.Workflow:
    result = compile_files([request.param], contract_dirs(request.param))
    assert result.ok, [d.headline() for d in result.diagnostics]
    (wf,) = result.workflows
    return wf


def workflow_yaml(steps: str, *, name: str = "wf", namespace: str | None = "ns", extra_spec: str = "") -> str:
    body = textwrap.indent(textwrap.dedent(steps).strip("\n"), "    ")
    extra = textwrap.indent(textwrap.dedent(extra_spec).strip("\n"), "  ") + "\n" if extra_spec else ""
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return ("apiVersion: workflowexecution.kubernaut.ai/v1alpha1\nkind: WorkflowExecution\n"
            f"metadata:\n  name: {name}{ns}\nspec:\n{extra}  steps:\n{body}\n")


@pytest.fixture(scope="session")
def lower() -> Callable[..., ir.Workflow]:
    """``lower(steps_yaml, **kw)``: the IR of a workflow made of the given steps (must be valid)."""
    catalog, problems = load_catalog()
    assert problems == []

    def build(steps: str, **kwargs: object) -> ir.Workflow:
        text = workflow_yaml(steps, **kwargs)  # type: ignore[arg-type]
        result = compile_source("test.yaml", text.encode(), catalog)
        errors = [d.headline() for d in result.diagnostics if d.is_error]
        assert not errors, errors
        (wf,) = result.workflows
        return wf

    return build
