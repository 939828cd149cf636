"""Controller reads from the cache, writes to the API server (issue 13)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.cache import CachedCluster, InformerCache, selectors_of
from reconciler.clock import VirtualClock
from reconciler.cluster import Conflict, NotFound
from reconciler.cluster.memory import MemoryCluster
from reconciler.cluster.snapshots import thaw
from reconciler.controller import WatchSpec


def configmap(name: str, namespace: str = "ns", **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace,
                                                                  "labels": labels}, "data": {"k": "v"}}


@pytest.fixture
def cluster() -> MemoryCluster:
    return MemoryCluster(clock=VirtualClock(), seed=0)


@pytest.fixture
def cached(cluster: MemoryCluster) -> CachedCluster:
    cache = InformerCache(cluster.client("kubernaut"), cluster.clock, [("v1", "ConfigMap")])
    cache.poll()
    return CachedCluster(cache)


def test_reads_of_cached_kinds_send_no_request(cluster: MemoryCluster, cached: CachedCluster) -> None:
    cluster.create(configmap("a", app="x"))
    cluster.create(configmap("b", namespace="other"))
    cached.cache.poll()
    before = cluster.count(client="kubernaut")
    got = cached.get("v1", "ConfigMap", "a", "ns")
    listed = cached.list("v1", "ConfigMap")
    by_label = cached.list("v1", "ConfigMap", "ns", {"app": "x"})
    in_namespace = cached.list("v1", "ConfigMap", "other")
    assert cluster.count(client="kubernaut") == before
    assert got["metadata"]["name"] == "a"
    assert [o["metadata"]["name"] for o in listed.items] == ["a", "b"]
    assert [o["metadata"]["name"] for o in by_label.items] == ["a"]
    assert [o["metadata"]["name"] for o in in_namespace.items] == ["b"]
    assert listed.resource_version == cluster.resource_version


def test_what_a_read_returns_is_read_only_and_a_copy_is_the_callers_to_edit(
        cluster: MemoryCluster, cached: CachedCluster) -> None:
    cluster.create(configmap("a"))
    cluster.create(configmap("b"))
    cached.cache.poll()
    cluster.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}})
    got = cached.get("v1", "ConfigMap", "a", "ns")
    listed = cached.list("v1", "ConfigMap", "ns").items
    missed = cached.get("v1", "Secret", "s", "ns")  # not a cached kind: the server's answer
    # The embedded cluster answers this client with private copies, as a real server does: the
    # cache freezes them all the same.
    answered = cached.update({**thaw(got), "data": {"k": "new"}})
    for obj in (got, listed[1], missed, answered):
        with pytest.raises(TypeError, match="read-only"):
            obj["metadata"]["labels"] = {}
    with pytest.raises(TypeError, match="read-only"):
        got["data"]["k"] = "edited"
    mine = copy.deepcopy(cached.get("v1", "ConfigMap", "b", "ns"))
    mine["data"]["k"] = "edited"  # the caller's own copy
    assert cached.get("v1", "ConfigMap", "b", "ns")["data"] == {"k": "v"}
    assert cluster.get("v1", "ConfigMap", "b", "ns")["data"] == {"k": "v"}


def test_uncached_kinds_and_misses_ask_the_server(cluster: MemoryCluster, cached: CachedCluster) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}}
    cluster.create(secret)
    assert cached.get("v1", "Secret", "s", "ns")["metadata"]["name"] == "s"
    # Created a moment ago, not yet delivered by the watch: the miss is confirmed with the server.
    cluster.create(configmap("fresh"))
    assert cached.get("v1", "ConfigMap", "fresh", "ns")["metadata"]["name"] == "fresh"
    with pytest.raises(NotFound):
        cached.get("v1", "ConfigMap", "missing", "ns")
    assert cluster.count("get", client="kubernaut") == 3


def test_a_stale_cache_yields_a_conflict_never_a_lost_update(cluster: MemoryCluster, cached: CachedCluster) -> None:
    cluster.create(configmap("a"))
    cached.cache.poll()
    stale = cached.get("v1", "ConfigMap", "a", "ns")
    cluster.update({**cluster.get("v1", "ConfigMap", "a", "ns"), "data": {"k": "someone else"}})
    with pytest.raises(Conflict):
        cached.update({**stale, "data": {"k": "mine"}})
    assert cluster.get("v1", "ConfigMap", "a", "ns")["data"] == {"k": "someone else"}
    cached.cache.poll()  # the watch catches up; the retry reads the current version
    fresh = cached.get("v1", "ConfigMap", "a", "ns")
    assert cached.update({**fresh, "data": {"k": "mine"}})["data"] == {"k": "mine"}


def test_a_reconcile_reads_its_own_write(cluster: MemoryCluster, cached: CachedCluster) -> None:
    created = cached.create(configmap("a"))
    assert cached.get("v1", "ConfigMap", "a", "ns")["metadata"]["uid"] == created["metadata"]["uid"]
    updated = cached.update({**created, "data": {"k": "2"}})
    # Before the watch delivers it, the next read already sees the write's answer.
    assert cached.get("v1", "ConfigMap", "a", "ns")["metadata"]["resourceVersion"] == \
        updated["metadata"]["resourceVersion"]


def test_a_narrowed_informer_answers_only_lists_it_covers(cluster: MemoryCluster) -> None:
    cache = InformerCache(cluster, cluster.clock, {("v1", "ConfigMap"): {"managed": "yes"}})
    cache.poll()
    cached = CachedCluster(cache)
    cluster.create(configmap("ours", managed="yes"))
    cluster.create(configmap("theirs"))
    cache.poll()
    before = cluster.count("list")
    assert [o["metadata"]["name"] for o in cached.list("v1", "ConfigMap", "ns", {"managed": "yes"}).items] == ["ours"]
    assert cluster.count("list") == before
    assert len(cached.list("v1", "ConfigMap", "ns").items) == 2  # not covered: the server answers
    assert cluster.count("list") == before + 1


def test_selectors_of_keeps_a_common_selector_and_widens_differing_ones() -> None:
    specs = [WatchSpec("v1", "Pod", label_selector={"a": "b"}), WatchSpec("v1", "Pod", label_selector="a=b"),
             WatchSpec("batch/v1", "Job", label_selector={"a": "b"}), WatchSpec("batch/v1", "Job")]
    assert selectors_of(specs) == {("v1", "Pod"): {"a": "b"}, ("batch/v1", "Job"): None}
