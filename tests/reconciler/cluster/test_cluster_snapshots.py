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
