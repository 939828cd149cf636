"""Data passing through the simulated meta-Task: compiled workflows, kubernaut/echo run as a
local entrypoint, results in TaskRun status — and the V1 resolver's values."""

from __future__ import annotations

import json
import sys
from typing import Any

from tekton_sim_helpers import (
    NS,
    ROOT,
    TEKTON,
    condition,
    echo_step,
    lower,
    lower_file,
    result,
)

from compiler.expressions import Context, resolve_inputs
from targets.common.naming import child_name


def test_echo_data_passing_runs_like_the_workflow_says(tekton_run: Any) -> None:
    run = tekton_run(lower_file(ROOT / "examples/echo-data-passing.yaml"))
    run.create()
    pr = run.run()

    assert condition(pr) == ("True", "Completed", "Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 1")
    assert pr["status"]["completionTime"]
    assert run.skipped() == {"never": "When Expressions evaluated to false"}
    consumed = run.outputs("consume")
    # Whole references keep their JSON type; references in longer strings are text.
    assert consumed["count"] == 3
    assert consumed["labels"] == {"team": "payments"}
    assert consumed["summary"] == "sha=abc123 replicas=3"
    # `$$(` reaches the action as `$(`, through Tekton and the kubelet untouched.
    assert consumed["shell"] == "echo $(date) in default"
    assert "$" not in result(run.taskrun("consume"), "outputs")  # hidden as \u0024 for the kubelet
    assert result(run.taskrun("produce"), "guardValues") == ["true", "abc123"]
    assert run.outputs("only-when-enabled") == {"ran": True}
    assert run.tekton.taskruns.processes_started == 3


def test_outputs_equal_what_the_v1_resolver_computes(tekton_run: Any) -> None:
    wf = lower_file(ROOT / "examples/echo-data-passing.yaml")
    run = tekton_run(wf)
    run.create()
    pr = run.run()

    outputs = {name: run.outputs(name) for name in run.taskruns()}
    for step in wf.steps:
        if step.name not in outputs:
            continue
        ctx = Context(outputs={s: o for s, o in outputs.items() if s != step.name}, workflow_name=wf.name,
                      workflow_namespace=wf.namespace or NS, workflow_uid=pr["metadata"]["uid"])
        # kubernaut/echo prints its inputs: the TaskRun's outputs are the resolved inputs.
        assert outputs[step.name] == resolve_inputs(step.inputs, ctx), step.name


def test_workflow_identity_comes_from_the_pipelinerun_params(tekton_run: Any) -> None:
    wf = lower(echo_step("who", '{uid: "$(workflow.uid)", name: "$(workflow.name)", ns: "$(workflow.namespace)", '
                                'at: "$(workspace.path)"}', "usesWorkspace: true"),
               extra_spec="workspace: {size: 1Gi}")
    run = tekton_run(wf)

    def set_uid(pr: dict[str, Any]) -> None:
        for param in pr["spec"]["params"]:
            if param["name"] == "workflowUid":
                param["value"] = "wfe-uid-1234"  # what the V2 engine writes

    run.create(pr_patch=set_uid)
    run.run()
    assert run.outputs("who") == {"uid": "wfe-uid-1234", "name": "wf", "ns": NS, "at": "/workspace"}


def test_default_workflow_uid_is_the_pipelineruns_context_uid(tekton_run: Any) -> None:
    run = tekton_run(lower(echo_step("who", '{uid: "$(workflow.uid)"}')))
    run.create()
    pr = run.run()
    # The param is $(context.pipelineRun.uid); Tekton applies context variables after params.
    assert run.outputs("who") == {"uid": pr["metadata"]["uid"]}
    params = {p["name"]: p["value"] for p in run.taskrun("who")["spec"]["params"]}
    assert params["workflowUid"] == pr["metadata"]["uid"]


def test_literal_dollars_and_tricky_text_arrive_intact(tekton_run: Any) -> None:
    wf = lower(echo_step("a", '{text: "cost $$(price) and $$HOME, \\"quoted\\" <b>&amp;</b> ünï"}')
               + echo_step("b", '{copy: "$(steps.a.outputs.text)", again: "x $(steps.a.outputs.text) y"}'))
    run = tekton_run(wf)
    run.create()
    run.run()
    text = 'cost $(price) and $$HOME, "quoted" <b>&amp;</b> ünï'
    assert run.outputs("a") == {"text": text}
    assert run.outputs("b") == {"copy": text, "again": f"x {text} y"}


def test_taskrun_is_shaped_like_tektons(tekton_run: Any) -> None:
    wf = lower(echo_step("first", "{n: 1}", "retries: 2\ntimeout: 2m\nusesWorkspace: true")
               + echo_step("second", '{m: "$(steps.first.outputs.n)"}', "usesWorkspace: true"),
               extra_spec="workspace: {size: 2Gi}")
    run = tekton_run(wf)
    run.create()
    pr = run.run()
    tr = run.taskrun("second")
    meta, spec = tr["metadata"], tr["spec"]

    assert meta["name"] == child_name("wf", "-second") == "wf-second"
    labels = meta["labels"]
    assert labels["tekton.dev/pipelineRun"] == "wf"
    assert labels["tekton.dev/pipelineTask"] == "second"
    assert labels["tekton.dev/pipeline"] == "wf"
    assert labels["tekton.dev/task"] == "kubernaut-action"
    assert labels["tekton.dev/memberOf"] == "tasks"
    assert labels["kubernaut.ai/step"] == "second"  # from taskRunSpecs[].metadata
    assert meta["ownerReferences"] == [{"apiVersion": TEKTON, "kind": "PipelineRun", "name": "wf",
                                        "uid": pr["metadata"]["uid"], "controller": True,
                                        "blockOwnerDeletion": True}]
    params = {p["name"]: p["value"] for p in spec["params"]}
    assert params["upstreamSteps"] == ["first"]  # array params stay arrays
    assert [json.loads(v) for v in params["upstreamOutputs"]] == [{"n": 1}]
    assert spec["taskRef"] == {"name": "kubernaut-action"}
    assert spec["timeout"] == "10m0s"
    assert spec["serviceAccountName"].startswith("kubernaut-kubernaut-echo-")
    assert spec["podTemplate"]["automountServiceAccountToken"] is False
    assert spec["podTemplate"]["securityContext"]["runAsNonRoot"] is True  # merged with the template
    assert run.taskrun("first")["spec"]["retries"] == 2
    assert run.taskrun("first")["spec"]["timeout"] == "2m0s"
    assert "retries" not in spec

    (pvc,) = run.sim.cluster.list("v1", "PersistentVolumeClaim", NS).items
    assert pvc["metadata"]["name"].startswith("pvc-") and len(pvc["metadata"]["name"]) == 14
    assert pvc["metadata"]["ownerReferences"][0]["uid"] == pr["metadata"]["uid"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "2Gi"
    for name in ("first", "second"):
        assert run.taskrun(name)["spec"]["workspaces"] == [
            {"name": "workspace", "persistentVolumeClaim": {"claimName": pvc["metadata"]["name"]}}]
    assert tr["status"]["podName"] == "wf-second-pod"
    assert [s["name"] for s in tr["status"]["steps"]] == ["resolve-inputs", "execute", "publish-outputs"]
    assert all(s["terminated"]["exitCode"] == 0 for s in tr["status"]["steps"])
    assert tr["status"]["taskSpec"]["steps"][1]["name"] == "execute"


def test_service_account_of_the_template_applies_without_a_task_override(tekton_run: Any) -> None:
    wf = lower(echo_step("only"), extra_spec="serviceAccountName: custom-sa")
    run = tekton_run(wf)
    run.create()
    run.run()
    assert run.taskrun("only")["spec"]["serviceAccountName"] == "custom-sa"


def test_the_action_reads_its_inputs_on_stdin_and_in_the_env(tekton_run: Any) -> None:
    probe = ("import json,os,sys; s=sys.stdin.read(); "
             "print(json.dumps({'stdin': json.loads(s), 'env': json.loads(os.environ['ACTION_INPUTS']), "
             "'step': os.environ.get('KUBERNAUT_STEP')}))")
    run = tekton_run(lower(echo_step("p", '{a: [1, "$$(x)"]}')),
                     entrypoints={"kubernaut/echo": (sys.executable, "-c", probe)})
    run.create()
    run.run()
    assert run.outputs("p") == {"stdin": {"a": [1, "$(x)"]}, "env": {"a": [1, "$(x)"]}, "step": "p"}
