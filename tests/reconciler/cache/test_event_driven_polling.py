"""Issue 13: a single-threaded driver asks each list-watcher whether it has something pending
before polling it; a quiet watch's bookmark is still taken when someone asks how far the cache
is up to date; a watch that cannot tell (a real API server's) is polled every time, as before."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from reconciler.cache import Informer, InformerCache
from reconciler.cache.list_watch import ListWatcher
from reconciler.clock import VirtualClock
from reconciler.cluster import FaultInjector, Watch, WatchEvent
from reconciler.cluster.memory import MemoryCluster
from reconciler.cluster.memory_watch import MemoryWatch
from reconciler.controller import Controller
from reconciler.runtime import Manager


def obj(kind: str, name: str) -> dict[str, Any]:
    api = "v1" if kind in ("ConfigMap", "Secret") else "batch/v1"
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "ns"}}


def watcher(cluster: Any, clock: VirtualClock, events: list[str] | None = None) -> ListWatcher:
    return ListWatcher(cluster, "v1", "ConfigMap", clock, owner="test", on_list=lambda items: None,
                       on_event=lambda kind, o: (events if events is not None else []).append(kind),
                       count=lambda name: None)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def cluster(clock: VirtualClock) -> MemoryCluster:
    return MemoryCluster(clock=clock, seed=0)


def test_a_step_polls_only_the_watches_with_news(cluster: MemoryCluster, clock: VirtualClock,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    manager = Manager(cluster, clock)
    manager.use_informers(InformerCache(cluster, clock, [("v1", "ConfigMap"), ("v1", "Secret")]))
    reconciled: list[str] = []
    manager.add(Controller("c", lambda key: reconciled.append(key.name), [("v1", "ConfigMap"), ("v1", "Secret")]))
    manager.run_until_idle()  # listed and watching
    asked: Counter[str] = Counter()
    for method in ("next", "take_queued"):
        original = getattr(MemoryWatch, method)

        def spy(self: MemoryWatch, *args: Any, _original: Any = original) -> Any:
            asked[self.type_key[1]] += 1
            return _original(self, *args)

        monkeypatch.setattr(MemoryWatch, method, spy)
    cluster.create(obj("ConfigMap", "a"))
    manager.run_until_idle()
    assert reconciled == ["a"]
    assert asked["ConfigMap"] > 0 and asked["Secret"] == 0


def test_the_resource_version_of_a_quiet_watch_includes_its_bookmark(cluster: MemoryCluster,
                                                                     clock: VirtualClock) -> None:
    lister = watcher(cluster, clock)
    lister.poll()
    for n in range(3):
        cluster.create(obj("Job", f"other-{n}"))  # not ours: the watch has only a bookmark to give
    assert not lister.pending()
    assert lister.resource_version == cluster.resource_version  # without a poll


def test_a_watch_with_events_is_not_bookmarked_past_them(cluster: MemoryCluster, clock: VirtualClock) -> None:
    events: list[str] = []
    lister = watcher(cluster, clock, events)
    lister.poll()
    before = lister.resource_version
    cluster.create(obj("ConfigMap", "a"))
    cluster.create(obj("Job", "other"))
    assert lister.pending()
    assert lister.resource_version == before  # "a" is not delivered yet
    lister.poll()
    assert events == ["ADDED"] and lister.resource_version == cluster.resource_version


def test_a_failed_list_is_pending_again_only_when_its_retry_is_due(cluster: MemoryCluster,
                                                                   clock: VirtualClock) -> None:
    cluster.faults = FaultInjector(seed=0)
    cluster.faults.schedule("list", 503, kind="ConfigMap")
    lister = watcher(cluster, clock)
    assert lister.pending()  # never listed
    lister.poll()
    assert lister.retry_at is not None and not lister.pending()
    clock.advance(lister.retry_at - clock.monotonic())
    assert lister.pending()
    lister.poll()
    assert lister.retry_at is None and not lister.pending()


class OpaqueWatch:
    """A watch that says nothing about what it holds (as the real API server's client's)."""

    def __init__(self, inner: Watch) -> None:
        self._inner = inner

    def next(self, timeout: float | None = 0.0) -> WatchEvent | None:
        return self._inner.next(timeout)

    def close(self) -> None:
        self._inner.close()


class OpaqueCluster:
    def __init__(self, cluster: MemoryCluster) -> None:
        self._cluster = cluster

    def watch(self, *args: Any, **kwargs: Any) -> OpaqueWatch:
        return OpaqueWatch(self._cluster.watch(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cluster, name)


def test_a_watch_that_cannot_tell_is_always_polled(cluster: MemoryCluster, clock: VirtualClock) -> None:
    events: list[str] = []
    lister = watcher(OpaqueCluster(cluster), clock, events)
    lister.poll()
    assert lister.pending()
    cluster.create(obj("ConfigMap", "a"))
    lister.poll()
    assert events == ["ADDED"] and lister.resource_version == cluster.resource_version


def test_a_due_resync_makes_an_informer_pending(cluster: MemoryCluster, clock: VirtualClock) -> None:
    cluster.create(obj("ConfigMap", "a"))
    informer = Informer(cluster, "v1", "ConfigMap", clock, resync_seconds=600.0)
    informer.poll()
    assert not informer.pending()
    clock.advance(600)
    assert informer.pending()
    informer.poll()
    assert informer.stats.resyncs == 1 and not informer.pending()


def test_the_manager_still_delivers_resyncs(cluster: MemoryCluster, clock: VirtualClock) -> None:
    cluster.create(obj("ConfigMap", "a"))
    manager = Manager(cluster, clock)
    manager.use_informers(InformerCache(cluster, clock, [("v1", "ConfigMap")], resync_seconds=600.0))
    reconciled: list[str] = []
    manager.add(Controller("c", lambda key: reconciled.append(key.name), [("v1", "ConfigMap")]))
    manager.run_until_idle()
    clock.advance(600)
    manager.run_until_idle()
    assert reconciled == ["a", "a"]
