"""The embedded watch's cheap delivery (issue 13): ``pending`` tells a driver whether polling is
worth it, ``take_queued`` hands over every queued event at once, ``bookmark`` answers "how far
am I up to date" without taking anything else, and the hub stops offering changes to a watch
once it is closed."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from reconciler.cluster import FaultInjector
from reconciler.cluster.memory import MemoryCluster
from reconciler.cluster.memory_watch import MemoryWatch

if TYPE_CHECKING:
    from conftest import Builders


def names(events: list[tuple[str, dict]]) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(kind, obj["metadata"]["name"]) for kind, obj in events]


def test_pending_only_while_there_is_more_than_a_bookmark(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("v1", "ConfigMap", allow_bookmarks=True)
    assert not watch.pending
    cluster.create(make.job())  # another kind: the revision moves, nothing to deliver
    assert not watch.pending
    cluster.create(make.configmap("a"))
    assert watch.pending
    assert names(watch.take_queued()) == [("ADDED", "a")]
    # Delivered, then dry: the end of the round is still to be judged (fault injection) by next().
    assert watch.pending
    assert watch.next(0) is None  # the round ends; nothing newer than "a" to bookmark
    assert not watch.pending
    watch.close()
    assert watch.pending  # the end of the watch is news too


def test_take_queued_returns_every_event_in_order_as_next_would(cluster: MemoryCluster, make: Builders) -> None:
    batched = cluster.watch("v1", "ConfigMap", allow_bookmarks=True)
    one_by_one = cluster.watch("v1", "ConfigMap", allow_bookmarks=True)
    cm = cluster.create(make.configmap("a"))
    cluster.update({**cm, "data": {"key": "2"}})
    cluster.create(make.configmap("b"))
    cluster.delete("v1", "ConfigMap", "a")
    events = batched.take_queued()
    assert names(events) == [("ADDED", "a"), ("MODIFIED", "a"), ("ADDED", "b"), ("DELETED", "a")]
    singles = []
    while (event := one_by_one.next(0)) is not None and event.type != "BOOKMARK":
        singles.append((event.type, event.object))
    assert events == singles
    # The objects are the same shared snapshots next() hands out, one per change.
    assert all(a is b for (_, a), (_, b) in zip(events, singles, strict=True))
    assert batched.take_queued() == []
    # Nothing newer than the last event taken: no bookmark, then the same as next() from here.
    assert batched.next(0) is None


def test_the_round_still_ends_after_a_batch(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("v1", "ConfigMap", allow_bookmarks=True)
    cluster.faults = FaultInjector(watch_expiry_rate=1.0)
    cluster.create(make.configmap("a"))
    cluster.create(make.configmap("b"))
    assert names(watch.take_queued()) == [("ADDED", "a"), ("ADDED", "b")]
    event = watch.next(0)  # one round: both events, then 410
    assert event is not None and event.type == "ERROR" and event.object["code"] == 410
    assert cluster.faults.counts["watch expired"] == 1


def test_bookmark_answers_only_for_a_quiet_watch(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("v1", "ConfigMap", allow_bookmarks=True)
    cluster.create(make.job())
    event = watch.bookmark()
    assert event is not None and event.type == "BOOKMARK"
    assert event.object["metadata"]["resourceVersion"] == cluster.resource_version
    assert watch.bookmark() is None  # once per revision, as next() gives them
    cluster.create(make.configmap("a"))
    assert watch.bookmark() is None  # an event is waiting: the bookmark would skip it
    assert names(watch.take_queued()) == [("ADDED", "a")]
    no_bookmarks = cluster.watch("v1", "ConfigMap")
    cluster.create(make.job("other"))
    assert no_bookmarks.bookmark() is None


def test_closed_and_dropped_watches_are_no_longer_offered_changes(cluster: MemoryCluster, make: Builders) -> None:
    kept = cluster.watch("v1", "ConfigMap")
    closed = cluster.watch("v1", "ConfigMap")
    closed.close()
    dropped = cluster.watch("v1", "ConfigMap")
    offered: list[str] = []
    original = MemoryWatch.offer

    def spy(self: MemoryWatch, change: object) -> None:
        offered.append("kept" if self is kept else "other")
        original(self, change)  # type: ignore[arg-type]

    MemoryWatch.offer = spy  # type: ignore[method-assign]
    try:
        del dropped
        gc.collect()
        cluster.create(make.configmap("a"))
    finally:
        MemoryWatch.offer = original  # type: ignore[method-assign]
    assert offered == ["kept"]
    assert names(kept.take_queued()) == [("ADDED", "a")]
