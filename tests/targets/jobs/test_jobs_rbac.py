"""Least-privilege RBAC per action type."""

from __future__ import annotations

from collections.abc import Callable

from compiler import ir
from targets.jobs import rbac_for
from targets.jobs.metadata import ACTION_TYPE, MANAGED_BY, WORKFLOW


def test_kinds_in_dependency_order_and_roles_only_for_permissions(workflow: Callable[..., ir.Workflow],
                                                                  step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("scale", action_type="kubernetes/scale_deployment"), step("echo"),
                  step("again", action_type="kubernetes/scale_deployment"), step("x", action_type="acme/x"),
                  namespace="ops")
    docs = rbac_for(wf)
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("ServiceAccount", "kubernaut-kubernetes-scale-deployment"),
        ("ServiceAccount", "kubernaut-kubernaut-echo"),
        ("ServiceAccount", "kubernaut-acme-x"),
        ("Role", "kubernaut-kubernetes-scale-deployment"),
        ("RoleBinding", "kubernaut-kubernetes-scale-deployment"),
    ]
    account, echo, no_contract, role, binding = docs
    assert "automountServiceAccountToken" not in account
    assert echo["automountServiceAccountToken"] is False
    assert no_contract["automountServiceAccountToken"] is False
    assert role["rules"] == [{"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["get", "patch"]}]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": "kubernaut-kubernetes-scale-deployment"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kubernaut-kubernetes-scale-deployment",
                                    "namespace": "ops"}]


def test_shared_objects_carry_no_workflow_label(workflow: Callable[..., ir.Workflow],
                                                step: Callable[..., ir.Step]) -> None:
    # Pruning one workflow's objects by its label must never delete another workflow's RBAC.
    for doc in rbac_for(workflow(step("s", action_type="kubernetes/scale_deployment"))):
        assert doc["metadata"]["labels"] == {MANAGED_BY: "kubernaut",
                                             ACTION_TYPE: "kubernetes-scale-deployment"}
        assert WORKFLOW not in doc["metadata"]["labels"]
        assert "namespace" not in doc["metadata"]


def test_identical_across_workflows(workflow: Callable[..., ir.Workflow], step: Callable[..., ir.Step]) -> None:
    s = step("s", action_type="kubernetes/scale_deployment")
    assert rbac_for(workflow(s, name="one")) == rbac_for(workflow(s, name="two"))


def test_none_when_the_workflow_names_its_account(workflow: Callable[..., ir.Workflow],
                                                  step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("s", action_type="kubernetes/scale_deployment"), service_account_name="mine")
    assert rbac_for(wf) == []


def test_resource_names_are_kept_and_empty_lists_dropped(workflow: Callable[..., ir.Workflow],
                                                         step: Callable[..., ir.Step]) -> None:
    contract = ir.ContractInfo(action_type="a/b", permissions=(
        ir.PolicyRule(apiGroups=("",), resources=("configmaps",), resourceNames=("cfg",), verbs=("get",)),
        ir.PolicyRule(verbs=("get",)),
    ))
    (_, role, _) = rbac_for(workflow(step("s", action_type="a/b"), contracts={"a/b": contract}))
    assert role["rules"] == [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cfg"],
                              "verbs": ["get"]}, {"verbs": ["get"]}]
