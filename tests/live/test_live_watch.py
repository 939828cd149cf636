"""Watches against a real API server: events in order, bookmarks, "from now", label filtering,
410 for an expired resourceVersion, and closing an idle watch."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.cluster import Watch, WatchEvent
from reconciler.cluster.kube import KubeCluster

pytestmark = pytest.mark.live

WAIT = 30.0


def configmap(name: str, namespace: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace,
                                                                  "labels": labels}, "data": {"k": "v"}}


def next_change(watch: Watch, timeout: float = WAIT) -> WatchEvent:
    """The next non-BOOKMARK event; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        event = watch.next(remaining)
        if event is not None and event.type != "BOOKMARK":
            return event
        if event is None and getattr(watch, "closed", False):
            pytest.fail("the watch ended early")
    pytest.fail(f"no event within {timeout:.0f}s")


def test_events_in_order_from_a_listed_version(live: KubeCluster, namespace: str,
                                               unique: Callable[[str], str]) -> None:
    tag, name = unique("w"), unique("cm")
    listed = live.list("v1", "ConfigMap", namespace, label_selector={"watch": tag})
    with live.watch("v1", "ConfigMap", namespace, label_selector={"watch": tag},
                    resource_version=listed.resource_version, allow_bookmarks=True) as watch:
        created = live.create(configmap(name, namespace, watch=tag))
        created["data"] = {"k": "v2"}
        live.update(created)
        live.delete("v1", "ConfigMap", name, namespace)
        events = [next_change(watch) for _ in range(3)]
    assert [(e.type, e.object["metadata"]["name"]) for e in events] == [
        ("ADDED", name), ("MODIFIED", name), ("DELETED", name)]
    assert events[1].object["data"] == {"k": "v2"}
    assert all(e.object["kind"] == "ConfigMap" for e in events)


def test_without_a_version_only_new_changes_arrive(live: KubeCluster, namespace: str,
                                                   unique: Callable[[str], str]) -> None:
    tag = unique("w")
    live.create(configmap(unique("before"), namespace, watch=tag))
    with live.watch("v1", "ConfigMap", namespace, label_selector={"watch": tag}) as watch:
        live.create(configmap(unique("unlabelled"), namespace))  # filtered out by the selector
        after = live.create(configmap(unique("after"), namespace, watch=tag))
        event = next_change(watch)
    assert (event.type, event.object["metadata"]["name"]) == ("ADDED", after["metadata"]["name"])


def test_an_expired_version_is_one_410_error_event(live: KubeCluster, namespace: str,
                                                   unique: Callable[[str], str]) -> None:
    live.create(configmap(unique("cm"), namespace))  # so a replay, if any, has something to show
    # Revision 1 predates the API server's watch cache, which starts at the revision it listed
    # when the server started: the answer is an ERROR event with 410 Expired.
    with live.watch("v1", "ConfigMap", namespace, resource_version="1") as watch:
        event = watch.next(WAIT)
        assert event is not None
        if event.type != "ERROR":
            pytest.skip("this server still serves revision 1 (watch cache off and etcd not compacted yet)")
        assert event.object["code"] == 410
        assert watch.next(WAIT) is None and watch.closed


def test_close_wakes_a_blocked_reader(live: KubeCluster, namespace: str, unique: Callable[[str], str]) -> None:
    watch = live.watch("v1", "ConfigMap", namespace, label_selector={"watch": unique("idle")})
    results: list[WatchEvent | None] = []
    reader = threading.Thread(target=lambda: results.append(watch.next(None)), daemon=True)
    reader.start()
    time.sleep(0.5)
    watch.close()
    reader.join(10)
    assert not reader.is_alive() and results == [None]
