"""A long run stays bounded (issue 13): the request log is a ring buffer whose counts stay
exact, and Events expire after the API server's --event-ttl on the cluster's clock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from reconciler.clock import VirtualClock
from reconciler.cluster import NotFound
from reconciler.cluster.event_ttl import DEFAULT_EVENT_TTL
from reconciler.cluster.memory import MemoryCluster

if TYPE_CHECKING:
    from conftest import Builders


def event(name: str = "ev", namespace: str = "default") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {"kind": "ConfigMap", "name": "cm"}, "reason": "Test", "message": "m", "count": 1}


def test_the_request_log_keeps_the_newest_records_and_exact_counts(clock: VirtualClock, make: Builders) -> None:
    cluster = MemoryCluster(clock=clock, seed=0, request_log_size=10)
    for n in range(25):
        cluster.create(make.configmap(f"cm-{n:02d}"))
    for n in range(5):
        cluster.get("v1", "ConfigMap", f"cm-{n:02d}")
    records = cluster.requests
    assert len(records) == 10
    assert [r.verb for r in records] == ["create"] * 5 + ["get"] * 5
    assert records[0].name == "cm-20"
    assert cluster.count("create") == 25 and cluster.count("get") == 5 and cluster.count() == 30
    assert cluster.count("create", "ConfigMap") == 25 and cluster.count("create", "Secret") == 0
    cluster.reset_requests()
    assert cluster.count() == 0 and cluster.requests == []


def test_requests_are_counted_by_the_client_that_made_them(cluster: MemoryCluster, make: Builders) -> None:
    kubernaut = cluster.client("kubernaut")
    kubernaut.create(make.configmap("a"))
    kubernaut.get("v1", "ConfigMap", "a")
    kubernaut.watch("v1", "ConfigMap").close()
    cluster.get("v1", "ConfigMap", "a")
    with pytest.raises(NotFound):
        kubernaut.get("v1", "ConfigMap", "missing")
    assert cluster.request_counts() == {("kubernaut", "create", "ConfigMap"): 1,
                                        ("kubernaut", "get", "ConfigMap"): 2,
                                        ("kubernaut", "watch", "ConfigMap"): 1,
                                        ("", "get", "ConfigMap"): 1}
    assert [r.client for r in cluster.requests] == ["kubernaut"] * 3 + ["", "kubernaut"]
    assert cluster.count("get", client="kubernaut") == 2


def test_events_expire_one_ttl_after_their_last_write(clock: VirtualClock) -> None:
    cluster = MemoryCluster(clock=clock, seed=0)
    watch = cluster.watch("v1", "Event")
    cluster.create(event("old"))
    clock.advance(1800)
    stored = cluster.create(event("renewed"))
    clock.advance(1800)
    cluster.update({**stored, "count": 2})  # a write renews the lease
    clock.advance(DEFAULT_EVENT_TTL - 1800)
    names = {e["metadata"]["name"] for e in cluster.list("v1", "Event").items}
    assert names == {"renewed"}  # "old" was last written an hour ago
    seen = [(e.type, e.object["metadata"]["name"]) for e in iter(watch.next, None)]
    assert ("DELETED", "old") in seen
    clock.advance(1800)
    assert cluster.list("v1", "Event").items == []


def test_other_kinds_never_expire_and_ttl_none_keeps_events(clock: VirtualClock, make: Builders) -> None:
    keeping = MemoryCluster(clock=clock, seed=0, event_ttl=None)
    keeping.create(event())
    keeping.create(make.configmap())
    clock.advance(10 * DEFAULT_EVENT_TTL)
    assert len(keeping.list("v1", "Event").items) == 1 and len(keeping.list("v1", "ConfigMap").items) == 1


def test_a_short_ttl_bounds_the_events_of_a_long_run(clock: VirtualClock) -> None:
    cluster = MemoryCluster(clock=clock, seed=0, event_ttl=60.0)
    for n in range(100):
        cluster.create(event(f"ev-{n:03d}"))
        clock.advance(10)
    remaining = [e["metadata"]["name"] for e in cluster.list("v1", "Event").items]
    assert remaining == [f"ev-{n:03d}" for n in range(95, 100)]  # written less than 60 s ago


def test_an_invalid_ttl_is_refused() -> None:
    with pytest.raises(ValueError, match="TTL"):
        MemoryCluster(event_ttl=0)
