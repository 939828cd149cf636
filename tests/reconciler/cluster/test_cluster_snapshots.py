"""One copy per watch change, shared read-only by every watcher (issue 13): a busy run no longer
copies each change once per watcher, and no watcher can change the store or another's view."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING

import pytest

from reconciler.cluster import memory_watch
from reconciler.cluster.memory import MemoryCluster
from reconciler.cluster.snapshots import FrozenDict, freeze, json_copy

if TYPE_CHECKING:
    from conftest import Builders


def test_every_watcher_gets_the_same_snapshot_made_once(cluster: MemoryCluster, make: Builders,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []

    def counting_freeze(value: object) -> object:
        made.append(value)
        return freeze(value)

    monkeypatch.setattr(memory_watch, "freeze", counting_freeze)
    watches = [cluster.watch("v1", "ConfigMap") for _ in range(5)]
    cluster.create(make.configmap())
    events = [w.next() for w in watches]
    assert all(e is not None and e.type == "ADDED" for e in events)
    assert len(made) == 1  # one copy for five watchers
    first = events[0]
    assert first is not None
    assert all(e is not None and e.object is first.object for e in events)


def test_no_watcher_no_copy(cluster: MemoryCluster, make: Builders, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    monkeypatch.setattr(memory_watch, "freeze", lambda value: made.append(value) or freeze(value))
    cluster.watch("v1", "Secret")  # another kind: never offered the ConfigMap change
    cluster.create(make.configmap())
    assert made == []


def test_a_watcher_cannot_change_the_store_or_another_watchers_view(cluster: MemoryCluster, make: Builders) -> None:
    one, two = cluster.watch("v1", "ConfigMap"), cluster.watch("v1", "ConfigMap")
    cluster.create(make.configmap(labels={"a": "b"}))
    mine, theirs = one.next(), two.next()
    assert mine is not None and theirs is not None
    for mutate in (lambda o: o["data"].update(key="x"), lambda o: o["metadata"]["labels"].pop("a"),
                   lambda o: o.__setitem__("data", {}), lambda o: o["metadata"].setdefault("finalizers", []),
                   lambda o: o.clear()):
        with pytest.raises(TypeError, match="read-only"):
            mutate(mine.object)
    edited = copy.deepcopy(mine.object)
    edited["data"]["key"] = "x"
    edited["metadata"]["labels"]["c"] = "d"
    assert theirs.object["data"] == {"key": "value"} and theirs.object["metadata"]["labels"] == {"a": "b"}
    assert cluster.get("v1", "ConfigMap", "cm")["data"] == {"key": "value"}


def test_list_values_in_snapshots_are_read_only_too(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("batch/v1", "Job")
    cluster.create(make.job())
    event = watch.next()
    assert event is not None
    containers = event.object["spec"]["template"]["spec"]["containers"]
    with pytest.raises(TypeError, match="read-only"):
        containers.append({"name": "sidecar"})
    with pytest.raises(TypeError, match="read-only"):
        containers[0] = {}


def test_snapshots_behave_as_json_and_thaw_into_plain_objects(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("v1", "ConfigMap")
    created = cluster.create(make.configmap())
    event = watch.next()
    assert event is not None
    assert event.object == created and json.loads(json.dumps(event.object)) == created
    thawed = json_copy(event.object)
    assert type(thawed) is dict and not isinstance(thawed["metadata"], FrozenDict)
    # A snapshot handed back as a request body is accepted like any dict.
    body = copy.deepcopy(event.object)
    body["data"] = {"key": "new"}
    assert cluster.update(body)["data"] == {"key": "new"}


def test_a_synthetic_added_from_resource_version_zero_is_read_only(cluster: MemoryCluster, make: Builders) -> None:
    cluster.create(make.configmap())
    event = cluster.watch("v1", "ConfigMap", resource_version="0").next()
    assert event is not None and event.type == "ADDED"
    with pytest.raises(TypeError, match="read-only"):
        event.object["data"]["key"] = "x"


def test_a_new_version_shares_what_it_did_not_change(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("batch/v1", "Job")
    job = cluster.create(make.job(labels={"a": "b"}))
    cluster.update({**job, "metadata": {**job["metadata"], "labels": {"a": "c"}}})
    first, second = watch.next(), watch.next()
    assert first is not None and second is not None
    assert second.object["spec"] is first.object["spec"]  # unchanged: not copied again
    assert second.object["metadata"]["labels"] == {"a": "c"} and first.object["metadata"]["labels"] == {"a": "b"}


def test_a_status_patch_is_merged_into_a_read_only_version(cluster: MemoryCluster, make: Builders) -> None:
    cluster.create(make.job())
    ready = {"type": "Ready", "status": "True", "reason": "Up"}
    cluster.patch_status("batch/v1", "Job", "job", None, {"active": 1, "conditions": [ready]})
    watch = cluster.watch("batch/v1", "Job", resource_version=cluster.resource_version)
    done = {"type": "Complete", "status": "True", "reason": "Done"}
    answer = cluster.patch_status("batch/v1", "Job", "job", None, {"active": None, "conditions": [ready, done]})
    event = watch.next()
    assert event is not None and event.object["status"] == {"conditions": [ready, done]} == answer["status"]
    with pytest.raises(TypeError):
        event.object["status"]["conditions"].append(done)
    answer["status"]["conditions"].append(done)  # the answer is the caller's: plain and separate
    assert cluster.get("batch/v1", "Job", "job")["status"] == {"conditions": [ready, done]}


def test_an_appended_list_element_shares_the_elements_before_it() -> None:
    old = freeze({"conditions": [{"type": "A"}, {"type": "B"}]})
    new = freeze({"conditions": [{"type": "A"}, {"type": "B2"}, {"type": "C"}]}, old)
    assert new["conditions"][0] is old["conditions"][0]
    assert new["conditions"][1] is not old["conditions"][1] and json_copy(new) == {
        "conditions": [{"type": "A"}, {"type": "B2"}, {"type": "C"}]}


def test_an_unchanged_status_part_is_the_same_object_in_the_next_version(cluster: MemoryCluster,
                                                                       make: Builders) -> None:
    cluster.create(make.job())
    ready = {"type": "Ready", "status": "True", "reason": "Up"}
    cluster.patch_status("batch/v1", "Job", "job", None, {"conditions": [ready], "counts": {"a": 1}})
    watch = cluster.watch("batch/v1", "Job", resource_version=cluster.resource_version)
    cluster.patch_status("batch/v1", "Job", "job", None, {"counts": {"a": 2}})
    cluster.patch_status("batch/v1", "Job", "job", None, {"counts": {"a": 3}})
    first, second = watch.next(), watch.next()
    assert first is not None and second is not None
    assert second.object["status"]["conditions"] is first.object["status"]["conditions"]
    assert second.object["spec"] is first.object["spec"]
    assert (first.object["status"]["counts"], second.object["status"]["counts"]) == ({"a": 2}, {"a": 3})


def test_a_create_answer_is_the_callers_own_copy(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("v1", "ConfigMap")
    answer = cluster.create(make.configmap(data={"key": "value"}))
    answer["data"]["key"] = "changed by the caller"
    answer["metadata"]["labels"] = {"x": "y"}
    event = watch.next()
    assert event is not None and event.object["data"] == {"key": "value"}
    assert "labels" not in event.object["metadata"]
    assert cluster.get("v1", "ConfigMap", "cm")["data"] == {"key": "value"}
