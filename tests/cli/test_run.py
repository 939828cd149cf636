"""`kubernaut run FILE [--engine] [--simulate] [--output text|json] [--realtime]` through the real
entry point: outputs, exit codes, scripted outcomes, bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from kubernaut.cli import app
from kubernaut.cli.progress import Progress, format_duration
from reconciler.clock import VirtualClock

ROOT = Path(__file__).resolve().parents[2]
ECHO = str(ROOT / "examples" / "echo-data-passing.yaml")
GITOPS = str(ROOT / "examples" / "gitops-pr.yaml")
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["run", *args])
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return str(path)


def test_text_output_follows_the_steps_and_summarises(tmp_path: Path) -> None:
    code, out, err = run(ECHO)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "[    0s] workflow echo-data-passing running on engine jobs"
    # A started step counts the attempt it runs (V1 and V2 alike; its first status says so).
    assert "[    0s] produce: Running (attempt 1)" in lines
    assert "[    1s] produce: Succeeded (attempt 1)" in lines
    assert "[    1s] never: Skipped - when guard is false: $(steps.produce.outputs.sha) notin ['abc123', 'def456']" \
        in lines
    assert "workflow echo-data-passing: Succeeded in 2s (engine jobs)" in lines
    summary = out[out.index("workflow echo-data-passing: Succeeded"):]
    assert "  consume            Succeeded  1 attempt       1s" in summary
    assert 'outputs: {"count":3,"labels":{"team":"payments"}' in summary
    assert "  never              Skipped" in summary


def test_json_output_is_the_final_workflow_execution_only() -> None:
    code, out, err = run(ECHO, "--output", "json")
    assert code == 0, err
    wfe = json.loads(out)
    assert (wfe["kind"], wfe["metadata"]["name"]) == ("WorkflowExecution", "echo-data-passing")
    status = wfe["status"]
    assert (status["phase"], status["engine"]) == ("Succeeded", "jobs")
    steps = {s["name"]: s for s in status["steps"]}
    assert steps["consume"]["outputs"]["summary"] == "sha=abc123 replicas=3"
    assert steps["never"]["phase"] == "Skipped"
    assert wfe["metadata"]["finalizers"] == []  # cleaned up before the answer


def test_engine_jobs_is_recorded_in_the_spec() -> None:
    code, out, _ = run(ECHO, "--engine", "jobs", "--output", "json")
    assert code == 0
    assert json.loads(out)["spec"]["engine"] == "jobs"


def test_simulated_failures_exit_1_with_the_last_message(tmp_path: Path) -> None:
    outcomes = write(tmp_path, "outcomes.yaml", """
        steps:
          git-clone: [{result: succeeded, outputs: {commitSHA: abc}}]
          modify-deployment: [{result: failed, message: "patch does not apply"}]
    """)
    code, out, err = run(GITOPS, "--simulate", outcomes)
    assert code == 1, err
    assert "modify-deployment: Failed (attempt 1) - patch does not apply" in out
    assert "workflow payment-memory-fix: Failed in 0s (engine jobs)" in out
    assert "  git-push-pr        Skipped" in out
    code, out, _ = run(GITOPS, "--simulate", outcomes, "--output", "json")
    assert code == 1
    assert json.loads(out)["status"]["message"] == "patch does not apply"


def test_simulated_retries_and_outputs(tmp_path: Path) -> None:
    outcomes = write(tmp_path, "outcomes.yaml", """
        steps:
          git-clone:
            - {result: failed, message: "connection reset"}
            - {result: succeeded, outputs: {commitSHA: abc123}, duration: 3s}
          git-commit: [{outputs: {commitSHA: def456}}]
          git-push-pr: [{outputs: {url: "https://github.com/company/k8s-configs/pull/7"}}]
    """)
    code, out, err = run(GITOPS, "--simulate", outcomes, "--output", "json")
    assert code == 0, err
    steps = {s["name"]: s for s in json.loads(out)["status"]["steps"]}
    assert (steps["git-clone"]["phase"], steps["git-clone"]["attempts"]) == ("Succeeded", 2)
    assert steps["git-push-pr"]["outputs"] == {"url": "https://github.com/company/k8s-configs/pull/7"}
    code, out, _ = run(GITOPS, "--simulate", outcomes)
    assert "git-clone: Running (attempt 2) - connection reset" in out


def test_a_bad_outcomes_file_is_a_usage_error_with_located_diagnostics(tmp_path: Path) -> None:
    outcomes = write(tmp_path, "bad.yaml", """
        steps:
          git-clone:
            - {result: maybe, duraton: 3s}
    """)
    code, out, err = run(GITOPS, "--simulate", outcomes)
    assert code == 2
    assert out == ""
    assert f"{outcomes}:3:" in err and "error[KN" in err
    assert "duraton" in err and "did you mean 'duration'" in err
    code, _, err = run(GITOPS, "--simulate", str(tmp_path / "missing.yaml"))
    assert (code, err) == (2, f"kubernaut: no such file: {tmp_path / 'missing.yaml'}\n")


def test_outcomes_for_unknown_steps_warn(tmp_path: Path) -> None:
    outcomes = write(tmp_path, "typo.yaml", """
        steps:
          git-clon: [{result: failed}]
    """)
    code, _, err = run(GITOPS, "--simulate", outcomes, "--output", "json")
    assert code == 1  # git-commit gives no commitSHA without a script: the PR step cannot resolve it
    assert "warning[KN005]: outcomes script step 'git-clon', which is not in the workflow" in err


def test_an_invalid_workflow_exits_1_with_diagnostics(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", Path(ECHO).read_text().replace("$(steps.produce.outputs.sha)",
                                                                    "$(step.produce.outputs.sha)", 1))
    code, out, err = run(bad)
    assert code == 1
    assert out == ""
    assert f"{bad}:" in err and "error[KN0" in err and "^" in err


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    code, _, err = run(ECHO, "--engine", "argo")
    assert (code, err) == (2, "kubernaut: --engine must be one of jobs, tekton, not 'argo'\n")
    code, _, err = run(ECHO, "--output", "yaml")
    assert (code, err) == (2, "kubernaut: --output must be one of text, json, not 'yaml'\n")
    code, _, err = run(str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such file" in err
    two = write(tmp_path, "two.yaml", Path(ECHO).read_text() + "\n---\n"
                + Path(ECHO).read_text().replace("name: echo-data-passing", "name: other"))
    code, _, err = run(two)
    assert (code, err) == (2, f"kubernaut: {two} holds 2 workflows; run takes one workflow per file\n")


def test_a_workflow_timeout_ends_the_run(tmp_path: Path) -> None:
    wf = write(tmp_path, "slow.yaml", Path(ECHO).read_text().replace("spec:\n", "spec:\n  timeout: 10s\n", 1))
    outcomes = write(tmp_path, "slow-outcomes.yaml", """
        steps:
          produce: [{outputs: {replicas: 3, enabled: true, sha: x, labels: {}}, duration: 1h}]
    """)
    code, out, _ = run(wf, "--simulate", outcomes, "--output", "json")
    assert code == 1
    status = json.loads(out)["status"]
    assert (status["phase"], status["message"]) == ("Failed", "workflow timed out after 10s")


def test_the_console_script_runs_without_a_traceback() -> None:
    proc = subprocess.run([sys.executable, "-c", "from kubernaut.cli import main; main()", "run", ECHO],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "workflow echo-data-passing: Succeeded" in proc.stdout


def test_the_live_table_on_a_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, record=True)
    clock = VirtualClock()
    progress = Progress(console, clock.now)
    assert progress.live_mode
    wfe = {"metadata": {"name": "wf"}, "status": {
        "phase": "Running", "engine": "jobs", "startTime": "2026-01-01T00:00:00Z",
        "steps": [{"name": "a", "phase": "Running", "attempts": 2, "startTime": "2026-01-01T00:00:00Z",
                   "message": "connection reset"},
                  {"name": "b", "phase": "Pending", "attempts": 0}]}}
    progress.update(wfe)
    clock.advance(5)
    progress.update(wfe)
    progress.close()
    text = console.export_text()
    assert "workflow wf Running 5s" in text
    assert "connection reset" in text and "│ 2 " in text


def test_durations_read_like_go() -> None:
    assert [format_duration(s) for s in (None, 0, 59.4, 61, 3600, 3725)] == ["", "0s", "59s", "1m1s", "1h0m0s",
                                                                              "1h2m5s"]
