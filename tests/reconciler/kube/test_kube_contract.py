"""The ``Cluster`` contract end to end over HTTP: ``KubeCluster`` -> kmock -> ``MemoryCluster``.

``MemoryApi`` (conftest) answers every API path from a ``MemoryCluster``, whose semantics are
the API server's (resourceVersions, 409s, 422s, server-side apply, the status subresource,
finalizers, garbage collection, watches with 410). So these tests show that what the
reconciler relies on survives the trip through ``KubeCluster``'s requests and answers.
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

import pytest

from reconciler.cluster import (
    Conflict,
    FaultInjector,
    Invalid,
    NotFound,
    ServerError,
    TooManyRequests,
    Watch,
    WatchEvent,
)
from reconciler.cluster.kube import KubeCluster
from reconciler.cluster.memory import MemoryCluster

if TYPE_CHECKING:
    from conftest import KmockServer

pytestmark = pytest.mark.usefixtures("memory_api")

WF = "workflowexecution.kubernaut.ai/v1alpha1"
WAIT = 5.0


def configmap(name: str = "cm", namespace: str = "ns", data: dict[str, str] | None = None,
              **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace, **meta},
            "data": data if data is not None else {"k": "v"}}


def job(name: str = "job", image: str = "busybox", **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "ns", **meta},
            "spec": {"backoffLimit": 0, "template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "main", "image": image}]}}}}


def workflow(name: str = "wf") -> dict[str, Any]:
    return {"apiVersion": WF, "kind": "WorkflowExecution", "metadata": {"name": name, "namespace": "ns"},
            "spec": {"steps": [{"name": "a", "action": "x"}]}}


def changes(watch: Watch, count: int) -> list[WatchEvent]:
    """The next ``count`` non-BOOKMARK events (bounded wait)."""
    events: list[WatchEvent] = []
    deadline = time.monotonic() + WAIT
    while len(events) < count and time.monotonic() < deadline:
        event = watch.next(0.2)
        if event is not None and event.type != "BOOKMARK":
            events.append(event)
    return events


def test_crud_with_resource_versions_and_conflicts(kube: KubeCluster) -> None:
    created = kube.create(configmap())
    assert created["metadata"]["resourceVersion"] == "1" and created["metadata"]["uid"]
    got = kube.get("v1", "ConfigMap", "cm", "ns")
    assert got == created
    got["data"] = {"k": "v2"}
    updated = kube.update(got)
    assert updated["metadata"]["resourceVersion"] == "2"
    with pytest.raises(Conflict) as stale:
        kube.update(got)
    assert stale.value.reason == "Conflict" and not stale.value.already_exists
    with pytest.raises(Conflict) as exists:
        kube.create(configmap())
    assert exists.value.already_exists
    kube.delete("v1", "ConfigMap", "cm", "ns")
    with pytest.raises(NotFound):
        kube.get("v1", "ConfigMap", "cm", "ns")


def test_generate_name(kube: KubeCluster) -> None:
    obj = configmap()
    del obj["metadata"]["name"]
    obj["metadata"]["generateName"] = "step-"
    name = kube.create(obj)["metadata"]["name"]
    assert name.startswith("step-") and len(name) == len("step-") + 5


def test_list_selectors_namespaces_and_order(kube: KubeCluster) -> None:
    for ns, name, team in (("b", "z", "sre"), ("a", "y", "sre"), ("a", "x", "dev"), ("b", "w", "sre")):
        kube.create(configmap(name, ns, labels={"team": team}))
    everywhere = kube.list("v1", "ConfigMap", label_selector={"team": "sre"})
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in everywhere.items] == [
        ("a", "y"), ("b", "w"), ("b", "z")]
    assert everywhere.resource_version == "4"
    assert [o["metadata"]["name"] for o in kube.list("v1", "ConfigMap", "a", "team!=sre").items] == ["x"]
    assert all(o["kind"] == "ConfigMap" for o in everywhere.items)  # typed again after the wire


def test_server_side_apply(kube: KubeCluster) -> None:
    first = kube.apply(configmap(data={"a": "1", "b": "2"}, labels={"app": "x"}))
    assert [(m["manager"], m["operation"]) for m in first["metadata"]["managedFields"]] == [("kubernaut", "Apply")]
    assert kube.apply(configmap(data={"a": "1", "b": "2"}, labels={"app": "x"})) == first  # no-op
    assert kube.apply(configmap(data={"a": "1"}))["data"] == {"a": "1"}  # dropped fields removed
    with pytest.raises(Conflict):
        kube.apply(configmap(data={"a": "theirs"}), field_manager="other", force=False)
    assert kube.apply(configmap(data={"a": "theirs"}), field_manager="other")["data"] == {"a": "theirs"}


def test_dry_runs_change_nothing(kube: KubeCluster, memory: MemoryCluster) -> None:
    kube.create(configmap(), dry_run=True)
    assert memory.objects() == []
    stored = kube.create(configmap())
    changed = copy.deepcopy(stored)
    changed["data"] = {"k": "dry"}
    assert kube.update(changed, dry_run=True)["data"] == {"k": "dry"}
    assert kube.apply(configmap(data={"k": "dry"}), dry_run=True)["data"] == {"k": "dry"}
    kube.delete("v1", "ConfigMap", "cm", "ns", dry_run=True)
    assert kube.get("v1", "ConfigMap", "cm", "ns") == stored
    assert [r.dry_run for r in memory.requests if r.verb != "get"] == [True, False, True, True, True]


def test_status_subresource(kube: KubeCluster) -> None:
    created = kube.create(workflow())
    rv = created["metadata"]["resourceVersion"]
    patched = kube.patch_status(WF, "WorkflowExecution", "wf", "ns", {"phase": "Running", "message": "go"},
                                resource_version=rv)
    assert patched["status"] == {"phase": "Running", "message": "go"}
    with pytest.raises(Conflict):
        kube.patch_status(WF, "WorkflowExecution", "wf", "ns", {"phase": "Failed"}, resource_version=rv)
    assert kube.patch_status(WF, "WorkflowExecution", "wf", "ns", {"message": None})["status"] == {"phase": "Running"}
    current = kube.get(WF, "WorkflowExecution", "wf", "ns")
    current["status"] = {"phase": "Hacked"}
    assert kube.update(current)["status"] == {"phase": "Running"}
    kube.create(configmap())
    with pytest.raises(NotFound):  # no /status endpoint for a kind without the subresource
        kube.patch_status("v1", "ConfigMap", "cm", "ns", {"x": "y"})


def test_validation_errors(kube: KubeCluster) -> None:
    with pytest.raises(Invalid):
        kube.create(configmap("Not_Valid"))
    created = kube.create(job())
    created["spec"]["template"]["spec"]["containers"][0]["image"] = "alpine"
    with pytest.raises(Invalid, match="immutable"):
        kube.update(created)


def test_finalizers_and_garbage_collection(kube: KubeCluster) -> None:
    owner = kube.create(configmap("owner", finalizers=["kubernaut.ai/cleanup"]))
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    kube.create(job("child", ownerReferences=[ref]))
    kube.delete("v1", "ConfigMap", "owner", "ns", propagation="Background")
    marked = kube.get("v1", "ConfigMap", "owner", "ns")
    assert marked["metadata"]["deletionTimestamp"]  # held by its finalizer
    marked["metadata"]["finalizers"] = []
    kube.update(marked)
    with pytest.raises(NotFound):
        kube.get("v1", "ConfigMap", "owner", "ns")
    with pytest.raises(NotFound):  # the dependent went with it
        kube.get("batch/v1", "Job", "child", "ns")


def test_watch_from_a_listed_version(kube: KubeCluster) -> None:
    kube.create(configmap("before"))
    listed = kube.list("v1", "ConfigMap", "ns")
    with kube.watch("v1", "ConfigMap", "ns", resource_version=listed.resource_version) as watch:
        created = kube.create(configmap("a"))
        created["data"] = {"k": "2"}
        kube.update(created)
        kube.delete("v1", "ConfigMap", "a", "ns")
        events = changes(watch, 3)
    assert [(e.type, e.object["metadata"]["name"]) for e in events] == [
        ("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]
    assert [e.object["metadata"]["resourceVersion"] for e in events] == ["2", "3", "4"]


def test_watch_from_now_zero_and_selectors(kube: KubeCluster) -> None:
    kube.create(configmap("old", labels={"app": "x"}))
    with kube.watch("v1", "ConfigMap", "ns", label_selector="app=x") as now, \
            kube.watch("v1", "ConfigMap", "ns", label_selector="app=x", resource_version="0") as zero:
        fresh = kube.create(configmap("new", labels={"app": "x"}))
        fresh["metadata"]["labels"] = {"app": "y"}  # stops matching: leaves the watch as DELETED
        kube.update(fresh)
        assert [(e.type, e.object["metadata"]["name"]) for e in changes(now, 2)] == [
            ("ADDED", "new"), ("DELETED", "new")]
        assert [(e.type, e.object["metadata"]["name"]) for e in changes(zero, 3)] == [
            ("ADDED", "old"), ("ADDED", "new"), ("DELETED", "new")]


def test_watch_expired_version_and_closed_streams(kube: KubeCluster, memory: MemoryCluster) -> None:
    for i in range(3):
        kube.create(configmap(f"cm{i}"))
    memory.compact_history()
    with kube.watch("v1", "ConfigMap", "ns", resource_version="1") as expired:
        event = expired.next(WAIT)
        assert event is not None and event.type == "ERROR" and event.object["code"] == 410
        assert expired.next(WAIT) is None and expired.closed
    with kube.watch("v1", "ConfigMap", "ns", allow_bookmarks=True) as watch:
        kube.create(configmap("late"))
        (added,) = changes(watch, 1)
        memory.close_watches()  # the API server ends the watch: the client sees the stream end
        deadline = time.monotonic() + WAIT
        while not watch.closed and time.monotonic() < deadline:
            watch.next(0.1)
        assert watch.closed and added.object["metadata"]["name"] == "late"


def test_bookmarks_when_asked_for(kube: KubeCluster) -> None:
    with kube.watch("v1", "ConfigMap", "ns", allow_bookmarks=True) as watch:
        kube.create(configmap("a", "elsewhere"))  # moves the revision without an event here
        deadline = time.monotonic() + WAIT
        bookmark = None
        while bookmark is None and time.monotonic() < deadline:
            event = watch.next(0.2)
            if event is not None and event.type == "BOOKMARK":
                bookmark = event
        assert bookmark is not None and bookmark.object["metadata"]["resourceVersion"] == "1"


def test_has_kind_follows_tekton(kube: KubeCluster, memory: MemoryCluster) -> None:
    assert kube.has_kind("tekton.dev/v1", "PipelineRun") and kube.has_kind(WF, "WorkflowExecution")
    memory.set_tekton_installed(False)
    assert kube.has_kind("tekton.dev/v1", "PipelineRun")  # cached
    kube.invalidate_discovery()
    assert not kube.has_kind("tekton.dev/v1", "PipelineRun")
    with pytest.raises(NotFound):
        kube.create({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"name": "pr"},
                     "spec": {"pipelineRef": {"name": "p"}}})


def test_throttling_and_server_errors(kube: KubeCluster, memory: MemoryCluster) -> None:
    memory.faults = FaultInjector()
    memory.faults.schedule("get", 429, kind="ConfigMap")
    memory.faults.schedule("create", 503, kind="ConfigMap")
    with pytest.raises(TooManyRequests) as throttled:
        kube.get("v1", "ConfigMap", "cm", "ns")
    assert throttled.value.retry_after == 1.0  # from the Retry-After header
    with pytest.raises(ServerError) as unavailable:
        kube.create(configmap())
    assert unavailable.value.status == 503


def test_the_memory_api_records_what_kubecluster_asked(memory_api: KmockServer, kube: KubeCluster,
                                                       memory: MemoryCluster) -> None:
    kube.apply(configmap())
    assert [(r.verb, r.kind, r.namespace, r.name, r.status_code) for r in memory.requests] == [
        ("apply", "ConfigMap", "ns", "cm", 201)]
    assert memory_api.last().params["fieldManager"] == "kubernaut"
