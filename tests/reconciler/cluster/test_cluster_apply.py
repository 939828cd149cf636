"""Server-side apply: create, merge, managed fields, removal of dropped fields, no-op, conflicts."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest

from reconciler.cluster import Conflict, Invalid
from reconciler.cluster.memory import MemoryCluster

if TYPE_CHECKING:
    from conftest import Builders


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return dict(obj["metadata"].get("labels") or {})


def test_apply_creates_when_absent(cluster: MemoryCluster, make: Builders) -> None:
    created = cluster.apply(make.configmap(labels={"app": "x"}))
    assert created["metadata"]["resourceVersion"] == "1" and created["metadata"]["generation"] == 1
    assert cluster.requests[-1].status_code == 201
    [entry] = created["metadata"]["managedFields"]
    assert entry["manager"] == "kubernaut" and entry["operation"] == "Apply"
    assert entry["fieldsType"] == "FieldsV1" and entry["time"] == "2026-01-01T00:00:00Z"
    assert entry["fieldsV1"] == {"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}


def test_reapply_of_the_same_object_writes_nothing(cluster: MemoryCluster, make: Builders) -> None:
    first = cluster.apply(make.job())
    watch = cluster.watch("batch/v1", "Job")
    second = cluster.apply(make.job())
    assert second == first
    assert watch.next() is None
    record = cluster.requests[-1]
    assert record.verb == "apply" and record.no_op and record.status_code == 200
    assert cluster.resource_version == first["metadata"]["resourceVersion"]


def test_apply_merges_maps_and_keeps_fields_set_by_others(cluster: MemoryCluster, make: Builders) -> None:
    cluster.apply(make.configmap(labels={"app": "x"}))
    other = cluster.get("v1", "ConfigMap", "cm")
    other["metadata"]["labels"]["added-by"] = "someone"
    other["data"]["theirs"] = "1"
    cluster.update(other)
    merged = cluster.apply(make.configmap(data={"key": "v2"}, labels={"app": "x"}))
    assert _labels(merged) == {"app": "x", "added-by": "someone"}
    assert merged["data"] == {"key": "v2", "theirs": "1"}


def test_fields_the_manager_stops_applying_are_removed(cluster: MemoryCluster, make: Builders) -> None:
    cluster.apply(make.configmap(data={"a": "1", "b": "2"}, labels={"one": "1", "two": "2"}))
    after = cluster.apply(make.configmap(data={"a": "1"}, labels={"one": "1"}))
    assert after["data"] == {"a": "1"} and _labels(after) == {"one": "1"}
    assert after["metadata"]["managedFields"][0]["fieldsV1"] == {
        "f:data": {"f:a": {}}, "f:metadata": {"f:labels": {"f:one": {}}}}
    bare = cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}})
    assert "data" not in bare and "labels" not in bare["metadata"]
    assert "managedFields" not in bare["metadata"]


def test_removal_spares_fields_owned_by_another_manager(cluster: MemoryCluster, make: Builders) -> None:
    cluster.apply(make.configmap(data={"shared": "1", "mine": "1"}), field_manager="a")
    cluster.apply(make.configmap(data={"shared": "1"}), field_manager="b")
    after = cluster.apply(make.configmap(data={"mine": "1"}), field_manager="a")
    assert after["data"] == {"shared": "1", "mine": "1"}
    assert {e["manager"] for e in after["metadata"]["managedFields"]} == {"a", "b"}


def test_dropping_a_map_keeps_what_others_wrote_inside_it(cluster: MemoryCluster, make: Builders) -> None:
    wf = make.workflow()
    wf["spec"]["options"] = {"mine": "1"}
    cluster.apply(wf)
    current = cluster.get(wf["apiVersion"], wf["kind"], "wf")
    current["spec"]["options"]["theirs"] = "2"  # a plain update: not a tracked manager
    cluster.update(current)
    del wf["spec"]["options"]
    assert cluster.apply(wf)["spec"]["options"] == {"theirs": "2"}
    current = cluster.get(wf["apiVersion"], wf["kind"], "wf")
    current["spec"]["options"] = {}
    cluster.update(current)
    wf["spec"]["options"] = {"mine": "1"}
    cluster.apply(wf)
    del wf["spec"]["options"]
    assert "options" not in cluster.apply(wf)["spec"]  # emptied by the removal: gone


def test_lists_of_named_maps_merge_by_name_and_other_lists_are_atomic(
    cluster: MemoryCluster, make: Builders
) -> None:
    # A PipelineRun: a WorkflowExecution's spec is immutable (its CRD's CEL rule).
    wf = make.pipeline_run("wf")
    wf["spec"] = {"steps": [{"name": "a", "action": "x"}, {"name": "b", "action": "y"}], "tags": ["p", "q"]}
    cluster.apply(wf, field_manager="kubernaut")
    sidecar = {"apiVersion": wf["apiVersion"], "kind": wf["kind"], "metadata": {"name": "wf"},
               "spec": {"steps": [{"name": "b", "timeout": "5m"}, {"name": "injected", "action": "z"}]}}
    cluster.apply(sidecar, field_manager="other")
    wf2 = copy.deepcopy(wf)
    wf2["spec"]["steps"] = [{"name": "a", "action": "x2"}, {"name": "b", "action": "y"}]
    wf2["spec"]["tags"] = ["r"]
    result = cluster.apply(wf2, field_manager="kubernaut")
    assert result["spec"]["steps"] == [
        {"name": "a", "action": "x2"}, {"name": "b", "action": "y", "timeout": "5m"},
        {"name": "injected", "action": "z"}]
    assert result["spec"]["tags"] == ["r"]
    wf3 = copy.deepcopy(wf2)
    wf3["spec"]["steps"] = [{"name": "a", "action": "x2"}]  # kubernaut drops step b
    result = cluster.apply(wf3, field_manager="kubernaut")
    # b stays: "other" owns a field in it; kubernaut's own field in b (action) is gone
    assert result["spec"]["steps"] == [
        {"name": "a", "action": "x2"}, {"name": "b", "timeout": "5m"}, {"name": "injected", "action": "z"}]
    key = 'k:{"name":"a"}'
    mine = next(e for e in result["metadata"]["managedFields"] if e["manager"] == "kubernaut")
    assert mine["fieldsV1"]["f:spec"]["f:steps"][key] == {".": {}, "f:action": {}}


def test_finalizers_merge_as_a_set(cluster: MemoryCluster, make: Builders) -> None:
    cluster.apply(make.configmap(finalizers=["a.io/one"]), field_manager="a")
    merged = cluster.apply(make.configmap(finalizers=["b.io/two"]), field_manager="b")
    assert merged["metadata"]["finalizers"] == ["a.io/one", "b.io/two"]
    dropped = cluster.apply(make.configmap(finalizers=[]), field_manager="a")
    assert dropped["metadata"]["finalizers"] == ["b.io/two"]


def test_conflicts_with_another_manager(cluster: MemoryCluster, make: Builders) -> None:
    cluster.apply(make.configmap(data={"key": "theirs"}), field_manager="other")
    with pytest.raises(Conflict, match=r'conflict with "other": \.data\.key'):
        cluster.apply(make.configmap(data={"key": "mine"}), field_manager="me", force=False)
    # same value: shared ownership, no conflict
    cluster.apply(make.configmap(data={"key": "theirs"}), field_manager="me", force=False)
    forced = cluster.apply(make.configmap(data={"key": "mine"}), field_manager="me", force=True)
    assert forced["data"] == {"key": "mine"}
    owners = {e["manager"]: e["fieldsV1"] for e in forced["metadata"]["managedFields"]}
    assert "f:key" in owners["me"]["f:data"]
    assert "f:key" not in owners.get("other", {}).get("f:data", {})


def test_apply_resource_version_precondition(cluster: MemoryCluster, make: Builders) -> None:
    created = cluster.apply(make.configmap())
    cluster.apply(make.configmap(data={"key": "v2"}))
    stale = make.configmap(data={"key": "v3"}, resourceVersion=created["metadata"]["resourceVersion"])
    with pytest.raises(Conflict):
        cluster.apply(stale)


def test_apply_ignores_server_metadata_and_bumps_generation_on_spec_changes(
    cluster: MemoryCluster, make: Builders
) -> None:
    created = cluster.apply(make.workflow())
    relabelled = cluster.apply(make.workflow(labels={"a": "b"}, uid=created["metadata"]["uid"], generation=9))
    assert relabelled["metadata"]["generation"] == 1
    changed = make.workflow()
    changed["spec"]["cancel"] = True  # the one field of a workflow's spec that may change
    assert cluster.apply(changed)["metadata"]["generation"] == 2


def test_job_defaults_survive_reapply_but_template_changes_are_422(
    cluster: MemoryCluster, make: Builders
) -> None:
    job = cluster.apply(make.job())
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert job["spec"]["template"]["metadata"]["labels"]["job-name"] == "job"
    assert cluster.apply(make.job()) == job  # server defaults are not "changes"
    with pytest.raises(Invalid) as info:
        cluster.apply(make.job(image="other"))
    assert info.value.status == 422 and "spec.template" in info.value.message
    assert "field is immutable" in info.value.message
    with pytest.raises(Invalid):
        cluster.update(make.job())  # a naive full update lacks the generated selector
    mutable = cluster.get("batch/v1", "Job", "job")
    mutable["spec"]["backoffLimit"] = 3
    mutable["metadata"]["labels"] = {"new": "label"}
    assert cluster.update(mutable)["metadata"]["generation"] == 2
    selector = cluster.get("batch/v1", "Job", "job")
    selector["spec"]["selector"] = {"matchLabels": {"x": "y"}}
    with pytest.raises(Invalid, match=r"spec\.selector"):
        cluster.update(selector)


def test_pvc_spec_is_immutable_except_storage_requests(cluster: MemoryCluster) -> None:
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "ws"},
           "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    cluster.apply(pvc)
    pvc["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert cluster.apply(pvc)["spec"]["resources"]["requests"]["storage"] == "2Gi"
    pvc["spec"]["accessModes"] = ["ReadWriteMany"]
    with pytest.raises(Invalid, match="is invalid: spec"):
        cluster.apply(pvc)


def test_pod_allows_image_changes_only(cluster: MemoryCluster) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "a", "command": ["x"]}]}}
    cluster.create(pod)
    current = cluster.get("v1", "Pod", "p")
    current["spec"]["containers"][0]["image"] = "b"
    current = cluster.update(current)
    current["spec"]["containers"][0]["command"] = ["y"]
    with pytest.raises(Invalid):
        cluster.update(current)


def test_apply_requires_a_name(cluster: MemoryCluster) -> None:
    with pytest.raises(Invalid, match="name is required"):
        cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "x-"}})
