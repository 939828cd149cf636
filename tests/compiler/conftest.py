"""Helpers for compiler tests: build workflows from small step snippets."""

from __future__ import annotations

import hashlib
import textwrap

import pytest

from compiler.contracts import Catalog, load_catalog
from compiler.frontend import FrontendResult, compile_source


def digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


IMAGE = f"ghcr.io/kubernaut/actions/echo@{digest('echo')}"


def workflow_yaml(steps: str, *, name: str = "wf", extra_spec: str = "") -> str:
    """A WorkflowExecution document whose steps are given as an indented YAML snippet."""
    body = textwrap.indent(textwrap.dedent(steps).strip("\n"), "    ")
    spec_extra = textwrap.indent(textwrap.dedent(extra_spec).strip("\n"), "  ") + "\n" if extra_spec else ""
    return (
        "apiVersion: workflowexecution.kubernaut.ai/v1alpha1\n"
        "kind: WorkflowExecution\n"
        f"metadata:\n  name: {name}\n"
        f"spec:\n{spec_extra}  steps:\n{body}\n"
    )


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    found, problems = load_catalog()
    assert problems == []
    return found


@pytest.fixture
def compile_text(catalog: Catalog):  # type: ignore[no-untyped-def]
    def run(text: str, file: str = "wf.yaml") -> FrontendResult:
        return compile_source(file, text.encode(), catalog)

    return run
