"""``kubernaut run FILE --stats FILE.json`` (issue 13): requests by verb, kubernaut's apart from
the simulators', the step count and the wall time."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kubernaut.cli import app

ROOT = Path(__file__).resolve().parents[2]
ECHO = str(ROOT / "examples" / "echo-data-passing.yaml")
VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
runner = CliRunner()


def test_stats_file_counts_requests_by_side_and_verb(tmp_path: Path) -> None:
    stats = tmp_path / "stats.json"
    result = runner.invoke(app, ["run", ECHO, "--output", "json", "--stats", str(stats)])
    assert result.exit_code == 0, result.stderr
    data = json.loads(stats.read_text())
    assert set(data) == {"steps", "requests", "wallSeconds"}
    assert data["steps"] == 3
    assert isinstance(data["wallSeconds"], float) and data["wallSeconds"] >= 0
    assert set(data["requests"]) == {"kubernaut", "simulator"}
    kubernaut, simulator = data["requests"]["kubernaut"], data["requests"]["simulator"]
    assert list(kubernaut) == VERBS and list(simulator) == VERBS
    # kubernaut creates ActionExecutions, Jobs and Events and patches statuses; the simulated
    # job controller creates Pods and patches Job and Pod statuses.
    assert kubernaut["create"] >= 2 * data["steps"] and kubernaut["patch"] > 0
    assert simulator["create"] >= data["steps"] and simulator["patch"] > 0
    # One list and one watch per cached kind: watched kinds are read from the informers.
    assert kubernaut["list"] == kubernaut["watch"]


def test_stats_of_several_workflows_add_their_steps(tmp_path: Path) -> None:
    stats = tmp_path / "stats.json"
    other = tmp_path / "other.yaml"
    other.write_text(Path(ECHO).read_text().replace("name: echo-data-passing", "name: echo-two", 1))
    result = runner.invoke(app, ["run", ECHO, str(other), "--output", "json", "--stats", str(stats)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(stats.read_text())["steps"] == 6


def test_an_unwritable_stats_file_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "stats.json"
    result = runner.invoke(app, ["run", ECHO, "--output", "json", "--stats", str(target)])
    assert result.exit_code == 1
    assert f"cannot write the stats file {target}" in result.stderr


def test_stats_apply_to_the_embedded_cluster_only(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", ECHO, "--cluster", "--stats", str(tmp_path / "s.json")])
    assert result.exit_code == 2
    assert "--stats apply to the embedded cluster only" in result.stderr
