"""``kubernaut run --save-state`` and ``get``/``describe``/``logs --state FILE`` through the CLI,
on both engines: the same commands answer from a saved local run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from operate_helpers import ECHO, kubernaut, write

from reconciler.inspect import STATE_KIND, load_state


@pytest.fixture(params=["jobs", "tekton"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def saved_run(tmp_path: Path, workflow: Path, engine: str, outcomes: Path | None = None) -> Path:
    state = tmp_path / f"state-{engine}.json"
    args: list[str | Path] = ["run", workflow, "--engine", engine, "--save-state", state]
    if outcomes is not None:
        args += ["--simulate", outcomes]
    result = kubernaut(*args)
    assert state.is_file(), result.err
    return state


def test_save_state_writes_objects_and_pod_logs(tmp_path: Path, engine: str) -> None:
    state = saved_run(tmp_path, ECHO, engine)
    document = json.loads(state.read_text())
    assert document["kind"] == STATE_KIND and document["savedAt"] == "2026-01-01T00:00:02Z"
    kinds = {o["kind"] for o in document["objects"]}
    assert {"WorkflowExecution", "Event"} <= kinds
    assert ({"ActionExecution", "Job", "Pod"} if engine == "jobs" else {"PipelineRun", "TaskRun"}) <= kinds
    assert not any("managedFields" in o["metadata"] for o in document["objects"])
    logs = {(e["pod"], e["container"]): e["log"] for e in document["podLogs"]}
    container = "action" if engine == "jobs" else "step-execute"
    produce = next(text for (pod, c), text in logs.items()
                   if pod.startswith("echo-data-passing-produce") and c == container)
    assert json.loads(produce) == {"replicas": 3, "enabled": True, "sha": "abc123", "labels": {"team": "payments"}}
    # Saving twice gives the same bytes: a state file can be diffed and shared.
    (tmp_path / "again").mkdir()
    again = saved_run(tmp_path / "again", ECHO, engine)
    assert again.read_text() == state.read_text()


def test_get_lists_like_kubectl(tmp_path: Path, engine: str) -> None:
    state = saved_run(tmp_path, ECHO, engine)
    result = kubernaut("get", "--state", state)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "NAME                PHASE       ENGINE   STEPS   AGE",
        f"echo-data-passing   Succeeded   {engine:<6}   4/4     2s",
    ]


def test_get_output_json_and_yaml(tmp_path: Path) -> None:
    state = saved_run(tmp_path, ECHO, "jobs")
    listed = json.loads(kubernaut("get", "--state", state, "-o", "json").out)
    assert listed["kind"] == "List" and [i["metadata"]["name"] for i in listed["items"]] == ["echo-data-passing"]
    one = kubernaut("get", "echo-data-passing", "--state", state, "-o", "yaml")
    assert one.code == 0 and one.out.startswith("apiVersion: workflowexecution.kubernaut.ai/v1alpha1\n")
    assert "phase: Succeeded" in one.out
    bad = kubernaut("get", "--state", state, "-o", "wide")
    assert bad.code == 2 and "-o/--output must be one of json, yaml" in bad.err


def test_get_unknown_workflow_and_namespace(tmp_path: Path) -> None:
    state = saved_run(tmp_path, ECHO, "jobs")
    missing = kubernaut("get", "nope", "--state", state)
    assert (missing.code, missing.err) == (1, 'kubernaut: workflowexecution "nope" not found\n')
    other = kubernaut("get", "echo-data-passing", "--state", state, "-n", "elsewhere")
    assert other.code == 1 and 'not found in namespace "elsewhere"' in other.err
    empty = kubernaut("get", "--state", state, "-n", "elsewhere")
    assert empty.code == 0 and empty.out == "" and "No workflowexecutions found in namespace elsewhere" in empty.err


def test_describe_shows_steps_engine_objects_and_events(tmp_path: Path, engine: str,
                                                        retry_files: tuple[Path, Path]) -> None:
    workflow, outcomes = retry_files
    state = saved_run(tmp_path, workflow, engine, outcomes)
    result = kubernaut("describe", "retry-demo", "--state", state)
    assert result.code == 0, result.err
    out = result.out
    assert "Name:            retry-demo\nNamespace:       ops\nWorkflow type:   demo\n" in out
    assert f"Engine:          {engine}\nPhase:           Succeeded\n" in out
    flaky = out[out.index("  flaky:"):out.index("  after:")]
    assert "    Phase:        Succeeded\n    Attempts:     2\n" in flaky
    assert "    Duration:     " in flaky and '    Outputs:      {"a":1}' in flaky
    if engine == "jobs":
        assert "      ActionExecution/retry-demo-flaky-8c2fa3  Succeeded\n" in flaky
        assert "        Job/retry-demo-flaky-8c2fa3-1  Failed (BackoffLimitExceeded)\n" in flaky
        assert "          Pod/retry-demo-flaky-8c2fa3-1-" in flaky and "Failed (exit code 1)" in flaky
        assert "        Job/retry-demo-flaky-8c2fa3-2  Complete\n" in flaky
    else:
        assert "      TaskRun/retry-demo-flaky  Succeeded\n" in flaky
        assert "        Pod/retry-demo-flaky-pod  Failed\n" in flaky
        assert "        Pod/retry-demo-flaky-pod-retry1  Succeeded\n" in flaky
    events = out[out.index("Events:"):]
    assert "WorkflowSucceeded" in events and "WorkflowExecution/retry-demo" in events


def test_describe_shows_failure_messages(tmp_path: Path, engine: str, retry_files: tuple[Path, Path]) -> None:
    workflow, _ = retry_files
    outcomes = write(tmp_path, "fail.yaml", """
        steps:
          flaky:
            - {result: failed, message: "disk full"}
        """)
    state = saved_run(tmp_path, workflow, engine, outcomes)
    out = kubernaut("describe", "retry-demo", "--state", state).out
    assert "Phase:           Failed\n" in out
    flaky = out[out.index("  flaky:"):out.index("  after:")]
    assert "    Phase:        Failed\n    Attempts:     2\n" in flaky
    assert "    Message:      " in flaky
    after = out[out.index("  after:"):out.index("Events:")]
    assert "    Phase:        Skipped\n" in after and "not run: workflow failed" in after


def test_logs_of_every_attempt_on_both_engines(tmp_path: Path, engine: str, retry_files: tuple[Path, Path]) -> None:
    workflow, outcomes = retry_files
    state = saved_run(tmp_path, workflow, engine, outcomes)
    first = kubernaut("logs", "retry-demo", "--step", "flaky", "--attempt", "1", "--state", state)
    assert (first.code, first.out) == (0, "first try: connection refused\n"), first.err
    latest = kubernaut("logs", "retry-demo", "--step", "flaky", "--state", state)
    assert json.loads(latest.out) == {"a": 1}
    every = kubernaut("logs", "retry-demo", "--state", state)
    assert every.code == 0
    headers = [line for line in every.out.splitlines() if line.startswith("==> ")]
    pod = "retry-demo-flaky-pod-retry1, container step-execute" if engine == "tekton" else "retry-demo-flaky-8c2fa3-2-"
    assert headers[0].startswith("==> step flaky, attempt 2 (pod ") and pod in headers[0]
    assert headers[1].startswith("==> step after, attempt 1 (pod ")
    assert json.loads(every.out.splitlines()[-1]) == {"outputs": {"b": 2}}  # echo prints its inputs


def test_logs_errors_are_clear(tmp_path: Path, retry_files: tuple[Path, Path]) -> None:
    workflow, outcomes = retry_files
    state = saved_run(tmp_path, workflow, "jobs", outcomes)
    cases = {
        ("--step", "nope"): "workflow retry-demo has no step 'nope' (steps: flaky, after)",
        ("--step", "flaky", "--attempt", "3"): "step 'flaky' has no attempt 3 (attempts: 1, 2)",
        ("--attempt", "1"): "--attempt needs --step",
    }
    for args, message in cases.items():
        result = kubernaut("logs", "retry-demo", *args, "--state", state)
        assert (result.code, result.err) == (1, f"kubernaut: {message}\n"), args
    unknown = kubernaut("logs", "other", "--state", state)
    assert (unknown.code, unknown.err) == (1, 'kubernaut: workflowexecution "other" not found\n')


def test_bad_state_files(tmp_path: Path) -> None:
    missing = kubernaut("get", "--state", tmp_path / "nope.json")
    assert missing.code == 1 and "nope.json: no such file" in missing.err
    garbage = write(tmp_path, "garbage.json", "{not json")
    result = kubernaut("describe", "x", "--state", garbage)
    assert result.code == 1 and "garbage.json:1:2: not JSON" in result.err and "Traceback" not in result.err
    other = write(tmp_path, "other.json", '{"kind": "List", "items": []}')
    assert "not a kubernaut state file" in kubernaut("logs", "x", "--state", other).err
    both = kubernaut("get", "--state", other, "--context", "prod")
    assert both.code == 2 and "--state reads a file" in both.err


def test_load_state_round_trip(tmp_path: Path) -> None:
    state = saved_run(tmp_path, ECHO, "jobs")
    saved = load_state(state)
    assert saved.saved_at is not None and saved.saved_at.isoformat() == "2026-01-01T00:00:02+00:00"
    jobs = saved.list("batch/v1", "Job", "default", {"kubernaut.ai/step": "produce"}).items
    assert [j["metadata"]["name"] for j in jobs] == ["echo-data-passing-produce-8e5615-1"]


def test_describe_shows_failure_details_when_the_status_has_them(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from reconciler.inspect import save_state

    failure = {"reason": "ActionFailed", "message": "disk full", "exitCode": 1, "retryable": True}
    wfe = {"apiVersion": "workflowexecution.kubernaut.ai/v1alpha1", "kind": "WorkflowExecution",
           "metadata": {"name": "wf", "namespace": "ops", "creationTimestamp": "2026-01-01T00:00:00Z"},
           "spec": {"steps": [{"name": "a"}]},
           "status": {"phase": "Failed", "engine": "jobs", "message": "step 'a' failed: disk full",
                      "failureDetails": {"step": "a", **failure},
                      "steps": [{"name": "a", "phase": "Failed", "attempts": 1, "message": "disk full",
                                 "failure": failure}]}}
    state = tmp_path / "state.json"
    save_state(state, [wfe], [], datetime(2026, 1, 1, 0, 5, tzinfo=UTC))
    out = kubernaut("describe", "wf", "--state", state).out
    assert "Failure:         ActionFailed in step a: disk full (exit code 1, retryable)\n" in out
    assert "    Failure:      ActionFailed: disk full (exit code 1, retryable)\n    Message:      disk full\n" in out
    assert out.endswith("Events:          <none>\n")
