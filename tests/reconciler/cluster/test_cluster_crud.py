"""Create / get / list / update: server-set fields, concurrency, naming, validation, discovery."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

import pytest

from reconciler.clock import VirtualClock
from reconciler.cluster import BadRequest, Cluster, Conflict, Invalid, NotFound
from reconciler.cluster.memory import MemoryCluster

if TYPE_CHECKING:
    from conftest import Builders


def test_memory_cluster_satisfies_the_protocol(cluster: MemoryCluster) -> None:
    assert isinstance(cluster, Cluster)


def test_create_sets_server_fields(cluster: MemoryCluster, clock: VirtualClock, make: Builders) -> None:
    clock.advance(61.7)
    created = cluster.create(make.configmap())
    meta = created["metadata"]
    assert uuid.UUID(meta["uid"]).version == 4
    assert meta["creationTimestamp"] == "2026-01-01T00:01:01Z"
    assert meta["generation"] == 1
    assert meta["resourceVersion"] == "1"
    assert meta["namespace"] == "default"
    assert cluster.get("v1", "ConfigMap", "cm") == created


def test_client_supplied_server_fields_are_ignored_on_create(cluster: MemoryCluster, make: Builders) -> None:
    obj = make.configmap(uid="mine", generation=9, creationTimestamp="1999-01-01T00:00:00Z",
                         deletionTimestamp="1999-01-01T00:00:00Z")
    meta = cluster.create(obj)["metadata"]
    assert meta["uid"] != "mine" and meta["generation"] == 1
    assert meta["creationTimestamp"] == "2026-01-01T00:00:00Z" and "deletionTimestamp" not in meta
    with pytest.raises(BadRequest):
        cluster.create(make.configmap("other", resourceVersion="5"))


def test_uids_are_deterministic_with_a_seed_and_unique(make: Builders) -> None:
    def uids(seed: int | None) -> list[str]:
        c = MemoryCluster(seed=seed, clock=VirtualClock())
        return [c.create(make.configmap(f"cm{i}"))["metadata"]["uid"] for i in range(5)]

    assert uids(1) == uids(1)
    assert uids(1) != uids(2)
    assert len(set(uids(None))) == 5


def test_resource_version_is_one_global_increasing_counter(cluster: MemoryCluster, make: Builders) -> None:
    versions = [
        cluster.create(make.configmap("a"))["metadata"]["resourceVersion"],
        cluster.create(make.job("j"))["metadata"]["resourceVersion"],
        cluster.create(make.configmap("b", namespace="other"))["metadata"]["resourceVersion"],
    ]
    a = cluster.get("v1", "ConfigMap", "a")
    a["data"] = {"k": "2"}
    versions.append(cluster.update(a)["metadata"]["resourceVersion"])
    assert [int(v) for v in versions] == [1, 2, 3, 4]
    assert cluster.list("v1", "ConfigMap").resource_version == "4" == cluster.resource_version


def test_get_missing_and_duplicate_create(cluster: MemoryCluster, make: Builders) -> None:
    with pytest.raises(NotFound) as missing:
        cluster.get("v1", "ConfigMap", "nope")
    assert missing.value.message == 'configmaps "nope" not found'
    cluster.create(make.job("j"))
    with pytest.raises(Conflict) as dup:
        cluster.create(make.job("j"))
    assert dup.value.reason == "AlreadyExists" and dup.value.status == 409
    assert dup.value.message == 'jobs.batch "j" already exists'
    cluster.create(make.job("j", namespace="elsewhere"))  # names are per namespace


def test_update_optimistic_concurrency(cluster: MemoryCluster, make: Builders) -> None:
    first = cluster.create(make.configmap())
    second = cluster.get("v1", "ConfigMap", "cm")
    first["data"] = {"writer": "one"}
    cluster.update(first)
    second["data"] = {"writer": "two"}
    with pytest.raises(Conflict) as stale:
        cluster.update(second)
    assert stale.value.reason == "Conflict" and "has been modified" in stale.value.message
    assert cluster.get("v1", "ConfigMap", "cm")["data"] == {"writer": "one"}
    del second["metadata"]["resourceVersion"]  # an unconditional update is allowed
    assert cluster.update(second)["data"] == {"writer": "two"}


def test_update_with_another_uid_is_a_conflict(cluster: MemoryCluster, make: Builders) -> None:
    old = cluster.create(make.configmap())
    cluster.delete("v1", "ConfigMap", "cm")
    cluster.create(make.configmap())
    del old["metadata"]["resourceVersion"]
    with pytest.raises(Conflict, match="UID in precondition"):
        cluster.update(old)


def test_update_missing_is_404(cluster: MemoryCluster, make: Builders) -> None:
    with pytest.raises(NotFound):
        cluster.update(make.configmap())


def test_generation_changes_only_with_the_desired_state(cluster: MemoryCluster, make: Builders) -> None:
    wf = cluster.create(make.workflow())
    wf["metadata"]["labels"] = {"changed": "yes"}
    wf = cluster.update(wf)
    assert wf["metadata"]["generation"] == 1
    wf = cluster.patch_status(wf["apiVersion"], wf["kind"], "wf", None, {"phase": "Running"})
    assert wf["metadata"]["generation"] == 1
    wf["spec"]["cancel"] = True  # the one field of a workflow's spec that may change
    assert cluster.update(wf)["metadata"]["generation"] == 2
    cm = cluster.create(make.configmap())
    cm["data"] = {"new": "data"}  # outside spec, but not metadata or status: still desired state
    assert cluster.update(cm)["metadata"]["generation"] == 2


def test_identical_update_is_a_no_op(cluster: MemoryCluster, make: Builders) -> None:
    cm = cluster.create(make.configmap())
    watch = cluster.watch("v1", "ConfigMap")
    again = cluster.update(cm)
    assert again["metadata"]["resourceVersion"] == cm["metadata"]["resourceVersion"]
    assert watch.next() is None
    assert cluster.requests[-1].no_op


def test_namespace_defaulting_and_cluster_scoped_kinds(cluster: MemoryCluster, make: Builders) -> None:
    cluster.create(make.configmap("a"))
    cluster.create(make.configmap("b", namespace="ops"))
    assert cluster.get("v1", "ConfigMap", "a", "default")["metadata"]["namespace"] == "default"
    with pytest.raises(NotFound):
        cluster.get("v1", "ConfigMap", "b")  # not in "default"
    assert [o["metadata"]["name"] for o in cluster.list("v1", "ConfigMap").items] == ["a", "b"]
    assert [o["metadata"]["name"] for o in cluster.list("v1", "ConfigMap", "ops").items] == ["b"]
    ns = cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops", "namespace": "x"}})
    assert "namespace" not in ns["metadata"]
    assert cluster.get("v1", "Namespace", "ops", "ignored")["metadata"]["name"] == "ops"


def test_list_orders_by_namespace_then_name_and_filters_by_selector(
    cluster: MemoryCluster, make: Builders
) -> None:
    for name, ns, app in [("z", "a", "web"), ("b", "b", "db"), ("a", "b", "web"), ("m", "a", "db")]:
        cluster.create(make.configmap(name, namespace=ns, labels={"app": app}))
    listed = cluster.list("v1", "ConfigMap")
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in listed.items] == [
        ("a", "m"), ("a", "z"), ("b", "a"), ("b", "b")]
    web = cluster.list("v1", "ConfigMap", label_selector="app in (web)")
    assert [o["metadata"]["name"] for o in web.items] == ["z", "a"]
    assert [o["metadata"]["name"] for o in cluster.list("v1", "ConfigMap", "b", {"app": "db"}).items] == ["b"]
    assert cluster.list("v1", "ConfigMap", label_selector="app!=web,app").items[0]["metadata"]["name"] == "m"
    with pytest.raises(BadRequest):
        cluster.list("v1", "ConfigMap", label_selector="app in web")
    assert cluster.requests[-1].status_code == 400


def test_generate_name(cluster: MemoryCluster, make: Builders) -> None:
    obj = make.configmap("")
    del obj["metadata"]["name"]
    obj["metadata"]["generateName"] = "run-"
    names = {cluster.create(obj)["metadata"]["name"] for _ in range(20)}
    assert len(names) == 20
    assert all(re.fullmatch(r"run-[a-z0-9]{5}", n) for n in names)
    long = dict(obj, metadata={"generateName": "x" * 80})
    assert len(cluster.create(long)["metadata"]["name"]) == 63
    seeded = [MemoryCluster(seed=3).create(obj)["metadata"]["name"] for _ in range(2)]
    assert seeded[0] == seeded[1]
    with pytest.raises(Invalid, match="name or generateName is required"):
        cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})
    assert cluster.requests[-1].status_code == 422


@pytest.mark.parametrize("meta", [
    {"name": "Upper"},
    {"name": "under_score"},
    {"name": "x" * 254},
    {"name": "ok", "namespace": "Bad_NS"},
    {"name": "ok", "labels": {"app": "has space"}},
    {"name": "ok", "labels": {"-bad": "v"}},
    {"name": "ok", "labels": {"n": 3}},
    {"name": "ok", "finalizers": [""]},
])
def test_invalid_objects_are_422(cluster: MemoryCluster, meta: dict[str, object]) -> None:
    with pytest.raises(Invalid):
        cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta})


def test_job_names_are_limited_by_the_job_name_label(cluster: MemoryCluster, make: Builders) -> None:
    with pytest.raises(Invalid, match="labels"):
        cluster.create(make.job("j" * 64))
    assert cluster.create(make.job("j" * 63))


def test_rbac_names_may_contain_colons(cluster: MemoryCluster) -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "kubernaut:runner"}, "rules": []}
    assert cluster.create(role)["metadata"]["name"] == "kubernaut:runner"


def test_non_json_bodies_are_rejected(cluster: MemoryCluster, make: Builders) -> None:
    obj = make.configmap()
    obj["data"] = {"when": object()}
    with pytest.raises(BadRequest):
        cluster.create(obj)
    with pytest.raises(BadRequest):
        cluster.create({"kind": "ConfigMap", "metadata": {"name": "x"}})


def test_copies_in_and_out(cluster: MemoryCluster, make: Builders) -> None:
    obj = make.configmap()
    created = cluster.create(obj)
    obj["data"]["key"] = "mutated"
    created["data"]["key"] = "mutated"
    cluster.get("v1", "ConfigMap", "cm")["data"]["key"] = "mutated"
    cluster.list("v1", "ConfigMap").items[0]["data"]["key"] = "mutated"
    cluster.objects()[0]["data"]["key"] = "mutated"
    assert cluster.get("v1", "ConfigMap", "cm")["data"] == {"key": "value"}
    assert "uid" not in obj["metadata"]  # the caller's object is never filled in


def test_objects_snapshot_helper(cluster: MemoryCluster, make: Builders) -> None:
    cluster.create(make.configmap("a"))
    cluster.create(make.job("j", namespace="ops"))
    assert [o["kind"] for o in cluster.objects()] == ["Job", "ConfigMap"]  # batch/v1 < v1
    assert [o["metadata"]["name"] for o in cluster.objects("Job")] == ["j"]
    assert cluster.objects(namespace="ops")[0]["kind"] == "Job"


def test_unknown_kinds_are_404_and_not_discoverable(cluster: MemoryCluster) -> None:
    assert cluster.has_kind("batch/v1", "Job")
    assert not cluster.has_kind("apps/v1", "Deployment")
    with pytest.raises(NotFound) as info:
        cluster.list("apps/v1", "Deployment")
    assert info.value.message == "the server could not find the requested resource"


def test_tekton_kinds_depend_on_tekton_being_installed(make: Builders) -> None:
    with_tekton, without = MemoryCluster(), MemoryCluster(tekton_installed=False)
    for kind in ("Task", "Pipeline", "PipelineRun", "TaskRun"):
        assert with_tekton.has_kind("tekton.dev/v1", kind)
        assert not without.has_kind("tekton.dev/v1", kind)
    assert without.has_kind("workflowexecution.kubernaut.ai/v1alpha1", "WorkflowExecution")
    with pytest.raises(NotFound, match="could not find the requested resource"):
        without.create(make.pipeline_run())
    with pytest.raises(NotFound, match="could not find the requested resource"):
        without.watch("tekton.dev/v1", "PipelineRun")
    with_tekton.create(make.pipeline_run())
    with_tekton.set_tekton_installed(False)
    assert with_tekton.objects("PipelineRun") == []
    with pytest.raises(NotFound):
        with_tekton.get("tekton.dev/v1", "PipelineRun", "pr")
    with_tekton.set_tekton_installed(True)
    assert with_tekton.list("tekton.dev/v1", "PipelineRun").items == []
