"""Every ``KubeCluster`` verb on the wire: method, path, query, content type and body it sends,
and the plain dict it returns. Against kmock's emulator where it is faithful (create, get, list,
delete round trips), scripted answers elsewhere."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from reconciler.cluster import BadRequest, Cluster, Invalid, NotFound, ObjectList
from reconciler.cluster.kube import KubeCluster

if TYPE_CHECKING:
    from conftest import KmockServer, KubeFactory

CM_PATH = "/api/v1/namespaces/ns/configmaps"
JOB_PATH = "/apis/batch/v1/namespaces/ns/jobs"
WF_PATH = "/apis/workflowexecution.kubernaut.ai/v1alpha1/namespaces/ns/workflowexecutions"


def configmap(name: str = "cm", namespace: str | None = "ns", **data: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"k": "v"}}


def stored(obj: dict[str, Any], rv: str = "7") -> dict[str, Any]:
    return {**obj, "metadata": {**obj["metadata"], "resourceVersion": rv, "uid": "u-1"}}


def body_of(request: Any) -> Any:
    return json.loads(request.body) if request.body else None


def test_kube_cluster_is_a_cluster(kube: KubeCluster) -> None:
    cluster: Cluster = kube  # statically (mypy) and at run time
    assert isinstance(cluster, Cluster)


# -- reads -----------------------------------------------------------------------------------------


def test_create_then_get_round_trip_through_the_emulator(emulator: KmockServer, emulated: KubeCluster) -> None:
    created = emulated.create(configmap())
    assert created["metadata"]["name"] == "cm"
    got = emulated.get("v1", "ConfigMap", "cm", "ns")
    assert got == configmap() and isinstance(got, dict)
    post, get = emulator.requests
    assert (post.method, post.url.path, post.headers["Content-Type"]) == ("POST", CM_PATH, "application/json")
    assert body_of(post) == configmap()
    assert post.headers["Accept"] == "application/json"
    assert (get.method, get.url.path, dict(get.params)) == ("GET", f"{CM_PATH}/cm", {})


def test_get_missing_object_is_not_found(emulated: KubeCluster) -> None:
    emulated.create(configmap("other"))
    with pytest.raises(NotFound):
        emulated.get("v1", "ConfigMap", "cm", "ns")


def test_namespaced_kind_without_namespace_goes_to_default(server: KmockServer, kube: KubeCluster) -> None:
    server.reply("/api/v1/namespaces/default/configmaps/cm", configmap(namespace="default"))
    assert kube.get("v1", "ConfigMap", "cm")["metadata"]["namespace"] == "default"
    server.reply("post /api/v1/namespaces/default/configmaps", 201, configmap("x", namespace="default"))
    kube.create(configmap("x", namespace=None))
    assert server.last().url.path == "/api/v1/namespaces/default/configmaps"


def test_cluster_scoped_paths_ignore_the_namespace(server: KmockServer, kube: KubeCluster) -> None:
    server.reply("/api/v1/namespaces/team-a", {"apiVersion": "v1", "kind": "Namespace",
                                               "metadata": {"name": "team-a"}})
    assert kube.get("v1", "Namespace", "team-a", "ignored")["metadata"]["name"] == "team-a"
    server.reply("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {"items": []})
    kube.list("apiextensions.k8s.io/v1", "CustomResourceDefinition", namespace="ns")
    assert [r.url.path for r in server.requests] == [
        "/api/v1/namespaces/team-a", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"]


def test_list_sends_the_label_selector_and_types_sorts_the_items(server: KmockServer, kube: KubeCluster) -> None:
    # The API server leaves apiVersion/kind out of list items; the interface promises them.
    server.reply(f"get {CM_PATH}", {"apiVersion": "v1", "kind": "ConfigMapList",
                                    "metadata": {"resourceVersion": "42"},
                                    "items": [{"metadata": {"name": "b", "namespace": "ns"}},
                                              {"metadata": {"name": "a", "namespace": "ns"}}]})
    result = kube.list("v1", "ConfigMap", "ns", label_selector={"team": "sre", "app": "kubernaut"})
    assert isinstance(result, ObjectList) and result.resource_version == "42"
    assert [o["metadata"]["name"] for o in result.items] == ["a", "b"]
    assert all(o["apiVersion"] == "v1" and o["kind"] == "ConfigMap" for o in result.items)
    request = server.last()
    assert (request.method, request.url.path) == ("GET", CM_PATH)
    assert dict(request.params) == {"labelSelector": "app=kubernaut,team=sre"}  # canonical: sorted keys


def test_list_all_namespaces_and_set_based_selectors(server: KmockServer, kube: KubeCluster) -> None:
    server.reply("get /apis/batch/v1/jobs", {"metadata": {"resourceVersion": "1"}, "items": []})
    assert kube.list("batch/v1", "Job", label_selector="env in (prod,dev), !legacy").items == []
    assert dict(server.last().params) == {"labelSelector": "env in (dev,prod),!legacy"}


def test_invalid_selector_is_rejected_before_sending(server: KmockServer, kube: KubeCluster) -> None:
    with pytest.raises(BadRequest):
        kube.list("v1", "ConfigMap", "ns", label_selector="a in b")
    assert server.requests == []


def test_list_against_the_emulator_store(emulated: KubeCluster) -> None:
    emulated.create(configmap("two"))
    emulated.create(configmap("one"))
    names = [o["metadata"]["name"] for o in emulated.list("v1", "ConfigMap", "ns").items]
    assert names == ["one", "two"]


# -- writes ----------------------------------------------------------------------------------------


def test_create_dry_run_and_generate_name(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(f"post {JOB_PATH}", 201, {"apiVersion": "batch/v1", "kind": "Job",
                                           "metadata": {"name": "step-x7k2p", "namespace": "ns"}})
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "step-", "namespace": "ns"},
           "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "busybox"}]}}}}
    assert kube.create(job, dry_run=True)["metadata"]["name"] == "step-x7k2p"
    request = server.last()
    assert (request.method, request.url.path, dict(request.params)) == ("POST", JOB_PATH, {"dryRun": "All"})
    assert body_of(request) == job


def test_update_is_a_put_with_the_resource_version(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(f"put {CM_PATH}/cm", stored(configmap(k="2"), "8"))
    answer = kube.update(stored(configmap(k="2")), dry_run=True)
    assert answer["metadata"]["resourceVersion"] == "8"
    request = server.last()
    assert (request.method, request.url.path, dict(request.params)) == ("PUT", f"{CM_PATH}/cm", {"dryRun": "All"})
    assert request.headers["Content-Type"] == "application/json"
    assert body_of(request)["metadata"]["resourceVersion"] == "7"
    kube.update(stored(configmap(k="2")))
    assert dict(server.last().params) == {}


def test_update_and_apply_need_a_name(server: KmockServer, kube: KubeCluster) -> None:
    nameless = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "ns"}}
    with pytest.raises(Invalid):
        kube.update(nameless)
    with pytest.raises(Invalid):
        kube.apply(nameless)
    with pytest.raises(BadRequest):
        kube.create({"kind": "ConfigMap", "metadata": {"name": "x"}})
    with pytest.raises(BadRequest):
        kube.create({**configmap(), "data": {"when": object()}})
    assert server.requests == []


def test_apply_is_server_side_apply(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(f"patch {JOB_PATH}/step", {"apiVersion": "batch/v1", "kind": "Job",
                                            "metadata": {"name": "step", "namespace": "ns", "resourceVersion": "3"}})
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "step", "namespace": "ns"},
           "spec": {"backoffLimit": 0}}
    assert kube.apply(job)["metadata"]["resourceVersion"] == "3"
    request = server.last()
    assert (request.method, request.url.path) == ("PATCH", f"{JOB_PATH}/step")
    assert request.headers["Content-Type"] == "application/apply-patch+yaml"
    assert dict(request.params) == {"fieldManager": "kubernaut", "force": "true"}
    assert json.loads(request.body) == job  # JSON is YAML: the object exactly as given

    kube.apply(job, field_manager="kubernaut-test", force=False, dry_run=True)
    assert dict(server.last().params) == {"fieldManager": "kubernaut-test", "dryRun": "All"}


def test_apply_field_manager_defaults_to_the_clusters(server: KmockServer, make_kube: KubeFactory) -> None:
    server.reply(f"patch {CM_PATH}/cm", configmap())
    make_kube(server, field_manager="kubernaut-controller").apply(configmap())
    assert server.last().params["fieldManager"] == "kubernaut-controller"


def test_patch_status_is_a_merge_patch_of_the_status_subresource(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(f"patch {WF_PATH}/wf/status", {"apiVersion": "workflowexecution.kubernaut.ai/v1alpha1",
                                                "kind": "WorkflowExecution", "metadata": {"name": "wf"},
                                                "status": {"phase": "Running"}})
    answer = kube.patch_status("workflowexecution.kubernaut.ai/v1alpha1", "WorkflowExecution", "wf", "ns",
                               {"phase": "Running", "message": None}, resource_version="11")
    assert answer["status"] == {"phase": "Running"}
    request = server.last()
    assert (request.method, request.url.path) == ("PATCH", f"{WF_PATH}/wf/status")
    assert request.headers["Content-Type"] == "application/merge-patch+json"
    assert body_of(request) == {"status": {"phase": "Running", "message": None},
                                "metadata": {"resourceVersion": "11"}}
    kube.patch_status("workflowexecution.kubernaut.ai/v1alpha1", "WorkflowExecution", "wf", "ns", {"phase": "X"})
    assert body_of(server.last()) == {"status": {"phase": "X"}}


def test_delete_sends_delete_options(emulator: KmockServer, emulated: KubeCluster) -> None:
    emulated.create(configmap())
    emulated.delete("v1", "ConfigMap", "cm", "ns", propagation="Foreground")
    request = emulator.last()
    assert (request.method, request.url.path, dict(request.params)) == ("DELETE", f"{CM_PATH}/cm", {})
    assert request.headers["Content-Type"] == "application/json"
    assert body_of(request) == {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Foreground"}
    with pytest.raises(NotFound):  # the emulator really deleted it
        emulated.get("v1", "ConfigMap", "cm", "ns")


def test_delete_dry_run_is_in_the_query_and_in_delete_options(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(f"delete {JOB_PATH}/step", {"apiVersion": "v1", "kind": "Status", "status": "Success"})
    kube.delete("batch/v1", "Job", "step", "ns", dry_run=True)
    request = server.last()
    assert dict(request.params) == {"dryRun": "All"}
    assert body_of(request) == {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background",
                                "dryRun": ["All"]}
    with pytest.raises(BadRequest):
        kube.delete("batch/v1", "Job", "step", "ns", propagation="Sideways")  # type: ignore[arg-type]


def test_requests_carry_the_bearer_token_of_the_configuration(server: KmockServer) -> None:
    from kubernetes.client import ApiClient, Configuration

    configuration = Configuration(host=server.url, api_key={"authorization": "s3cr3t"},
                                  api_key_prefix={"authorization": "Bearer"})
    server.reply("/api/v1/namespaces/ns/configmaps/cm", configmap())
    with KubeCluster(ApiClient(configuration)) as kube:
        kube.get("v1", "ConfigMap", "cm", "ns")
    assert server.last().headers["Authorization"] == "Bearer s3cr3t"


def test_every_request_is_reported_to_the_hook(server: KmockServer, make_kube: KubeFactory) -> None:
    seen: list[tuple[str, str, int | str]] = []
    server.reply("/api/v1/namespaces/ns/configmaps/cm", configmap())
    kube = make_kube(server, on_request=lambda *a: seen.append(a))
    kube.get("v1", "ConfigMap", "cm", "ns")
    with pytest.raises(NotFound):
        kube.get("v1", "ConfigMap", "gone", "ns")
    assert seen == [("get", "ConfigMap", 200), ("get", "ConfigMap", 404)]
