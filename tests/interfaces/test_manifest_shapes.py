"""The emitted shapes of both interfaces: what runs, under which user, and what never gets in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from interface_harness import GOLDEN, UPSTREAM

import targets.jobs
import targets.tekton
from compiler import ir
from compiler.frontend import compile_files
from reconciler.simulation.kubelet import expand
from targets.jobs import job_for_attempt
from targets.tekton.env_runtime import checked_inputs, env_result_files
from targets.tekton.generated import encode_input_schema
from targets.tekton.runtime import TaskError

CONTRACTS = Path(__file__).resolve().parent / "contracts"


def _workflow(case: str, contracts: Path) -> ir.Workflow:
    (wf,) = compile_files([GOLDEN / case / "workflow.yaml"], [contracts]).workflows
    return wf


def _env(container: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in container["env"]:
        out[item["name"]] = expand(item["value"], out)  # what the kubelet gives the process
    return out


def test_env_job_runs_the_image_entrypoint_as_the_contract_user() -> None:
    wf = _workflow("env-action", CONTRACTS)
    job = job_for_attempt(wf, wf.step("patch"), 1, {"TARGET_NAME": "web-1", "REPLICAS": 3, "GIT_PASSWORD": "x"})
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert "command" not in container and "args" not in container
    env = _env(container)
    assert env["TARGET_NAME"] == "web-1" and env["REPLICAS"] == "3" and env["MODE"] == ""
    assert "GIT_PASSWORD" not in env and "ACTION_INPUTS" not in env  # never delivered
    assert env["KUBERNAUT_OUTPUTS"] == "/dev/termination-log"
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 1001, "runAsGroup": 1001,
                                      "fsGroup": 1001, "seccompProfile": {"type": "RuntimeDefault"}}


def test_upstream_job_keeps_the_image_user() -> None:
    wf = _workflow("upstream-scale-replicas", UPSTREAM / "scale-replicas")
    pod = job_for_attempt(wf, wf.steps[0], 1, dict(wf.steps[0].inputs))["spec"]["template"]["spec"]
    assert "runAsUser" not in pod["securityContext"] and pod["securityContext"]["runAsNonRoot"] is True
    assert pod["serviceAccountName"] == "scale-replicas-v1-runner"
    # The operator's account: kubernaut emits no account or Role for it.
    assert [d["kind"] for d in targets.jobs.compile_workflow(wf)
            if d["kind"] in {"ServiceAccount", "Role", "RoleBinding"}] == []


def test_kubernaut_job_never_delivers_an_undeclared_input() -> None:
    (wf,) = compile_files([GOLDEN / "seed-single-action" / "workflow.yaml"]).workflows
    step = wf.steps[0]
    job = job_for_attempt(wf, step, 1, {**step.inputs, "GIT_PASSWORD": "hunter2"})
    assert "hunter2" not in str(job)


def test_tekton_env_task_runs_the_image_entrypoint_with_step_results() -> None:
    wf = _workflow("env-action", CONTRACTS)
    docs = targets.tekton.compile_workflow(wf)
    task = next(d for d in docs if d["kind"] == "Task" and "-env-" in d["metadata"]["name"])
    steps = {s["name"]: s for s in task["spec"]["steps"]}
    execute = steps["execute"]
    assert not {"command", "args", "script"} & set(execute)
    env = {e["name"]: e["value"] for e in execute["env"]}
    assert env["TARGET_NAME"] == "$(steps.resolve-inputs.results.input0)"
    assert env["LABELS"] == "$(steps.resolve-inputs.results.input5)"
    assert env["KUBERNAUT_OUTPUTS"] == "/kubernaut/outputs.json"
    assert [r["name"] for r in steps["resolve-inputs"]["results"]] == [f"input{n}" for n in range(6)]
    # The helpers keep kubernaut's user; the action's pod gets the contract's (or the image's).
    assert steps["resolve-inputs"]["securityContext"]["runAsUser"] == 65532
    run = next(d for d in docs if d["kind"] == "PipelineRun")
    spec = next(s for s in run["spec"]["taskRunSpecs"] if s["pipelineTaskName"] == "patch")
    assert spec["podTemplate"]["securityContext"]["runAsUser"] == 1001
    pipeline = next(d for d in docs if d["kind"] == "Pipeline")
    assert next(t for t in pipeline["spec"]["tasks"] if t["name"] == "patch")["taskRef"] == {
        "name": task["metadata"]["name"]}


def test_resolve_inputs_refuses_and_filters_like_v1() -> None:
    wf = _workflow("env-action", CONTRACTS)
    schema = encode_input_schema(wf, wf.step("patch"))
    assert schema is not None and "$" not in schema
    kept = checked_inputs({"TARGET_NAME": "web-1", "REPLICAS": 3}, schema, "patch")
    assert kept == {"TARGET_NAME": "web-1", "REPLICAS": 3}
    try:
        checked_inputs({"TARGET_NAME": "web-1", "GIT_PASSWORD": "hunter2"}, schema, "patch")
    except TaskError as exc:
        assert "input 'GIT_PASSWORD' is not declared" in exc.message and "hunter2" not in exc.message
    else:
        raise AssertionError("an undeclared input was accepted")
    files = env_result_files({"A": {"x": [1, True]}, "B": 2.5, "C": "t"},
                             '{"A": "/r/0", "B": "/r/1", "C": "/r/2", "D": "/r/3"}')
    assert files == {"/r/0": '{"x":[1,true]}', "/r/1": "2.5", "/r/2": "t", "/r/3": ""}


def test_an_env_action_may_have_a_writable_root_on_both_engines(tmp_path: Path) -> None:
    writable = "  runAsUser: 1001\n  readOnlyRootFilesystem: false\n"
    contract = (CONTRACTS / "patch-config.yaml").read_text().replace("  runAsUser: 1001\n", writable)
    (tmp_path / "patch-config.yaml").write_text(contract)
    wf = _workflow("env-action", tmp_path)
    assert targets.tekton.check_workflow(wf) == []  # no KN070: the generated Task follows the contract
    task = next(d for d in targets.tekton.compile_workflow(wf) if d["kind"] == "Task" and "-env-" in
                d["metadata"]["name"])
    execute = next(s for s in task["spec"]["steps"] if s["name"] == "execute")
    job = job_for_attempt(wf, wf.step("patch"), 1, {"TARGET_NAME": "web-1"})
    assert execute["securityContext"]["readOnlyRootFilesystem"] is False
    assert job["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is False
