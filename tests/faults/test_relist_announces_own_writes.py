"""Regression (fault campaign, issue 15 item 6): a re-list after 410 announces every change the
listeners have not heard of, including writes whose answers the cache already holds.

``CachedCluster`` puts a write's answer into the informer at once (client-go's mutation cache),
without telling listeners: they hear of it from the watch. When the watch expired before
delivering that change, the re-list compared against the cached version, found it equal and
announced nothing, so the controllers watching the kind (the workflow controller watching
ActionExecutions) never reconciled: under 20% errors and 30% of watch rounds ending in 410, 13 of
20 V1 workflows sat until their 1-hour timeout."""

from __future__ import annotations

from typing import Any

from reconciler.cache import CachedCluster, InformerCache
from reconciler.clock import VirtualClock
from reconciler.cluster.memory import MemoryCluster


def configmap(name: str, value: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"},
            "data": {"k": value}}


def test_a_relist_announces_a_write_the_cache_observed_but_the_watch_never_delivered() -> None:
    clock = VirtualClock()
    cluster = MemoryCluster(clock=clock, seed=0)
    cache = InformerCache(cluster, clock, [("v1", "ConfigMap")])
    informer = cache.informers[("v1", "ConfigMap")]
    heard: list[tuple[str, str, str]] = []
    informer.add_listener(lambda kind, obj, old: heard.append((kind, obj["metadata"]["name"], obj["data"]["k"])))
    cluster.create(configmap("a", "1"))
    cache.poll()
    assert heard == [("ADDED", "a", "1")]
    controller_view = CachedCluster(cache)
    controller_view.update({**controller_view.get("v1", "ConfigMap", "a", "ns"), "data": {"k": "2"}})
    controller_view.create(configmap("b", "1"))
    assert informer.get("ns", "a")["data"] == {"k": "2"}  # type: ignore[index]  # the answer, cached
    # The watch ends before delivering either change, and the history is gone: 410, re-list.
    cluster.close_watches()
    cluster.compact_history()
    cache.poll()
    assert informer.stats.relists_after_expiry == 1
    assert heard[1:] == [("MODIFIED", "a", "2"), ("ADDED", "b", "1")]
    # Nothing is announced twice: a later re-list with no change is silent.
    cluster.close_watches()
    cluster.compact_history()
    cache.poll()
    assert len(heard) == 3


def test_listeners_of_the_first_list_read_the_cache_not_the_api_server() -> None:
    # A key mapper that lists (the workflow controller's lock waiters) ran while the first list
    # was announced, before the cache counted as synced: it asked the API server, and under
    # faults its error dropped the event.
    clock = VirtualClock()
    cluster = MemoryCluster(clock=clock, seed=0)
    for name in ("a", "b", "c"):
        cluster.create(configmap(name, "1"))
    cache = InformerCache(cluster, clock, [("v1", "ConfigMap")])
    view = CachedCluster(cache)
    seen: list[int] = []
    cache.informers[("v1", "ConfigMap")].add_listener(
        lambda kind, obj, old: seen.append(len(view.list("v1", "ConfigMap", "ns").items)))
    cache.poll()
    assert seen == [3, 3, 3]
    assert cluster.count("list") == 1  # the informer's own
