"""The Job of one attempt."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

import pytest

from compiler import ir
from targets.jobs import SCRIPT, escape_env_value, job_for_attempt, unescape_env_value
from targets.jobs.metadata import ACTION_TYPE, ATTEMPT, STEP, WORKFLOW


def _pod(job: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = job["spec"]["template"]["spec"]
    return spec


def _env(job: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in _pod(job)["containers"][0]["env"]}


def test_attempt_numbering_labels_and_env(workflow: Callable[..., ir.Workflow], step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("scale", action_type="kubernetes/scale_deployment", timeout_seconds=120), namespace="ops")
    job = job_for_attempt(wf, wf.steps[0], 3, {"replicas": 4})
    assert job["metadata"]["name"] == "wf-scale-3"
    assert job["metadata"]["namespace"] == "ops"
    assert job["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "kubernaut", WORKFLOW: "wf",
                                         STEP: "scale", ATTEMPT: "3"}
    assert job["metadata"]["annotations"] == {ACTION_TYPE: "kubernetes/scale_deployment"}
    assert job["spec"]["template"]["metadata"]["labels"] == job["metadata"]["labels"]
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] == 120
    assert job["spec"]["ttlSecondsAfterFinished"] == 3600
    assert _env(job) == {"ACTION_INPUTS": '{"replicas":4}', "KUBERNAUT_WORKFLOW": "wf", "KUBERNAUT_STEP": "scale",
                         "KUBERNAUT_ATTEMPT": "3"}


def test_resolved_inputs_are_what_the_controller_passes(workflow: Callable[..., ir.Workflow],
                                                        step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("b", inputs={"x": "$(steps.a.outputs.y)"}))
    job = job_for_attempt(wf, wf.steps[0], 1, {"x": [1, "ü"]})
    assert _env(job)["ACTION_INPUTS"] == '{"x":[1,"ü"]}'


@pytest.mark.parametrize("text", ["$(HOME)", "$$(date)", "a $ b", "$$$", "trailing $", "$(KUBERNAUT_STEP)"])
def test_env_escape_survives_kubelet_expansion(text: str) -> None:
    escaped = escape_env_value(text)
    assert unescape_env_value(escaped) == text
    assert _kubelet_expand(escaped, {"HOME": "/root", "KUBERNAUT_STEP": "b"}) == text


def _kubelet_expand(value: str, env: dict[str, str]) -> str:
    """k8s.io/kubernetes third_party/forked/golang/expansion.Expand, for the test's sake."""
    out, i = [], 0
    while i < len(value):
        if value[i] == "$" and i + 1 < len(value):
            nxt = value[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = value.find(")", i + 2)
                if end != -1:
                    name = value[i + 2:end]
                    out.append(env.get(name, f"$({name})"))
                    i = end + 1
                    continue
            out.append("$" + nxt)
            i += 2
            continue
        out.append(value[i])
        i += 1
    return "".join(out)


def test_script_is_a_constant_that_keeps_the_exit_status() -> None:
    assert shlex.split(SCRIPT.replace(";", " ; ")) == [
        "/action-entrypoint", ">", "/dev/termination-log", ";", "rc=$?", ";", "cat", "/dev/termination-log", ";",
        "exit", "$rc"]
    assert "$(" not in SCRIPT and "$$" not in SCRIPT  # nothing for the kubelet to expand


def test_no_value_reaches_the_script(workflow: Callable[..., ir.Workflow], step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("s", inputs={"cmd": "'; rm -rf / #"}))
    container = _pod(job_for_attempt(wf, wf.steps[0], 1, wf.steps[0].inputs))["containers"][0]
    assert container["command"] == ["/bin/sh", "-c", SCRIPT]
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert json.loads(_env({"spec": {"template": {"spec": {"containers": [container]}}}})["ACTION_INPUTS"]) == {
        "cmd": "'; rm -rf / #"}


def test_resources_and_security_follow_the_contract(workflow: Callable[..., ir.Workflow],
                                                    step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("scale", action_type="kubernetes/scale_deployment"), step("echo"),
                  step("unknown", action_type="acme/x"))
    scale, echo, unknown = (job_for_attempt(wf, s, 1, s.inputs) for s in wf.steps)
    assert _pod(scale)["containers"][0]["resources"] == {"requests": {"cpu": "50m", "memory": "64Mi"},
                                                         "limits": {"memory": "128Mi"}}
    assert "resources" not in _pod(unknown)["containers"][0]
    assert _pod(scale)["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    assert _pod(echo)["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is False  # contract says so
    assert _pod(unknown)["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    # Only an action with permissions gets an API token.
    assert "automountServiceAccountToken" not in _pod(scale)
    assert _pod(echo)["automountServiceAccountToken"] is False
    assert _pod(unknown)["automountServiceAccountToken"] is False
    assert _pod(scale)["serviceAccountName"] == "kubernaut-kubernetes-scale-deployment"
    assert _pod(scale)["restartPolicy"] == "Never"
    assert _pod(scale)["securityContext"]["runAsNonRoot"] is True


def test_user_account_is_used_and_left_alone(workflow: Callable[..., ir.Workflow],
                                             step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("echo"), service_account_name="mine")
    pod = _pod(job_for_attempt(wf, wf.steps[0], 1, {}))
    assert pod["serviceAccountName"] == "mine"
    assert "automountServiceAccountToken" not in pod


def test_workspace_and_tmp_volumes(workflow: Callable[..., ir.Workflow], step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("uses", uses_workspace=True), step("not"))
    with_ws, without = (_pod(job_for_attempt(wf, s, 1, {})) for s in wf.steps)
    assert with_ws["volumes"] == [{"name": "tmp", "emptyDir": {}},
                                  {"name": "workspace", "persistentVolumeClaim": {"claimName": "wf-workspace"}}]
    assert with_ws["containers"][0]["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"},
                                                        {"name": "workspace", "mountPath": "/workspace"}]
    assert without["volumes"] == [{"name": "tmp", "emptyDir": {}}]
    assert without["containers"][0]["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]


def test_pure_and_fresh(workflow: Callable[..., ir.Workflow], step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("a", inputs={"k": {"nested": [1]}}))
    first = job_for_attempt(wf, wf.steps[0], 1, wf.steps[0].inputs)
    first["spec"]["template"]["spec"]["securityContext"]["runAsUser"] = 0
    assert job_for_attempt(wf, wf.steps[0], 1, wf.steps[0].inputs)["spec"]["template"]["spec"][
        "securityContext"]["runAsUser"] != 0
