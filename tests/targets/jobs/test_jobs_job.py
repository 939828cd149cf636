"""The Job of one attempt."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler import ir
from targets.common.failures import STDERR_FILE, script_failure_lines
from targets.jobs import SCRIPT, escape_env_value, job_for_attempt, unescape_env_value
from targets.jobs.job import TERMINATION_LOG, pod_failure_policy
from targets.jobs.metadata import ACTION_TYPE, ATTEMPT, STEP, WORKFLOW
from targets.jobs.names import rbac_name


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


def _run_script(tmp_path: Path, action: str) -> tuple[int, str, str]:
    """Run the Job's SCRIPT with /bin/sh, its paths moved into ``tmp_path``: exit status, the
    termination-log file, and stderr (the log)."""
    entrypoint = tmp_path / "entrypoint"
    entrypoint.write_text("#!/bin/sh\n" + action)
    entrypoint.chmod(0o755)
    log = tmp_path / "termination-log"
    script = (SCRIPT.replace("/action-entrypoint", str(entrypoint)).replace(TERMINATION_LOG, str(log))
              .replace(STDERR_FILE, str(tmp_path / "stderr")))
    done = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, check=False)
    return done.returncode, log.read_text(), done.stderr


def test_script_keeps_outputs_and_the_exit_status(tmp_path: Path) -> None:
    code, message, _ = _run_script(tmp_path, "echo 'warn' >&2\necho '{\"a\": 1}'\n")
    assert (code, message) == (0, '{"a": 1}\n')
    assert "$(" not in SCRIPT and "$$" not in SCRIPT  # nothing for the kubelet to expand


def test_script_writes_the_last_stderr_lines_of_a_failed_action(tmp_path: Path) -> None:
    action = "echo '{\"partial\": 1}'\nfor i in 1 2 3 4 5 6; do echo \"line $i\" >&2; done\necho >&2\n" \
             "echo 'error: boom' >&2\nexit 3\n"
    code, message, log = _run_script(tmp_path, action)
    assert code == 3
    assert message == "line 3\nline 4\nline 5\nline 6\nerror: boom\n" == script_failure_lines(log)
    assert log.splitlines()[-1] == "error: boom"  # replayed to the log


def test_no_value_reaches_the_script(workflow: Callable[..., ir.Workflow], step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("s", inputs={"cmd": "'; rm -rf / #"}))
    container = _pod(job_for_attempt(wf, wf.steps[0], 1, wf.steps[0].inputs))["containers"][0]
    assert container["command"] == ["/bin/sh", "-c", SCRIPT]
    assert container["terminationMessagePolicy"] == "File"
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
    assert _pod(scale)["serviceAccountName"] == rbac_name("kubernetes/scale_deployment", wf.steps[0].image)
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


def test_pod_failure_policy_stops_non_retryable_codes_and_ignores_disruptions(
        workflow: Callable[..., ir.Workflow], step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("s", action_type="acme/x"))
    codes = ir.ContractInfo(action_type="acme/x", non_retryable_exit_codes=(3, 4))
    wf = wf.model_copy(update={"contracts": {"acme/x": codes}})
    job = job_for_attempt(wf, wf.steps[0], 1, {})
    assert job["spec"]["podFailurePolicy"] == {"rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": "action", "operator": "In", "values": [3, 4]}},
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]}
    assert _pod(job)["restartPolicy"] == "Never"  # podFailurePolicy requires it
    plain = workflow(step("s", action_type="acme/y"))
    assert pod_failure_policy(plain, plain.steps[0]) == {"rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]}


def test_a_step_overrides_its_contract_resources(workflow: Callable[..., ir.Workflow],
                                                 step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("scale", action_type="kubernetes/scale_deployment",
                       resources=ir.Resources(limits={"memory": "256Mi"}, requests={"cpu": "100m"})))
    job = job_for_attempt(wf, wf.steps[0], 1, {})
    assert _pod(job)["containers"][0]["resources"] == {"requests": {"cpu": "100m", "memory": "64Mi"},
                                                       "limits": {"memory": "256Mi"}}
