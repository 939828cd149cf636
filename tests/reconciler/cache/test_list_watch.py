"""The one list/watch loop (issue 13): ``ListWatcher`` lists, watches from the list's
resourceVersion, re-lists after 410, resumes a watch that merely ended, backs off on API errors;
the informer and the controller's own watches are both built on it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from reconciler.cache import Informer, InformerCache
from reconciler.cache.list_watch import ListWatcher
from reconciler.clock import VirtualClock
from reconciler.cluster import FaultInjector
from reconciler.cluster.memory import MemoryCluster
from reconciler.controller import Controller, WatchSource
from reconciler.runtime import Manager


def configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"}}


class Recorder:
    """What a ListWatcher hands its owner: listed names, watch events, counters."""

    def __init__(self) -> None:
        self.lists: list[list[str]] = []
        self.events: list[tuple[str, str]] = []
        self.counts: Counter[str] = Counter()

    def watcher(self, cluster: MemoryCluster, clock: VirtualClock) -> ListWatcher:
        return ListWatcher(cluster, "v1", "ConfigMap", clock, owner="test",
                           on_list=lambda items: self.lists.append([o["metadata"]["name"] for o in items]),
                           on_event=lambda kind, obj: self.events.append((kind, obj["metadata"]["name"])),
                           count=lambda name: self.counts.update([name]))


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def cluster(clock: VirtualClock) -> MemoryCluster:
    return MemoryCluster(clock=clock, seed=0, history_size=3)


def test_lists_once_then_delivers_watch_events(cluster: MemoryCluster, clock: VirtualClock) -> None:
    cluster.create(configmap("a"))
    seen = Recorder()
    watcher = seen.watcher(cluster, clock)
    assert watcher.poll() >= 1 and seen.lists == [["a"]]  # the listed object (and a bookmark)
    cluster.create(configmap("b"))
    cluster.delete("v1", "ConfigMap", "a", "ns")
    watcher.poll()
    assert seen.events == [("ADDED", "b"), ("DELETED", "a")]
    assert seen.lists == [["a"]] and seen.counts == Counter({"lists": 1})
    assert watcher.resource_version == cluster.resource_version


def test_expired_watch_relists_and_closed_watch_resumes(cluster: MemoryCluster, clock: VirtualClock) -> None:
    seen = Recorder()
    watcher = seen.watcher(cluster, clock)
    watcher.poll()
    cluster.close_watches()
    cluster.create(configmap("a"))
    watcher.poll()  # resumed from the last resourceVersion: the change is not lost, no re-list
    assert seen.events == [("ADDED", "a")] and seen.counts == Counter({"lists": 1, "watch_restarts": 1})
    cluster.close_watches()
    for n in range(5):  # more changes than the history keeps: the resume gets 410
        cluster.create(configmap(f"x{n}"))
    watcher.poll()
    assert seen.counts["relists_after_expiry"] == 1 and seen.counts["lists"] == 2
    assert seen.lists[-1] == ["a", "x0", "x1", "x2", "x3", "x4"]


def test_api_errors_back_off_instead_of_raising(cluster: MemoryCluster, clock: VirtualClock) -> None:
    cluster.faults = FaultInjector(seed=0)
    cluster.faults.schedule("list", 503, kind="ConfigMap")
    seen = Recorder()
    watcher = seen.watcher(cluster, clock)
    assert watcher.poll() == 0 and watcher.retry_at is not None and seen.lists == []
    assert watcher.poll() == 0  # not before the retry time
    clock.advance(watcher.retry_at - clock.monotonic())
    cluster.create(configmap("a"))
    assert watcher.poll() >= 1 and seen.lists == [["a"]] and watcher.retry_at is None


def test_informer_and_controller_watch_share_the_loop(cluster: MemoryCluster, clock: VirtualClock) -> None:
    informer = Informer(cluster, "v1", "ConfigMap", clock)
    controller = Controller("c", lambda key: None, [("v1", "ConfigMap")]).bind(cluster, clock)
    (source,) = controller.sources
    assert isinstance(source, WatchSource)
    assert isinstance(informer._lister, ListWatcher) and isinstance(source._lister, ListWatcher)


def test_manager_polls_a_shared_informer_once_per_step(cluster: MemoryCluster, clock: VirtualClock) -> None:
    manager = Manager(cluster, clock)
    informers = manager.use_informers(InformerCache(cluster, clock, [("v1", "ConfigMap")]))
    for name in ("one", "two", "three"):
        manager.add(Controller(name, lambda key: None, [("v1", "ConfigMap")]))
    polls = []
    informer = informers.informers[("v1", "ConfigMap")]
    original = informer.poll

    def counted(timeout: float = 0.0) -> int:
        polls.append(timeout)
        return original(timeout)

    informer.poll = counted  # type: ignore[method-assign]
    manager.step()
    assert len(polls) == 1
