"""The V2 engine runs a workflow as one PipelineRun and reports it in kubernaut's status shape:
data passing, guards, the objects it creates and who owns them."""

from __future__ import annotations

from pathlib import Path

import yaml
from tekton_engine_harness import NS, TEKTON, Harness, condition, step, wfe_condition, workflow

ROOT = Path(__file__).resolve().parents[3]


def example() -> dict[str, object]:
    doc = yaml.safe_load((ROOT / "examples" / "echo-data-passing.yaml").read_text())
    doc["spec"]["engine"] = "tekton"
    return doc


def test_the_echo_example_passes_typed_and_interpolated_values() -> None:
    h = Harness()
    h.create(example())
    assert h.run()
    status = h.status("echo-data-passing")
    assert (status["phase"], status["engine"], status.get("message")) == ("Succeeded", "tekton", None)
    assert h.steps("echo-data-passing") == {"produce": ("Succeeded", 1), "consume": ("Succeeded", 1),
                                            "only-when-enabled": ("Succeeded", 1), "never": ("Skipped", 0)}
    consume = h.step("echo-data-passing", "consume")
    assert consume["outputs"] == {"count": 3, "labels": {"team": "payments"},
                                  "summary": "sha=abc123 replicas=3", "shell": "echo $(date) in default"}
    assert h.messages("echo-data-passing")["never"] == (
        "when guard is false: $(steps.produce.outputs.sha) notin ['abc123', 'def456']")
    assert wfe_condition(status, "Succeeded") == ("True", "Succeeded", "all steps finished")
    assert status["startTime"] and status["completionTime"]
    assert all(s["startTime"] and s["completionTime"] for s in status["steps"] if s["phase"] == "Succeeded")


def test_dollars_and_the_workflow_identity_survive_tekton() -> None:
    h = Harness()
    created = h.create(workflow("ids", step("a", inputs={"text": "cost: $$(price) $$5 $HOME", "who": "x"})
                                + step("b", inputs={"uid": "$(steps.a.outputs.who)-$(workflow.uid)",
                                                    "name": "$(workflow.name)", "text": "$(steps.a.outputs.text)"})))
    assert h.run()
    assert h.step("ids", "a")["outputs"] == {"text": "cost: $(price) $$5 $HOME", "who": "x"}
    # The PipelineRun carries the WorkflowExecution's uid, not its own.
    assert h.step("ids", "b")["outputs"] == {"uid": f"x-{created['metadata']['uid']}", "name": "ids",
                                             "text": "cost: $(price) $$5 $HOME"}


def test_objects_are_owned_and_the_shared_ones_are_not() -> None:
    h = Harness()
    created = h.create(workflow("owned", step("a") + step("b", after=["a"], usesWorkspace=True)))
    assert h.run()
    uid = created["metadata"]["uid"]
    pr = h.pipelinerun("owned")
    assert [(r["kind"], r["uid"], r["controller"]) for r in pr["metadata"]["ownerReferences"]] == [
        ("WorkflowExecution", uid, True)]
    assert {p["name"]: p["value"] for p in pr["spec"]["params"]}["workflowUid"] == uid
    assert pr["metadata"]["labels"]["kubernaut.ai/workflow"] == "owned"
    assert condition(pr)[0] == "True"
    pipeline = h.cluster.get(TEKTON, "Pipeline", "owned", NS)
    assert [r["uid"] for r in pipeline["metadata"]["ownerReferences"]] == [uid]
    # The meta-Task and the RBAC serve every workflow: no owner, no workflow label.
    task = h.cluster.get(TEKTON, "Task", "kubernaut-action", NS)
    assert "ownerReferences" not in task["metadata"]
    assert "kubernaut.ai/workflow" not in task["metadata"]["labels"]
    (account,) = h.objects("ServiceAccount")  # kubernaut/echo needs no Role
    assert account["metadata"]["name"].startswith("kubernaut-kubernaut-echo-")
    assert "ownerReferences" not in account["metadata"]
    # The workspace claim comes from the run's volumeClaimTemplate and belongs to the run.
    (claim,) = h.objects("PersistentVolumeClaim")
    assert [r["kind"] for r in claim["metadata"]["ownerReferences"]] == ["PipelineRun"]
    # Deleting the workflow takes its Tekton objects with it, but not the shared ones.
    h.cluster.delete("workflowexecution.kubernaut.ai/v1alpha1", "WorkflowExecution", "owned", NS)
    assert h.run_until(lambda: not h.objects("WorkflowExecution"))
    assert not h.objects("PipelineRun") and not h.objects("TaskRun") and not h.objects("Pipeline")
    assert not h.objects("PersistentVolumeClaim")
    assert h.objects("Task") and h.objects("ServiceAccount")


def test_the_pipelinerun_is_created_once_and_never_patched() -> None:
    h = Harness()
    h.create(workflow("once", step("a", inputs={"x": 1}) + step("b", inputs={"x": "$(steps.a.outputs.x)"})))
    assert h.run()
    assert h.status("once")["phase"] == "Succeeded"
    writes = [r for r in h.cluster.requests if r.kind == "PipelineRun" and r.verb in ("create", "update", "apply")]
    # One create by kubernaut; every other write is Tekton's (the simulation adds a label).
    assert [r.verb for r in writes].count("create") == 1
    assert not [r for r in writes if r.verb == "apply"]
    adds = [s for s in h.seen("PipelineRun") if s.type == "ADDED"]
    assert len(adds) == 1


def test_two_workflows_share_the_meta_task() -> None:
    h = Harness()
    h.create(workflow("one", step("a")))
    h.create(workflow("two", step("a")))
    assert h.run()
    assert [h.status(n)["phase"] for n in ("one", "two")] == ["Succeeded", "Succeeded"]
    assert [t["metadata"]["name"] for t in h.objects("Task")] == ["kubernaut-action"]
    assert sorted(p["metadata"]["name"] for p in h.objects("PipelineRun")) == ["one", "two"]
