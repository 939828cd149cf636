"""The fault injector's campaign knobs (issue 15, item 6): faults narrowed to some clients (the
simulators' requests stay clean), watch rounds ending in 410 Expired, counts by kind of fault."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from reconciler.cache import Informer
from reconciler.clock import VirtualClock
from reconciler.cluster import ApiError, FaultInjector, Watch
from reconciler.cluster.memory import MemoryCluster


def configmap(name: str, value: str = "v") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"},
            "data": {"k": value}}


def test_faults_reach_only_the_named_clients() -> None:
    cluster = MemoryCluster(seed=0, faults=FaultInjector(rate=1.0, statuses=(500,), clients={"kubernaut"}))
    cluster.client("simulator").create(configmap("a"))  # untouched
    cluster.create(configmap("b"))  # the anonymous client too
    with pytest.raises(ApiError):
        cluster.client("kubernaut").create(configmap("c"))
    assert sorted(c["metadata"]["name"] for c in cluster.objects("ConfigMap")) == ["a", "b"]
    assert cluster.faults is not None and dict(cluster.faults.counts) == {"500": 1}


def test_counts_by_kind_of_fault() -> None:
    faults = FaultInjector(rate=0.3, lost_response_rate=0.3, statuses=(500, "timeout"), seed=4)
    cluster = MemoryCluster(seed=0, faults=faults)
    for index in range(200):
        with contextlib.suppress(ApiError):
            cluster.create(configmap(f"c{index}"))
    assert set(faults.counts) == {"500", "timeout", "lost response"}
    assert sum(faults.counts.values()) == faults.injected


def test_the_request_faults_of_a_seed_do_not_depend_on_watch_expiry() -> None:
    def failures(watch_expiry_rate: float) -> list[str]:
        cluster = MemoryCluster(seed=0, faults=FaultInjector(rate=0.5, seed=7, watch_expiry_rate=watch_expiry_rate))
        watch = cluster.watch("v1", "ConfigMap", resource_version=cluster.resource_version)
        failed = []
        for index in range(40):
            try:
                cluster.create(configmap(f"c{index}"))
            except ApiError:
                failed.append(f"c{index}")
            while (event := watch.next(0)) is not None and event.type != "ERROR":
                pass
            if watch.closed:
                watch = cluster.watch("v1", "ConfigMap", resource_version=cluster.resource_version)
        return failed

    assert failures(0.0) == failures(0.5)


def test_a_watch_round_ends_in_410_at_the_rate_asked() -> None:
    faults = FaultInjector(watch_expiry_rate=0.3, seed=1)
    cluster = MemoryCluster(seed=0, faults=faults)
    rounds = expired = 0
    watch = cluster.watch("v1", "ConfigMap", resource_version=cluster.resource_version)
    for index in range(400):
        cluster.create(configmap(f"c{index}"))
        rounds += 1
        events = []
        while (event := watch.next(0)) is not None:
            events.append(event)
        assert events[0].type == "ADDED"  # a round delivers its events first, then may end
        if events[-1].type == "ERROR":
            assert events[-1].object["code"] == 410 and events[-1].object["reason"] == "Expired"
            assert watch.closed
            expired += 1
            watch = cluster.watch("v1", "ConfigMap", resource_version=cluster.resource_version)
    assert expired == faults.counts["watch expired"]
    assert 0.2 * rounds < expired < 0.4 * rounds


def test_an_idle_watch_never_expires() -> None:
    cluster = MemoryCluster(seed=0, faults=FaultInjector(watch_expiry_rate=1.0))
    watch = cluster.watch("v1", "ConfigMap", resource_version=cluster.resource_version)
    assert all(watch.next(0) is None for _ in range(10))
    assert not watch.closed


def test_watches_of_other_clients_are_not_expired() -> None:
    cluster = MemoryCluster(seed=0, faults=FaultInjector(watch_expiry_rate=1.0, clients={"kubernaut"}))
    rv = cluster.resource_version
    kubernaut = cluster.client("kubernaut").watch("v1", "ConfigMap", resource_version=rv)
    observer = cluster.client("observer").watch("v1", "ConfigMap", resource_version=rv)
    cluster.create(configmap("a"))

    def round_of(watch: Watch) -> list[str]:
        types: list[str] = []
        while (event := watch.next(0)) is not None:
            types.append(event.type)
        return types

    assert round_of(kubernaut) == ["ADDED", "ERROR"]
    assert round_of(observer) == ["ADDED"]
    cluster.create(configmap("b"))
    assert round_of(observer) == ["ADDED"]


def test_an_informer_relists_after_an_injected_410_and_misses_nothing() -> None:
    clock = VirtualClock()
    cluster = MemoryCluster(clock=clock, seed=0, faults=FaultInjector(watch_expiry_rate=1.0))
    informer = Informer(cluster, "v1", "ConfigMap", clock)
    informer.poll()
    for index in range(5):
        cluster.create(configmap(f"c{index}"))
        informer.poll()
    assert informer.stats.relists_after_expiry >= 4
    assert sorted(o["metadata"]["name"] for o in informer.items()) == [f"c{i}" for i in range(5)]
