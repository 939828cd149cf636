"""Issue 12: ``kubernaut run A.yaml B.yaml ...`` runs several workflows concurrently on one
embedded cluster; ``--output json`` prints a ``v1`` ``List`` of the final WorkflowExecutions, and a
failed step's reason and message show in text and JSON."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from typer.testing import CliRunner

from kubernaut.cli import app

runner = CliRunner()
IMAGE = "ghcr.io/kubernaut/actions/echo@sha256:" + "a" * 64


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["run", *args])
    return result.exit_code, result.stdout, result.stderr


def remediation(tmp_path: Path, name: str, target: str = "payments", *, policy: str = "wait",
                step: str = "fix") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(f"""\
        apiVersion: workflowexecution.kubernaut.ai/v1alpha1
        kind: WorkflowExecution
        metadata: {{name: {name}, namespace: default}}
        spec:
          targetResource: {{kind: Deployment, name: {target}}}
          lockPolicy: {policy}
          steps:
            - name: {step}
              actionType: kubernaut/echo
              image: {IMAGE}
              inputs: {{target: {target}}}
    """))
    return str(path)


def outcomes(tmp_path: Path, text: str) -> str:
    path = tmp_path / "outcomes.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_json_output_is_a_v1_list_of_the_final_workflows_in_file_order(tmp_path: Path) -> None:
    # Created in the same second: creation order falls back to namespace/name (docs/running.md).
    files = [remediation(tmp_path, "other", target="checkout"), remediation(tmp_path, "b-second"),
             remediation(tmp_path, "a-first")]
    code, out, err = run(*files, "--output", "json", "--simulate", outcomes(tmp_path, """
        steps:
          fix: [{duration: 30s, outputs: {target: done}}]
    """))
    assert code == 0, err
    listing = json.loads(out)
    assert (listing["apiVersion"], listing["kind"]) == ("v1", "List")
    assert [w["metadata"]["name"] for w in listing["items"]] == ["other", "b-second", "a-first"]
    assert all(w["status"]["phase"] == "Succeeded" for w in listing["items"])
    start = {w["metadata"]["name"]: w["status"]["startTime"] for w in listing["items"]}
    end = {w["metadata"]["name"]: w["status"]["completionTime"] for w in listing["items"]}
    # Concurrently: the other target started at once; the two of one target one after the other.
    assert start["other"] == start["a-first"] < start["b-second"]
    assert end["a-first"] <= start["b-second"]


def test_failed_steps_show_reason_and_message_in_text_and_json(tmp_path: Path) -> None:
    files = [remediation(tmp_path, "ok", target="a", step="check"), remediation(tmp_path, "broken", target="b")]
    script = outcomes(tmp_path, """
        steps:
          fix: [{result: failed, exitCode: 3, message: "deployment not found"}]
    """)
    code, out, _ = run(*files, "--output", "json", "--simulate", script)
    assert code == 1
    (ok, broken) = json.loads(out)["items"]
    assert (ok["status"]["phase"], "failureDetails" in ok["status"]) == ("Succeeded", False)
    assert broken["status"]["failureDetails"] == {"step": "fix", "reason": "ActionFailed", "exitCode": 3,
                                                  "message": "deployment not found", "retryable": True}
    assert broken["status"]["steps"][0]["failure"]["reason"] == "ActionFailed"
    code, out, _ = run(*files, "--simulate", script)
    assert code == 1
    assert "workflow broken: Failed" in out
    assert "ActionFailed in step fix (exit code 3, retryable): deployment not found" in out
    assert "fix  Failed" in out and "ActionFailed: deployment not found" in out


def test_lock_policy_fail_is_reported_as_deduplicated(tmp_path: Path) -> None:
    files = [remediation(tmp_path, "first"), remediation(tmp_path, "second", policy="fail")]
    code, out, _ = run(*files, "--output", "json", "--simulate", outcomes(tmp_path, """
        steps:
          fix: [{duration: 10s}]
    """))
    assert code == 1
    first, second = json.loads(out)["items"]
    assert first["status"]["phase"] == "Succeeded"
    assert (second["status"]["phase"], second["status"]["failureDetails"]["reason"]) == ("Failed", "Deduplicated")


def test_one_file_still_prints_one_workflow(tmp_path: Path) -> None:
    code, out, _ = run(remediation(tmp_path, "alone"), "--output", "json")
    assert code == 0
    assert json.loads(out)["kind"] == "WorkflowExecution"


def test_two_files_with_the_same_workflow_name_are_refused(tmp_path: Path) -> None:
    one = remediation(tmp_path, "same")
    other = tmp_path / "copy.yaml"
    other.write_text(Path(one).read_text())
    code, _, err = run(one, str(other))
    assert code == 1
    assert "KN011" in err
