"""Issue 5 acceptance (1): `kubernaut/echo` steps pass typed and interpolated references, `$$(`
literals, workflow identity and the workspace path; true and false guards; skipping by reference.
The echo action's outputs are its inputs, so each step's outputs show exactly what it received."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from jobs_engine_harness import Harness, echo_step, workflow

from targets.jobs import escape_env_value

ROOT = Path(__file__).resolve().parents[3]


def _rich_workflow() -> dict[str, Any]:
    steps = "".join([
        echo_step("produce", inputs={"replicas": 3, "enabled": True, "sha": "abc123", "labels": {"team": "payments"},
                                     "ratio": 0.5, "nothing": None, "list": [1, "two"]}),
        echo_step("consume", inputs={
            "count": "$(steps.produce.outputs.replicas)",
            "labels": "$(steps.produce.outputs.labels)",
            "list": "$(steps.produce.outputs.list)",
            "nothing": "$(steps.produce.outputs.nothing)",
            "summary": "sha=$(steps.produce.outputs.sha) replicas=$(steps.produce.outputs.replicas) "
                       "enabled=$(steps.produce.outputs.enabled) labels=$(steps.produce.outputs.labels) "
                       "ratio=$(steps.produce.outputs.ratio) nothing=$(steps.produce.outputs.nothing)",
            "identity": "$(workflow.name)/$(workflow.namespace)",
            "uid": "$(workflow.uid)",
            "workspace": "$(workspace.path)/repo",
            "nested": {"deep": ["$(steps.produce.outputs.sha)", {"n": "$(steps.produce.outputs.replicas)"}]},
        }, usesWorkspace=True),
        echo_step("guard-true", inputs={"ran": True}, when=["$(steps.produce.outputs.enabled) == 'true'",
                                                          "$(steps.produce.outputs.replicas) in [1, 3]"]),
        echo_step("guard-false", inputs={"ran": True}, when=["$(steps.produce.outputs.sha) notin ['abc123']"]),
        echo_step("after-skipped", after=["guard-false"], inputs={"ran": True}),
        echo_step("uses-skipped", inputs={"x": "$(steps.guard-false.outputs.ran)"}),
        echo_step("guards-on-skipped", inputs={"ran": True},
                  when=["$(steps.uses-skipped.outputs.x) == true"]),
        echo_step("last", after=["consume", "guard-true", "after-skipped", "guards-on-skipped"],
                  inputs={"got": "$(steps.consume.outputs.count)", "ok": "$(steps.guard-true.outputs.ran)"}),
    ])
    return workflow("rich", steps)


def test_rich_workflow_ends_with_exactly_the_expected_outputs_and_skips() -> None:
    h = Harness()
    created = h.create(_rich_workflow())
    assert h.run()
    uid = created["metadata"]["uid"]
    status = h.status("rich")
    assert status["phase"] == "Succeeded", status
    steps = {s["name"]: s for s in status["steps"]}
    assert list(steps) == ["produce", "consume", "guard-true", "guard-false", "after-skipped", "uses-skipped",
                           "guards-on-skipped", "last"]
    assert steps["produce"]["outputs"] == {"replicas": 3, "enabled": True, "sha": "abc123",
                                           "labels": {"team": "payments"}, "ratio": 0.5, "nothing": None,
                                           "list": [1, "two"]}
    assert steps["consume"]["outputs"] == {
        "count": 3,
        "labels": {"team": "payments"},
        "list": [1, "two"],
        "nothing": None,
        "summary": 'sha=abc123 replicas=3 enabled=true labels={"team":"payments"} ratio=0.5 nothing=null',
        "identity": "rich/default",
        "uid": uid,
        "workspace": "/workspace/repo",
        "nested": {"deep": ["abc123", {"n": 3}]},
    }
    assert steps["guard-true"]["outputs"] == {"ran": True}
    assert steps["after-skipped"]["outputs"] == {"ran": True}  # skipping does not cascade by itself
    assert steps["last"]["outputs"] == {"got": 3, "ok": True}
    assert (steps["guard-false"]["phase"], steps["guard-false"]["message"]) == (
        "Skipped", "when guard is false: $(steps.produce.outputs.sha) notin ['abc123']")
    assert (steps["uses-skipped"]["phase"], steps["uses-skipped"]["message"]) == (
        "Skipped", "outputs of skipped step 'guard-false' are missing")
    # A guard reading a skipped step cannot be resolved, so `==` is false: the guard decides
    # first (Tekton's order), which is why `last` (not reading its outputs) still runs.
    assert (steps["guards-on-skipped"]["phase"], steps["guards-on-skipped"]["message"]) == (
        "Skipped", "when guard is false: $(steps.uses-skipped.outputs.x) == true")
    for name in ("guard-false", "uses-skipped", "guards-on-skipped"):
        assert steps[name]["attempts"] == 0 and steps[name]["outputs"] is None
    # Skipped steps never got an ActionExecution nor a Job.
    ran = {ae["spec"]["step"] for ae in h.objects("ActionExecution", "rich")}
    assert ran == {"produce", "consume", "guard-true", "after-skipped", "last"}
    assert {j.label("kubernaut.ai/step") for j in h.job_creations()} == ran


def test_shipped_example_runs_with_the_documented_results() -> None:
    h = Harness()
    h.create(yaml.safe_load((ROOT / "examples" / "echo-data-passing.yaml").read_text()))
    assert h.run()
    steps = {s["name"]: s for s in h.status("echo-data-passing")["steps"]}
    assert h.status("echo-data-passing")["phase"] == "Succeeded"
    assert steps["consume"]["outputs"]["count"] == 3
    assert steps["consume"]["outputs"]["labels"] == {"team": "payments"}
    assert steps["consume"]["outputs"]["summary"] == "sha=abc123 replicas=3"
    assert steps["only-when-enabled"]["outputs"] == {"ran": True}
    assert steps["never"]["phase"] == "Skipped"


def _literal_run() -> tuple[Harness, dict[str, Any]]:
    h = Harness()
    h.create(workflow("literal", echo_step("lit", inputs={
        "shell": "echo $$(date) in $(workflow.namespace)", "ref": "$$(steps.x.outputs.y)", "plain": "$HOME $$"})))
    assert h.run()
    return h, h.step("literal", "lit")


def test_dollar_literals_are_resolved_before_the_job_and_escaped_for_the_kubelet() -> None:
    h, _ = _literal_run()
    (ae,) = h.objects("ActionExecution", "literal")
    resolved = {"shell": "echo $(date) in default", "ref": "$(steps.x.outputs.y)", "plain": "$HOME $$"}
    assert ae["spec"]["resolvedInputs"] == resolved
    (job,) = h.objects("Job", "literal")
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    # What the kubelet turns back into exactly the resolved inputs ($$ -> $).
    assert env["ACTION_INPUTS"] == escape_env_value(json.dumps(resolved, separators=(",", ":")))


def test_dollar_literals_reach_the_action_as_written() -> None:
    _, step = _literal_run()
    assert step["outputs"] == {"shell": "echo $(date) in default", "ref": "$(steps.x.outputs.y)", "plain": "$HOME $$"}
