"""Watches: live events, filters, replay from a resourceVersion, 410 Expired, bookmarks, blocking."""

from __future__ import annotations

import copy
import threading
import time
from typing import TYPE_CHECKING

import pytest

from reconciler.cluster import BadRequest, Watch, WatchEvent
from reconciler.cluster.memory import MemoryCluster

if TYPE_CHECKING:
    from conftest import Builders


def _drain(watch: Watch) -> list[tuple[str, str]]:
    events: list[tuple[str, str]] = []
    while (event := watch.next()) is not None:
        events.append((event.type, event.object["metadata"].get("name", "")))
    return events


def test_live_events_in_order(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("v1", "ConfigMap")
    assert isinstance(watch, Watch)
    cm = cluster.create(make.configmap())
    cm["data"] = {"key": "2"}
    cluster.update(cm)
    cluster.create(make.job())  # another kind: not seen
    cluster.delete("v1", "ConfigMap", "cm")
    events = []
    while (event := watch.next()) is not None:
        events.append(event)
    assert [e.type for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert [int(e.object["metadata"]["resourceVersion"]) for e in events] == [1, 2, 4]
    assert events[1].object["data"] == {"key": "2"}


def test_resource_version_none_starts_now(cluster: MemoryCluster, make: Builders) -> None:
    cluster.create(make.configmap("before"))
    watch = cluster.watch("v1", "ConfigMap")
    cluster.create(make.configmap("after"))
    assert _drain(watch) == [("ADDED", "after")]


def test_resource_version_zero_lists_current_objects_first(cluster: MemoryCluster, make: Builders) -> None:
    cluster.create(make.configmap("b"))
    cluster.create(make.configmap("a"))
    cluster.delete("v1", "ConfigMap", "b")
    watch = cluster.watch("v1", "ConfigMap", resource_version="0")
    cluster.create(make.configmap("c"))
    assert _drain(watch) == [("ADDED", "a"), ("ADDED", "c")]


def test_replay_from_a_resource_version(cluster: MemoryCluster, make: Builders) -> None:
    cluster.create(make.configmap("a"))
    listed = cluster.list("v1", "ConfigMap")
    cluster.create(make.configmap("b"))
    cluster.delete("v1", "ConfigMap", "a")
    watch = cluster.watch("v1", "ConfigMap", resource_version=listed.resource_version)
    assert _drain(watch) == [("ADDED", "b"), ("DELETED", "a")]
    future = cluster.watch("v1", "ConfigMap", resource_version="99")
    assert future.next() is None
    with pytest.raises(BadRequest):
        cluster.watch("v1", "ConfigMap", resource_version="abc")


def test_expired_resource_version_gives_one_410_error_event_then_ends(make: Builders) -> None:
    cluster = MemoryCluster(history_size=3)
    for i in range(5):
        cluster.create(make.configmap(f"cm{i}"))  # revisions 1..5; 3..5 retained
    ok = cluster.watch("v1", "ConfigMap", resource_version="2")
    assert [name for _, name in _drain(ok)] == ["cm2", "cm3", "cm4"]
    expired = cluster.watch("v1", "ConfigMap", resource_version="1")
    event = expired.next()
    assert event is not None and event.type == "ERROR"
    assert event.object["kind"] == "Status" and event.object["code"] == 410
    assert event.object["reason"] == "Expired"
    assert expired.next() is None and expired.closed
    cluster.create(make.configmap("later"))
    assert expired.next(timeout=0.05) is None  # ended: later events never arrive


def test_compact_history_expires_old_revisions(cluster: MemoryCluster, make: Builders) -> None:
    cluster.create(make.configmap("a"))
    cluster.create(make.configmap("b"))
    cluster.compact_history()
    event = cluster.watch("v1", "ConfigMap", resource_version="1").next()
    assert event is not None and event.type == "ERROR" and event.object["code"] == 410
    current = cluster.watch("v1", "ConfigMap", resource_version="2")  # nothing after 2 was lost
    cluster.create(make.configmap("c"))
    assert _drain(current) == [("ADDED", "c")]
    # "0" means "from any point": it never expires
    assert _drain(cluster.watch("v1", "ConfigMap", resource_version="0")) == [
        ("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c")]


def test_zero_history_expires_everything_but_the_present(make: Builders) -> None:
    cluster = MemoryCluster(history_size=0)
    cluster.create(make.configmap("a"))
    cluster.create(make.configmap("b"))
    event = cluster.watch("v1", "ConfigMap", resource_version="1").next()
    assert event is not None and event.type == "ERROR"
    assert cluster.watch("v1", "ConfigMap", resource_version="2").next() is None


def test_namespace_and_selector_filters(cluster: MemoryCluster, make: Builders) -> None:
    by_ns = cluster.watch("v1", "ConfigMap", namespace="ops")
    by_label = cluster.watch("v1", "ConfigMap", label_selector="app=web")
    by_mapping = cluster.watch("v1", "ConfigMap", label_selector={"app": "web"})
    everything = cluster.watch("v1", "ConfigMap")
    cluster.create(make.configmap("a", namespace="ops", labels={"app": "db"}))
    cluster.create(make.configmap("b", labels={"app": "web"}))
    assert _drain(by_ns) == [("ADDED", "a")]
    assert _drain(by_label) == [("ADDED", "b")] == _drain(by_mapping)
    assert len(_drain(everything)) == 2


def test_objects_entering_and_leaving_a_selector(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("v1", "ConfigMap", label_selector="app=web")
    cm = cluster.create(make.configmap(labels={"app": "db"}))
    cm["metadata"]["labels"] = {"app": "web"}
    cm = cluster.update(cm)
    cm["data"] = {"key": "2"}
    cm = cluster.update(cm)
    cm["metadata"]["labels"] = {"app": "db"}
    cm = cluster.update(cm)
    cluster.delete("v1", "ConfigMap", "cm")
    assert [t for t, _ in _drain(watch)] == ["ADDED", "MODIFIED", "DELETED"]


def test_replay_applies_filters_too(cluster: MemoryCluster, make: Builders) -> None:
    cluster.create(make.configmap("a", labels={"app": "web"}))
    cluster.create(make.configmap("b", labels={"app": "db"}))
    watch = cluster.watch("v1", "ConfigMap", label_selector="app=web", resource_version="0")
    assert _drain(watch) == [("ADDED", "a")]
    replay = cluster.watch("v1", "ConfigMap", label_selector="app=db", resource_version="1")
    assert _drain(replay) == [("ADDED", "b")]


def test_bookmarks_on_timeout_carry_the_current_resource_version(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("v1", "ConfigMap", allow_bookmarks=True)
    cluster.create(make.job())  # moves the global revision without a ConfigMap event
    bookmark = watch.next(timeout=0.01)
    assert bookmark == WatchEvent("BOOKMARK", {"apiVersion": "v1", "kind": "ConfigMap",
                                               "metadata": {"resourceVersion": "1"}})
    assert watch.next() is None  # at most one bookmark per revision: drain loops end
    cluster.create(make.job("j2"))
    second = watch.next()
    assert second is not None and second.type == "BOOKMARK"
    assert second.object["metadata"]["resourceVersion"] == "2"
    plain = cluster.watch("v1", "ConfigMap")
    assert plain.next(timeout=0.01) is None


def test_blocking_next_wakes_up_on_an_event(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("v1", "ConfigMap")
    threading.Timer(0.05, lambda: cluster.create(make.configmap())).start()
    started = time.monotonic()
    event = watch.next(timeout=5)
    assert event is not None and event.type == "ADDED"
    assert time.monotonic() - started < 2


def test_blocking_next_times_out_and_close_releases_a_waiter(cluster: MemoryCluster) -> None:
    watch = cluster.watch("v1", "ConfigMap")
    started = time.monotonic()
    assert watch.next(timeout=0.05) is None
    assert 0.04 <= time.monotonic() - started < 2
    result: list[object] = []
    waiter = threading.Thread(target=lambda: result.append(watch.next(timeout=None)))
    waiter.start()
    time.sleep(0.05)
    watch.close()
    waiter.join(2)
    assert not waiter.is_alive() and result == [None]


def test_close_discards_undelivered_events(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("v1", "ConfigMap")
    cluster.create(make.configmap())
    watch.close()
    assert watch.next() is None


def test_close_watches_ends_every_watch(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("v1", "ConfigMap")
    cluster.close_watches()
    cluster.create(make.configmap())
    assert watch.next() is None and watch.closed


def test_events_are_copies(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("v1", "ConfigMap")
    cluster.create(make.configmap())
    event = watch.next()
    assert event is not None
    # Watchers share one read-only snapshot per change: mutating it raises, a deep copy is free to edit.
    with pytest.raises(TypeError, match="read-only"):
        event.object["data"]["key"] = "mutated"
    mine = copy.deepcopy(event.object)
    mine["data"]["key"] = "mutated"
    assert cluster.get("v1", "ConfigMap", "cm")["data"] == {"key": "value"}
