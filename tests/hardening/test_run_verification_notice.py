"""Issue #15, item 9: ``kubernaut run`` on the embedded cluster says, once and on stderr, that it
does not verify image signatures unless ``--verify`` is given, and names the flag."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kubernaut.cli import app

ROOT = Path(__file__).resolve().parents[2]
ECHO = str(ROOT / "examples" / "echo-data-passing.yaml")
runner = CliRunner()


def test_a_run_without_verify_says_once_on_stderr_that_images_are_not_verified() -> None:
    result = runner.invoke(app, ["run", ECHO])
    assert result.exit_code == 0, result.stderr
    notices = [line for line in result.stderr.splitlines() if "NOT verified" in line]
    assert len(notices) == 1
    assert "--verify" in notices[0]
    assert "NOT verified" not in result.stdout


def test_the_notice_keeps_json_output_parseable() -> None:
    result = runner.invoke(app, ["run", ECHO, "--output", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["status"]["phase"] == "Succeeded"
    assert "NOT verified" in result.stderr
