"""``KubeCluster`` verbs against a real API server: the answers and errors ``MemoryCluster``
promises to imitate (resourceVersion conflicts, AlreadyExists, 422, server-side apply
ownership, dry runs, the status subresource, discovery)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.cluster import Conflict, Invalid, NotFound
from reconciler.cluster.kube import KubeCluster

pytestmark = pytest.mark.live


def configmap(name: str, namespace: str, data: dict[str, str] | None = None, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "data": data if data is not None else {"k": "v"}}


def missing(live: KubeCluster, kind: str, name: str, namespace: str, api_version: str = "v1") -> bool:
    try:
        live.get(api_version, kind, name, namespace)
    except NotFound:
        return True
    return False


def test_create_get_list_update_delete(live: KubeCluster, namespace: str, unique: Callable[[str], str],
                                       wait: Callable[..., Any]) -> None:
    name, tag = unique("cm"), unique("t")
    created = live.create(configmap(name, namespace, test=tag))
    assert created["metadata"]["resourceVersion"] and created["metadata"]["uid"]
    got = live.get("v1", "ConfigMap", name, namespace)
    assert got["metadata"]["uid"] == created["metadata"]["uid"] and got["data"] == {"k": "v"}

    live.create(configmap(unique("other"), namespace, test="other"))
    listed = live.list("v1", "ConfigMap", namespace, label_selector={"test": tag})
    assert [o["metadata"]["name"] for o in listed.items] == [name]
    assert (listed.items[0]["apiVersion"], listed.items[0]["kind"]) == ("v1", "ConfigMap")
    assert listed.resource_version

    got["data"] = {"k": "v2"}
    updated = live.update(got)
    assert updated["data"] == {"k": "v2"}
    assert updated["metadata"]["resourceVersion"] != got["metadata"]["resourceVersion"]
    with pytest.raises(Conflict) as stale:
        live.update(got)  # still carries the old resourceVersion
    assert not stale.value.already_exists
    with pytest.raises(Conflict) as exists:
        live.create(configmap(name, namespace))
    assert exists.value.already_exists

    live.delete("v1", "ConfigMap", name, namespace)
    wait(lambda: missing(live, "ConfigMap", name, namespace))
    with pytest.raises(NotFound):
        live.delete("v1", "ConfigMap", name, namespace)


def test_dry_runs_change_nothing(live: KubeCluster, namespace: str, unique: Callable[[str], str]) -> None:
    name = unique("cm")
    assert live.create(configmap(name, namespace), dry_run=True)["metadata"]["name"] == name
    assert missing(live, "ConfigMap", name, namespace)
    stored = live.create(configmap(name, namespace))
    changed = copy.deepcopy(stored)
    changed["data"] = {"k": "dry"}
    assert live.update(changed, dry_run=True)["data"] == {"k": "dry"}
    assert live.apply(configmap(name, namespace, {"k": "dry"}), dry_run=True)["data"] == {"k": "dry"}
    live.delete("v1", "ConfigMap", name, namespace, dry_run=True)
    after = live.get("v1", "ConfigMap", name, namespace)
    assert after["data"] == {"k": "v"}
    assert after["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]


def test_server_side_apply_ownership(live: KubeCluster, namespace: str, unique: Callable[[str], str]) -> None:
    name = unique("cm")
    first = live.apply(configmap(name, namespace, {"a": "1", "b": "2"}))
    managers = {(m["manager"], m["operation"]) for m in first["metadata"]["managedFields"]}
    assert ("kubernaut-live-tests", "Apply") in managers
    again = live.apply(configmap(name, namespace, {"a": "1", "b": "2"}))
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]  # nothing written
    dropped = live.apply(configmap(name, namespace, {"a": "1"}))
    assert dropped["data"] == {"a": "1"}  # a field we applied before and omit now is removed

    with pytest.raises(Conflict):  # another manager may not take our field without force
        live.apply(configmap(name, namespace, {"a": "theirs"}), field_manager="someone-else", force=False)
    forced = live.apply(configmap(name, namespace, {"a": "theirs"}), field_manager="someone-else")
    assert forced["data"] == {"a": "theirs"}


def test_invalid_objects_are_422(live: KubeCluster, namespace: str, unique: Callable[[str], str],
                                 wait: Callable[..., Any]) -> None:
    with pytest.raises(Invalid):
        live.create(configmap("Not_A_Valid_Name", namespace))
    name = unique("job")
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": namespace},
           "spec": {"suspend": True, "backoffLimit": 0, "template": {"spec": {
               "restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox:1.36",
                                                         "command": ["true"]}]}}}}
    created = live.create(job)  # suspended: no pod ever runs
    changed = copy.deepcopy(created)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.37"
    with pytest.raises(Invalid):  # a Job's pod template is immutable
        live.update(changed)
    live.delete("batch/v1", "Job", name, namespace, propagation="Foreground")
    wait(lambda: missing(live, "Job", name, namespace, "batch/v1"))


def test_status_subresource_of_a_workflow(live: KubeCluster, namespace: str, workflow_crd: str,
                                          unique: Callable[[str], str]) -> None:
    name = unique("wf")
    created = live.create({"apiVersion": workflow_crd, "kind": "WorkflowExecution",
                           "metadata": {"name": name, "namespace": namespace},
                           "spec": {"steps": [{"name": "a", "actionType": "kubernaut/echo", "image": "busybox"}]}})
    rv = created["metadata"]["resourceVersion"]
    patched = live.patch_status(workflow_crd, "WorkflowExecution", name, namespace,
                                {"phase": "Running", "message": "started"}, resource_version=rv)
    assert patched["status"] == {"phase": "Running", "message": "started"}
    with pytest.raises(Conflict):
        live.patch_status(workflow_crd, "WorkflowExecution", name, namespace, {"phase": "Failed"},
                          resource_version=rv)
    cleared = live.patch_status(workflow_crd, "WorkflowExecution", name, namespace, {"message": None})
    assert cleared["status"] == {"phase": "Running"}

    current = live.get(workflow_crd, "WorkflowExecution", name, namespace)
    current["status"] = {"phase": "Hacked"}
    current["spec"]["workflowType"] = "live-test"
    updated = live.update(current)
    assert updated["spec"]["workflowType"] == "live-test"
    assert updated["status"] == {"phase": "Running"}  # update never writes the status subresource


def test_discovery(live: KubeCluster) -> None:
    assert live.has_kind("v1", "ConfigMap")
    assert live.has_kind("batch/v1", "Job")
    assert live.has_kind("coordination.k8s.io/v1", "Lease")
    assert not live.has_kind("v1", "NoSuchKind")
    assert not live.has_kind("nosuch.kubernaut.invalid/v1", "Thing")
    assert isinstance(live.has_kind("tekton.dev/v1", "PipelineRun"), bool)  # whether or not Tekton is installed
