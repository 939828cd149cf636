"""`kubernaut validate` and `kubernaut graph` through the real entry points."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubernaut.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
runner = CliRunner()


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_validates_cleanly(example: Path) -> None:
    result = runner.invoke(app, ["validate", str(example)])
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings" in result.output


def test_seed_examples_are_shipped() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"single-action.yaml", "parallel-dependent.yaml", "gitops-pr.yaml"} <= names


def test_invalid_workflow_exits_1_with_excerpt_and_caret(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "examples" / "single-action.yaml").read_text().replace("@sha256:", ":v1@sha256:")
    text = text.replace("replicas: 10", "replicas: ten")
    bad.write_text(text)
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:15:19: error[KN041]" in result.output
    assert "15 |         replicas: ten" in result.output
    assert "   |                   ^^^" in result.output
    assert "1 error, 0 warnings" in result.output


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2


def test_unknown_graph_format_is_a_usage_error() -> None:
    result = runner.invoke(app, ["graph", str(EXAMPLES[0]), "--format", "png"])
    assert result.exit_code == 2


def test_graph_formats(tmp_path: Path) -> None:
    example = str(ROOT / "examples" / "parallel-dependent.yaml")
    text = runner.invoke(app, ["graph", example])
    assert text.exit_code == 0
    assert "create-gitops-pr (git/create-pr) after: restart-pods, scale-deployment" in text.output
    mermaid = runner.invoke(app, ["graph", example, "--format", "mermaid"]).output
    assert mermaid.startswith("flowchart TD")
    assert "s_scale_deployment --> s_create_gitops_pr" in mermaid
    dot = runner.invoke(app, ["graph", example, "--format", "dot"]).output
    assert '"restart-pods" -> "create-gitops-pr";' in dot


def test_graph_includes_implied_edges() -> None:
    result = runner.invoke(app, ["graph", str(ROOT / "examples" / "echo-data-passing.yaml")])
    assert "consume (kubernaut/echo) after: produce" in result.output


@pytest.mark.parametrize("content", [b"", b"\x00\x00binary", b"key: [unclosed\n", b"\xff\xfe\xfa"])
def test_console_script_never_prints_a_traceback(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(content)
    proc = subprocess.run([sys.executable, "-c", "from kubernaut.cli import main; main()", "validate", str(bad)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert f"{bad}:1:" in proc.stderr or f"{bad}:" in proc.stderr
