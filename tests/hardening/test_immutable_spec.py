"""Item 1 of issue 15, API-server side: once created, a workflow's spec cannot change apart from
``cancel``, and an ActionExecution's not at all apart from ``cancel`` — by the CRDs' CEL transition
rules, which MemoryCluster enforces like the API server (422 Invalid with the rule's message)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from reconciler.cluster import Invalid
from reconciler.cluster.memory import MemoryCluster
from targets.crds import SchemaError, immutable_spec_rule

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "registry.example/actions/scale@sha256:" + "a" * 64
MESSAGE = "spec is immutable once created, apart from spec.cancel"


def _wfe() -> dict[str, Any]:
    return {
        "apiVersion": "workflowexecution.kubernaut.ai/v1alpha1",
        "kind": "WorkflowExecution",
        "metadata": {"name": "fix", "namespace": "prod"},
        "spec": {"steps": [{"name": "scale", "actionType": "kubernetes/scale_deployment", "image": IMAGE,
                            "inputs": {"replicas": 3}}]},
    }


def _ae() -> dict[str, Any]:
    return {
        "apiVersion": "actionexecution.kubernaut.ai/v1alpha1",
        "kind": "ActionExecution",
        "metadata": {"name": "fix-scale", "namespace": "prod"},
        "spec": {"workflowName": "fix", "step": "scale", "actionType": "kubernetes/scale_deployment",
                 "image": IMAGE, "timeoutSeconds": 600, "serviceAccountName": "kubernaut-scale",
                 "resolvedInputs": {"replicas": 3}},
    }


def _edited(cluster: MemoryCluster, obj: dict[str, Any], edit: Any) -> dict[str, Any]:
    stored = copy.deepcopy(cluster.create(obj))
    edit(stored["spec"])
    return stored


def test_changing_a_step_image_is_refused_with_422() -> None:
    cluster = MemoryCluster()
    changed = _edited(cluster, _wfe(), lambda spec: spec["steps"][0].update(image=IMAGE.replace("a" * 64, "b" * 64)))
    with pytest.raises(Invalid) as refused:
        cluster.update(changed)
    assert (refused.value.status, refused.value.reason) == (422, "Invalid")
    assert refused.value.message == (f'WorkflowExecution.workflowexecution.kubernaut.ai "fix" is invalid: spec: '
                                  f'Invalid value: "object": {MESSAGE}')
    stored = cluster.get("workflowexecution.kubernaut.ai/v1alpha1", "WorkflowExecution", "fix", "prod")
    assert stored["spec"]["steps"][0]["image"] == IMAGE


@pytest.mark.parametrize("edit", [
    pytest.param(lambda spec: spec.update(serviceAccountName="cluster-admin"), id="add-serviceAccountName"),
    pytest.param(lambda spec: spec["steps"][0]["inputs"].update(replicas=30), id="input"),
    pytest.param(lambda spec: spec["steps"].append(dict(spec["steps"][0], name="again")), id="add-step"),
    pytest.param(lambda spec: spec["steps"][0].update(actionType="kubernetes/delete_namespace"), id="actionType"),
])
def test_every_other_spec_change_is_refused(edit: Any) -> None:
    cluster = MemoryCluster()
    with pytest.raises(Invalid, match=MESSAGE):
        cluster.update(_edited(cluster, _wfe(), edit))


def test_cancel_is_accepted_and_so_are_status_and_metadata_writes() -> None:
    cluster = MemoryCluster()
    updated = cluster.update(_edited(cluster, _wfe(), lambda spec: spec.update(cancel=True)))
    assert updated["spec"]["cancel"] is True
    updated = copy.deepcopy(updated)
    updated["metadata"]["labels"] = {"team": "sre"}
    assert cluster.update(updated)["metadata"]["labels"] == {"team": "sre"}
    patched = cluster.patch_status("workflowexecution.kubernaut.ai/v1alpha1", "WorkflowExecution", "fix", "prod",
                                   {"phase": "Cancelled"})
    assert patched["status"] == {"phase": "Cancelled"}


def test_action_execution_spec_is_immutable_apart_from_cancel() -> None:
    cluster = MemoryCluster()
    with pytest.raises(Invalid, match=MESSAGE):
        cluster.update(_edited(cluster, _ae(), lambda spec: spec.update(image=IMAGE.replace("a" * 64, "c" * 64))))
    cluster = MemoryCluster()
    with pytest.raises(Invalid, match=MESSAGE):
        cluster.update(_edited(cluster, _ae(), lambda spec: spec.update(serviceAccountName="default")))
    cluster = MemoryCluster()
    assert cluster.update(_edited(cluster, _ae(), lambda spec: spec.update(cancel=True)))["spec"]["cancel"] is True


def test_the_generated_crds_carry_the_rule() -> None:
    for file, fields in (("workflowexecution.yaml", ("steps", "serviceAccountName")),
                         ("actionexecution.yaml", ("image", "serviceAccountName"))):
        crd = yaml.safe_load((ROOT / "deploy" / "crds" / file).read_text(encoding="utf-8"))
        spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        [rule] = spec["x-kubernetes-validations"]
        assert rule["message"] == MESSAGE
        assert "oldSelf" in rule["rule"] and "cancel" not in rule["rule"]
        for field in fields:
            assert f"self.{field} == oldSelf.{field}" in rule["rule"]


def test_a_spec_field_cel_cannot_name_as_is_is_a_schema_error() -> None:
    # The API server would expose `namespace` as `__namespace__` only: the generator refuses it.
    class Reserved(BaseModel):
        namespace: str

    with pytest.raises(SchemaError, match="'namespace'"):
        immutable_spec_rule(Reserved)


def test_removing_an_optional_field_is_a_change_too() -> None:
    cluster = MemoryCluster()
    wfe = _wfe()
    wfe["spec"]["timeout"] = "10m"
    with pytest.raises(Invalid, match=MESSAGE):
        cluster.update(_edited(cluster, wfe, lambda spec: spec.pop("timeout")))
