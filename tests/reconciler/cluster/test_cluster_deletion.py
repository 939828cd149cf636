"""Deletion: finalizers and owner-reference garbage collection in its three propagation modes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from reconciler.clock import VirtualClock
from reconciler.cluster import BadRequest, Invalid, NotFound, Watch
from reconciler.cluster.memory import MemoryCluster

if TYPE_CHECKING:
    from conftest import Builders


def _events(watch: Watch) -> list[tuple[str, str]]:
    out = []
    while (event := watch.next()) is not None:
        out.append((event.type, event.object["metadata"]["name"]))
    return out


def _names(cluster: MemoryCluster) -> set[str]:
    return {o["metadata"]["name"] for o in cluster.objects()}


def _remove_finalizers(cluster: MemoryCluster, name: str, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    obj = cluster.get("v1", "ConfigMap", name)
    obj["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers", []) if f in keep]
    return cluster.update(obj)


def test_delete_without_finalizers_removes_at_once(cluster: MemoryCluster, make: Builders) -> None:
    cluster.create(make.configmap())
    watch = cluster.watch("v1", "ConfigMap")
    cluster.delete("v1", "ConfigMap", "cm")
    with pytest.raises(NotFound):
        cluster.get("v1", "ConfigMap", "cm")
    event = watch.next()
    assert event is not None and event.type == "DELETED"
    assert event.object["metadata"]["resourceVersion"] == "2"  # the delete has its own revision
    with pytest.raises(NotFound):
        cluster.delete("v1", "ConfigMap", "cm")
    with pytest.raises(BadRequest):
        cluster.delete("v1", "ConfigMap", "cm", propagation="Sideways")  # type: ignore[arg-type]


def test_finalizers_hold_the_object_until_the_last_one_goes(
    cluster: MemoryCluster, clock: VirtualClock, make: Builders
) -> None:
    cluster.create(make.configmap(finalizers=["a.io/x", "b.io/y"]))
    watch = cluster.watch("v1", "ConfigMap")
    clock.advance(30)
    cluster.delete("v1", "ConfigMap", "cm")
    marked = cluster.get("v1", "ConfigMap", "cm")
    assert marked["metadata"]["deletionTimestamp"] == "2026-01-01T00:00:30Z"
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 0
    assert marked["metadata"]["generation"] == 2
    cluster.delete("v1", "ConfigMap", "cm")  # deleting again changes nothing
    assert cluster.get("v1", "ConfigMap", "cm") == marked
    assert _remove_finalizers(cluster, "cm", keep=("b.io/y",))["metadata"]["finalizers"] == ["b.io/y"]
    gone = _remove_finalizers(cluster, "cm")
    assert gone["metadata"]["finalizers"] == []
    with pytest.raises(NotFound):
        cluster.get("v1", "ConfigMap", "cm")
    assert _events(watch) == [("MODIFIED", "cm"), ("MODIFIED", "cm"), ("DELETED", "cm")]


def test_no_new_finalizers_once_deleting(cluster: MemoryCluster, make: Builders) -> None:
    cluster.create(make.configmap(finalizers=["a.io/x"]))
    cluster.delete("v1", "ConfigMap", "cm")
    obj = cluster.get("v1", "ConfigMap", "cm")
    obj["metadata"]["finalizers"].append("b.io/new")
    with pytest.raises(Invalid, match="no new finalizers"):
        cluster.update(obj)
    with pytest.raises(Invalid):
        cluster.apply(make.configmap(finalizers=["c.io/new"]))
    obj = cluster.get("v1", "ConfigMap", "cm")
    obj["data"] = {"other": "change"}  # other writes are still allowed while terminating
    assert cluster.update(obj)["data"] == {"other": "change"}


def _family(cluster: MemoryCluster, make: Builders, child_finalizers: list[str] | None = None) -> None:
    """owner <- child <- grandchild, plus an unrelated bystander."""
    owner = cluster.create(make.configmap("owner"))
    child_meta: dict[str, Any] = {"ownerReferences": [make.owner_ref(owner)]}
    if child_finalizers:
        child_meta["finalizers"] = child_finalizers
    child = cluster.create(make.configmap("child", **child_meta))
    cluster.create(make.configmap("grandchild", ownerReferences=[make.owner_ref(child)]))
    cluster.create(make.configmap("bystander"))


def test_background_deletes_owner_first_then_dependents_recursively(
    cluster: MemoryCluster, make: Builders
) -> None:
    _family(cluster, make)
    watch = cluster.watch("v1", "ConfigMap")
    cluster.delete("v1", "ConfigMap", "owner")
    assert _names(cluster) == {"bystander"}
    assert _events(watch) == [("DELETED", "owner"), ("DELETED", "child"), ("DELETED", "grandchild")]


def test_background_dependents_honour_their_finalizers(cluster: MemoryCluster, make: Builders) -> None:
    _family(cluster, make, child_finalizers=["keep.io/me"])
    cluster.delete("v1", "ConfigMap", "owner")
    assert _names(cluster) == {"child", "grandchild", "bystander"}
    assert "deletionTimestamp" in cluster.get("v1", "ConfigMap", "child")["metadata"]
    _remove_finalizers(cluster, "child")
    assert _names(cluster) == {"bystander"}


def test_foreground_waits_for_dependents(cluster: MemoryCluster, make: Builders) -> None:
    _family(cluster, make)
    watch = cluster.watch("v1", "ConfigMap")
    cluster.delete("v1", "ConfigMap", "owner", propagation="Foreground")
    assert _names(cluster) == {"bystander"}
    events = _events(watch)
    assert events.index(("DELETED", "grandchild")) < events.index(("DELETED", "child"))
    assert events[-1] == ("DELETED", "owner") and events[0] == ("MODIFIED", "owner")


def test_foreground_owner_stays_while_a_dependent_has_finalizers(cluster: MemoryCluster, make: Builders) -> None:
    _family(cluster, make, child_finalizers=["keep.io/me"])
    cluster.delete("v1", "ConfigMap", "owner", propagation="Foreground")
    owner = cluster.get("v1", "ConfigMap", "owner")
    assert owner["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert "deletionTimestamp" in owner["metadata"]
    assert _names(cluster) == {"owner", "child", "bystander"}  # grandchild went first
    _remove_finalizers(cluster, "child")
    assert _names(cluster) == {"bystander"}


def test_foreground_without_dependents_is_a_plain_delete(cluster: MemoryCluster, make: Builders) -> None:
    cluster.create(make.configmap("alone"))
    cluster.delete("v1", "ConfigMap", "alone", propagation="Foreground")
    assert _names(cluster) == set()


def test_orphan_keeps_dependents_and_drops_their_owner_reference(
    cluster: MemoryCluster, make: Builders
) -> None:
    _family(cluster, make)
    cluster.delete("v1", "ConfigMap", "owner", propagation="Orphan")
    assert _names(cluster) == {"child", "grandchild", "bystander"}
    assert "ownerReferences" not in cluster.get("v1", "ConfigMap", "child")["metadata"]
    assert cluster.get("v1", "ConfigMap", "grandchild")["metadata"]["ownerReferences"]


def test_a_dependent_with_another_live_owner_survives(cluster: MemoryCluster, make: Builders) -> None:
    first = cluster.create(make.configmap("first"))
    second = cluster.create(make.configmap("second"))
    cluster.create(make.configmap("shared", ownerReferences=[make.owner_ref(first), make.owner_ref(second)]))
    cluster.delete("v1", "ConfigMap", "first")
    refs = cluster.get("v1", "ConfigMap", "shared")["metadata"]["ownerReferences"]
    assert [r["name"] for r in refs] == ["second"]
    cluster.delete("v1", "ConfigMap", "second")
    assert _names(cluster) == set()


def test_gc_crosses_kinds(cluster: MemoryCluster, make: Builders) -> None:
    wf = cluster.create(make.workflow())
    cluster.create(make.job("step-a", ownerReferences=[make.owner_ref(wf)]))
    cluster.create(make.pipeline_run("run", ownerReferences=[make.owner_ref(wf)]))
    cluster.delete(wf["apiVersion"], wf["kind"], "wf")
    assert cluster.objects() == []


def test_owner_with_finalizers_collects_dependents_only_when_really_gone(
    cluster: MemoryCluster, make: Builders
) -> None:
    owner = cluster.create(make.configmap("owner", finalizers=["keep.io/me"]))
    cluster.create(make.configmap("child", ownerReferences=[make.owner_ref(owner)]))
    cluster.delete("v1", "ConfigMap", "owner")
    assert _names(cluster) == {"owner", "child"}
    _remove_finalizers(cluster, "owner")
    assert _names(cluster) == set()
