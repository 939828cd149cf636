"""Fixtures of the parity tests: the corpus, and compiled manifests written to files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.golden_contracts import contract_dirs
from typer.testing import CliRunner

import targets.jobs
import targets.tekton
from compiler.frontend import compile_files
from compiler.yamlout import dump_documents
from kubernaut.cli import app

ROOT = Path(__file__).resolve().parents[2]


def corpus_files() -> list[Path]:
    return sorted(ROOT.glob("golden/*/workflow.yaml")) + sorted(ROOT.glob("examples/*.yaml"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "corpus_file" in metafunc.fixturenames:
        files = corpus_files()
        metafunc.parametrize("corpus_file", files, ids=[
            p.parent.name if p.name == "workflow.yaml" else p.stem for p in files])


@pytest.fixture(scope="session")
def cli() -> Callable[..., Any]:
    """``cli(*args)``: ``kubernaut ARGS`` in-process, stdout and stderr apart."""
    return lambda *args: CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def manifests(tmp_path: Path) -> Callable[[Path, str], tuple[Path, list[dict[str, Any]]]]:
    """``manifests(workflow_file, target)``: the target's manifests as a file, and as data to edit."""
    def build(source: Path, target: str) -> tuple[Path, list[dict[str, Any]]]:
        (wf,) = compile_files([source], contract_dirs(source)).workflows
        docs = (targets.jobs if target == "jobs" else targets.tekton).compile_workflow(wf)
        path = tmp_path / f"{target}.yaml"
        path.write_text(dump_documents(docs), encoding="utf-8")
        return path, docs
    return build
