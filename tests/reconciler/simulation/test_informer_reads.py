"""``InformerReads``: a simulated controller's reads come from its informers once they have
listed (absent means absent, no 404 request), from the API server before that."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.clock import VirtualClock
from reconciler.cluster import NotFound
from reconciler.cluster.memory import MemoryCluster
from reconciler.simulation.informer_reads import InformerReads

CM = ("v1", "ConfigMap")


def configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"},
            "data": {"k": "v"}}


@pytest.fixture
def cluster() -> MemoryCluster:
    return MemoryCluster(clock=VirtualClock(), seed=0)


def test_before_the_informers_listed_reads_go_to_the_api_server(cluster: MemoryCluster) -> None:
    cluster.create(configmap("a"))
    reads = InformerReads(cluster, VirtualClock(), [CM])
    assert reads.peek(*CM, "a", "ns") is not None and reads.peek(*CM, "missing", "ns") is None
    assert cluster.count("get") == 2


def test_after_listing_reads_are_local_and_copies_are_the_callers(cluster: MemoryCluster) -> None:
    cluster.create(configmap("a"))
    reads = InformerReads(cluster, VirtualClock(), [CM])
    reads.informers.poll()
    cluster.reset_requests()
    assert reads.peek(*CM, "missing", "ns") is None
    mine = reads.get(*CM, "a", "ns")
    mine["data"]["k"] = "changed"
    snapshot = reads.get(*CM, "a", "ns", copy=False)
    assert snapshot["data"] == {"k": "v"} and snapshot is reads.peek(*CM, "a", "ns")  # the cached one
    assert cluster.count("get") == 0


def test_a_missing_object_raises_the_api_servers_not_found(cluster: MemoryCluster) -> None:
    reads = InformerReads(cluster, VirtualClock(), [CM])
    reads.informers.poll()
    with pytest.raises(NotFound, match='configmaps "gone" not found'):
        reads.get(*CM, "gone", "ns")


def test_writes_are_read_back_before_the_watch_delivers_them(cluster: MemoryCluster) -> None:
    reads = InformerReads(cluster, VirtualClock(), [CM])
    reads.informers.poll()
    reads.api.create(configmap("new"))  # not polled since: only the write's answer knows it
    found = reads.peek(*CM, "new", "ns")
    assert found is not None and found["data"] == {"k": "v"}
