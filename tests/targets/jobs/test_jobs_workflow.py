"""compile_workflow, the workspace claim and the ActionExecution record."""

from __future__ import annotations

from collections.abc import Callable

from compiler import ir
from targets.jobs import ActionExecution, action_execution, compile_workflow, workspace_claim
from targets.jobs.names import rbac_name

from .conftest import IMAGE


def test_order_rbac_claim_then_execution_and_job_per_step(workflow: Callable[..., ir.Workflow],
                                                          step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("scale", action_type="kubernetes/scale_deployment"), step("b", uses_workspace=True))
    assert [(d["kind"], d["metadata"]["name"]) for d in compile_workflow(wf)] == [
        ("ServiceAccount", rbac_name("kubernetes/scale_deployment", IMAGE)),
        ("ServiceAccount", rbac_name("kubernaut/echo", IMAGE)),
        ("Role", rbac_name("kubernetes/scale_deployment", IMAGE)),
        ("RoleBinding", rbac_name("kubernetes/scale_deployment", IMAGE)),
        ("PersistentVolumeClaim", "wf-workspace"),
        ("ActionExecution", "wf-scale"),
        ("Job", "wf-scale-1"),
        ("ActionExecution", "wf-b"),
        ("Job", "wf-b-1"),
    ]


def test_deterministic(workflow: Callable[..., ir.Workflow], step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("a", inputs={"z": 1, "a": 2}), step("b"))
    assert compile_workflow(wf) == compile_workflow(wf.model_copy(deep=True))


def test_workspace_claim(workflow: Callable[..., ir.Workflow], step: Callable[..., ir.Step]) -> None:
    assert workspace_claim(workflow(step("a"))) is None
    wf = workflow(step("a", uses_workspace=True), namespace="ns",
                  workspace=ir.WorkspaceSpec(size="5Gi", storage_class_name="fast"))
    assert workspace_claim(wf) == {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "wf-workspace", "namespace": "ns",
                     "labels": {"app.kubernetes.io/managed-by": "kubernaut", "kubernaut.ai/workflow": "wf"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}},
                 "storageClassName": "fast"},
    }


def test_action_execution_record(workflow: Callable[..., ir.Workflow], step: Callable[..., ir.Step]) -> None:
    guard = ir.Guard(source="$(steps.a.outputs.ok) == 'true'", left_ref=ir.Ref(kind="step", step="a", key="ok"),
                     op="==", values=("true",))
    wf = workflow(step("a"), step("b", inputs={"v": "$(steps.a.outputs.v)"}, uses_workspace=True, retries=2,
                                  timeout_seconds=30, dependencies=("a",), guards=(guard,)))
    doc = action_execution(wf, wf.steps[1])
    assert doc["apiVersion"] == "actionexecution.kubernaut.ai/v1alpha1" and doc["kind"] == "ActionExecution"
    assert doc["metadata"]["name"] == "wf-b"
    assert doc["metadata"]["annotations"] == {"kubernaut.ai/action-type": "kubernaut/echo"}
    assert doc["spec"] == {
        "workflowName": "wf", "step": "b", "actionType": "kubernaut/echo", "image": wf.steps[1].image,
        "inputs": {"v": "$(steps.a.outputs.v)"}, "usesWorkspace": True, "workspaceClaimName": "wf-workspace",
        "retries": 2, "timeoutSeconds": 30, "serviceAccountName": rbac_name("kubernaut/echo", IMAGE),
        "dependencies": ["a"], "when": ["$(steps.a.outputs.ok) == 'true'"],
    }
    assert ActionExecution.model_validate(doc).spec.retries == 2
    plain = action_execution(wf, wf.steps[0])["spec"]
    assert "workspaceClaimName" not in plain and "when" not in plain and plain["dependencies"] == []
