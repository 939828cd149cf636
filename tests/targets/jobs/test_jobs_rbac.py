"""Least-privilege RBAC per action type."""

from __future__ import annotations

from collections.abc import Callable

from compiler import ir
from targets.common.labels import IMAGE_DIGEST
from targets.jobs import action_type_slug, rbac_for
from targets.jobs.metadata import ACTION_TYPE, MANAGED_BY, WORKFLOW
from targets.jobs.names import rbac_name

from .conftest import IMAGE, PRIVILEGED


def test_kinds_in_dependency_order_and_roles_only_for_permissions(workflow: Callable[..., ir.Workflow],
                                                                  step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("scale", action_type="kubernetes/scale_deployment"), step("echo"),
                  step("again", action_type="kubernetes/scale_deployment"), step("x", action_type="acme/x"),
                  namespace="ops")
    docs = rbac_for(wf)
    scale = rbac_name("kubernetes/scale_deployment", IMAGE)
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("ServiceAccount", scale),
        ("ServiceAccount", rbac_name("kubernaut/echo", IMAGE)),
        ("ServiceAccount", rbac_name("acme/x", IMAGE)),
        ("Role", scale),
        ("RoleBinding", scale),
    ]
    account, echo, no_contract, role, binding = docs
    assert "automountServiceAccountToken" not in account
    assert echo["automountServiceAccountToken"] is False
    assert no_contract["automountServiceAccountToken"] is False
    assert role["rules"] == [{"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["get", "patch"]}]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": scale}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": scale, "namespace": "ops"}]


def test_shared_objects_carry_no_workflow_label(workflow: Callable[..., ir.Workflow],
                                                step: Callable[..., ir.Step]) -> None:
    # Pruning one workflow's objects by its label must never delete another workflow's RBAC.
    for doc in rbac_for(workflow(step("s", action_type="kubernetes/scale_deployment"))):
        assert doc["metadata"]["labels"] == {MANAGED_BY: "kubernaut",
                                             ACTION_TYPE: action_type_slug("kubernetes/scale_deployment")}
        # For the reviewer: whom the permissions are for, verbatim.
        assert doc["metadata"]["annotations"] == {ACTION_TYPE: "kubernetes/scale_deployment",
                                                  IMAGE_DIGEST: IMAGE.rpartition("@")[2]}
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


def test_one_account_per_action_type_and_image(workflow: Callable[..., ir.Workflow],
                                               step: Callable[..., ir.Step]) -> None:
    # Two images of one action type: each gets its own account and Role (granted to its digest).
    other = IMAGE.rpartition("@")[0] + "@sha256:" + "c" * 64
    wf = workflow(step("a", action_type="kubernetes/scale_deployment"),
                  step("b", action_type="kubernetes/scale_deployment", image=other),
                  step("c", action_type="kubernetes/scale_deployment"))
    roles = [d for d in rbac_for(wf) if d["kind"] == "Role"]
    assert [r["metadata"]["name"] for r in roles] == [rbac_name("kubernetes/scale_deployment", IMAGE),
                                                      rbac_name("kubernetes/scale_deployment", other)]
    digests = [r["metadata"]["annotations"][IMAGE_DIGEST] for r in roles]
    assert digests == [IMAGE.rpartition("@")[2], "sha256:" + "c" * 64]


def test_look_alike_action_types_never_share_rbac(workflow: Callable[..., ir.Workflow],
                                                  step: Callable[..., ir.Step]) -> None:
    look_alike = ir.ContractInfo(action_type="kubernetes.scale-deployment")
    wf = workflow(step("a", action_type="kubernetes/scale_deployment"),
                  step("b", action_type="kubernetes.scale-deployment"),
                  contracts={c.action_type: c for c in (PRIVILEGED, look_alike)})
    docs = rbac_for(wf)
    accounts = [d["metadata"]["name"] for d in docs if d["kind"] == "ServiceAccount"]
    assert len(set(accounts)) == 2
    (binding,) = [d for d in docs if d["kind"] == "RoleBinding"]
    assert binding["subjects"][0]["name"] == accounts[0]  # only the scale_deployment account is bound
