"""Informer semantics (issue 13): list+watch into a local cache, re-list after 410, resume after
a closed watch, bookmarks, resync, and listeners that hear every change."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.cache import Informer
from reconciler.clock import VirtualClock
from reconciler.cluster import ServerError
from reconciler.cluster.memory import MemoryCluster

Seen = list[tuple[str, str]]


def configmap(name: str, namespace: str = "ns", **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace,
                                                                  "labels": labels}, "data": {"k": "v"}}


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def cluster(clock: VirtualClock) -> MemoryCluster:
    return MemoryCluster(clock=clock, seed=0, history_size=5)


def informer_with_log(cluster: MemoryCluster, clock: VirtualClock, **options: Any) -> tuple[Informer, Seen]:
    informer = Informer(cluster, "v1", "ConfigMap", clock, **options)
    seen: Seen = []
    informer.add_listener(lambda kind, obj, old: seen.append((kind, obj["metadata"]["name"])))
    return informer, seen


def test_lists_then_watches_and_keeps_every_change(cluster: MemoryCluster, clock: VirtualClock) -> None:
    cluster.create(configmap("a"))
    informer, seen = informer_with_log(cluster, clock)
    assert not informer.synced and informer.get("ns", "a") is None
    informer.poll()
    assert informer.synced and seen == [("ADDED", "a")]
    cluster.create(configmap("b"))
    cluster.update({**cluster.get("v1", "ConfigMap", "a", "ns"), "data": {"k": "2"}})
    cluster.delete("v1", "ConfigMap", "b", "ns")
    informer.poll()
    assert seen[1:] == [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]
    cached = informer.get("ns", "a")
    assert cached is not None and cached["data"] == {"k": "2"} and informer.get("ns", "b") is None
    assert informer.resource_version == cluster.resource_version
    assert (cluster.count("list"), cluster.count("watch")) == (1, 1)


def test_410_relists_and_reports_what_vanished_meanwhile(cluster: MemoryCluster, clock: VirtualClock) -> None:
    cluster.create(configmap("gone"))
    cluster.create(configmap("stays"))
    informer, seen = informer_with_log(cluster, clock)
    informer.poll()
    informer.close()  # not watching: the next watch resumes from an old revision
    cluster.delete("v1", "ConfigMap", "gone", "ns")
    cluster.create(configmap("new"))
    cluster.compact_history()
    seen.clear()
    informer.poll()
    assert informer.stats.relists_after_expiry == 1 and informer.stats.lists == 2
    assert ("DELETED", "gone") in seen and ("ADDED", "new") in seen and ("ADDED", "stays") not in seen
    assert [o["metadata"]["name"] for o in informer.items()] == ["new", "stays"]


def test_a_closed_watch_resumes_without_relisting(cluster: MemoryCluster, clock: VirtualClock) -> None:
    informer, seen = informer_with_log(cluster, clock)
    informer.poll()
    cluster.close_watches()
    cluster.create(configmap("later"))
    informer.poll()
    informer.poll()
    assert ("ADDED", "later") in seen
    assert informer.stats.lists == 1 and informer.stats.watch_restarts == 1


def test_bookmarks_move_the_resource_version_on(cluster: MemoryCluster, clock: VirtualClock) -> None:
    informer, _ = informer_with_log(cluster, clock, label_selector={"app": "mine"})
    informer.poll()
    for n in range(3):
        cluster.create(configmap(f"other-{n}"))  # not ours: no event, only a bookmark
    informer.poll()
    assert informer.resource_version == cluster.resource_version
    assert informer.items() == []


def test_resync_delivers_every_cached_object_again(cluster: MemoryCluster, clock: VirtualClock) -> None:
    cluster.create(configmap("a"))
    informer, seen = informer_with_log(cluster, clock, resync_seconds=600.0)
    informer.poll()
    clock.advance(599)
    informer.poll()
    assert seen == [("ADDED", "a")]
    clock.advance(1)
    informer.poll()
    assert seen == [("ADDED", "a"), ("MODIFIED", "a")] and informer.stats.resyncs == 1


def test_a_late_listener_hears_the_current_objects(cluster: MemoryCluster, clock: VirtualClock) -> None:
    cluster.create(configmap("a"))
    informer, _ = informer_with_log(cluster, clock)
    informer.poll()
    late: Seen = []
    informer.add_listener(lambda kind, obj, old: late.append((kind, obj["metadata"]["name"])))
    assert late == [("ADDED", "a")]


def test_a_failing_list_is_retried_after_a_backoff(cluster: MemoryCluster, clock: VirtualClock) -> None:
    informer, _ = informer_with_log(cluster, clock)
    real_list = cluster.list
    calls = []

    def failing_list(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == 1:
            raise ServerError("etcd is down")
        return real_list(*args, **kwargs)

    cluster.list = failing_list  # type: ignore[method-assign]
    informer.poll()
    assert not informer.synced and informer.retry_at is not None
    informer.poll()
    assert len(calls) == 1  # still backing off
    clock.advance(informer.retry_at - clock.monotonic())
    informer.poll()
    assert informer.synced and len(calls) == 2


def test_a_listener_bug_does_not_starve_the_others(cluster: MemoryCluster, clock: VirtualClock) -> None:
    informer, seen = informer_with_log(cluster, clock)

    def broken(kind: str, obj: Any, old: Any) -> None:
        raise RuntimeError("bug")

    informer.add_listener(broken)
    informer.poll()
    cluster.create(configmap("a"))
    informer.poll()
    assert seen == [("ADDED", "a")]
