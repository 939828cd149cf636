"""The status subresource: kept apart from the desired state, like on a real API server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from reconciler.cluster import Conflict, NotFound
from reconciler.cluster.memory import MemoryCluster

if TYPE_CHECKING:
    from conftest import Builders

WF = ("workflowexecution.kubernaut.ai/v1alpha1", "WorkflowExecution")


def test_create_drops_status_for_status_subresource_kinds(cluster: MemoryCluster, make: Builders) -> None:
    obj = make.workflow()
    obj["status"] = {"phase": "Succeeded"}
    assert "status" not in cluster.create(obj)


def test_update_and_apply_ignore_status(cluster: MemoryCluster, make: Builders) -> None:
    wf = cluster.create(make.workflow())
    wf = cluster.patch_status(*WF, "wf", "default", {"phase": "Running"})
    wf["status"] = {"phase": "Hacked"}
    wf["spec"]["cancel"] = True  # the one field of a workflow's spec that may change
    updated = cluster.update(wf)
    assert updated["status"] == {"phase": "Running"} and updated["spec"]["cancel"] is True
    applied = make.workflow()
    applied["status"] = {"phase": "Hacked"}
    assert cluster.apply(applied)["status"] == {"phase": "Running"}
    # an update that only touches status changes nothing at all
    rv = cluster.get(*WF, "wf")["metadata"]["resourceVersion"]
    current = cluster.get(*WF, "wf")
    current["status"] = {"phase": "Other"}
    assert cluster.update(current)["metadata"]["resourceVersion"] == rv


def test_update_cannot_add_status_either(cluster: MemoryCluster, make: Builders) -> None:
    wf = cluster.create(make.workflow())
    wf["status"] = {"phase": "Succeeded"}
    assert "status" not in cluster.update(wf)


def test_kinds_without_status_subresource_update_status_like_any_field(
    cluster: MemoryCluster, make: Builders
) -> None:
    task = {"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t"},
            "spec": {"steps": []}, "status": {"note": "kept"}}
    assert cluster.create(task)["status"] == {"note": "kept"}
    with pytest.raises(NotFound):
        cluster.patch_status("tekton.dev/v1", "Task", "t", None, {"note": "x"})


def test_patch_status_is_a_merge_patch_of_status_only(cluster: MemoryCluster, make: Builders) -> None:
    cluster.create(make.workflow())
    cluster.patch_status(*WF, "wf", None, {"phase": "Running", "steps": [{"name": "a"}],
                                           "detail": {"x": 1, "y": 2}})
    patched = cluster.patch_status(*WF, "wf", None, {"message": "hi", "detail": {"x": None, "z": 3},
                                                     "steps": [{"name": "b"}]})
    assert patched["status"] == {"phase": "Running", "message": "hi", "detail": {"y": 2, "z": 3},
                                 "steps": [{"name": "b"}]}
    assert patched["metadata"]["generation"] == 1
    assert patched["spec"] == make.workflow()["spec"]
    cleared = cluster.patch_status(*WF, "wf", None, {"message": None})
    assert "message" not in cleared["status"]


def test_patch_status_bumps_rv_unless_nothing_changes(cluster: MemoryCluster, make: Builders) -> None:
    created = cluster.create(make.workflow())
    first = cluster.patch_status(*WF, "wf", None, {"phase": "Running"})
    assert int(first["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    watch = cluster.watch(*WF)
    again = cluster.patch_status(*WF, "wf", None, {"phase": "Running"})
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert watch.next() is None and cluster.requests[-1].no_op


def test_patch_status_resource_version_precondition(cluster: MemoryCluster, make: Builders) -> None:
    created = cluster.create(make.workflow())
    rv = created["metadata"]["resourceVersion"]
    cluster.patch_status(*WF, "wf", None, {"phase": "Running"}, resource_version=rv)
    with pytest.raises(Conflict):
        cluster.patch_status(*WF, "wf", None, {"phase": "Failed"}, resource_version=rv)
    assert cluster.get(*WF, "wf")["status"] == {"phase": "Running"}
    with pytest.raises(NotFound):
        cluster.patch_status(*WF, "missing", None, {"phase": "Running"})
