"""Controllers and the Manager on MemoryCluster: watches -> keys -> reconcile, error routing,
requeue timers on virtual time, re-list after 410, threaded workers."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.clock import VirtualClock
from reconciler.cluster import FaultInjector, Gone, Invalid, ServerError, TooManyRequests
from reconciler.cluster.memory import MemoryCluster
from reconciler.controller import (
    Controller,
    Key,
    PermanentError,
    Result,
    TransientError,
    WatchSpec,
    label_key,
    owner_key,
)
from reconciler.runtime import Manager
from reconciler.workqueue import Backoff


def cm(name: str, namespace: str = "ns", **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace,
                                                                  "labels": labels}, "data": {}}


class Recorder:
    """A reconcile function that records (virtual time, key) and runs a scripted behaviour."""

    def __init__(self, clock: VirtualClock, behaviour: Callable[[Key, int], Result | None] | None = None):
        self.clock = clock
        self.calls: list[tuple[float, Key]] = []
        self.behaviour = behaviour

    def __call__(self, key: Key) -> Result | None:
        self.calls.append((self.clock.monotonic(), key))
        count = sum(1 for _, k in self.calls if k == key)
        return self.behaviour(key, count) if self.behaviour else None

    def keys_seen(self) -> list[Key]:
        return [k for _, k in self.calls]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def cluster(clock: VirtualClock) -> MemoryCluster:
    return MemoryCluster(clock=clock, seed=1)


def manager_with(cluster: MemoryCluster, clock: VirtualClock, reconcile: Any, **kw: Any) -> tuple[Manager, Controller]:
    manager = Manager(cluster, clock)
    controller = manager.add(Controller("test", reconcile, [("v1", "ConfigMap")], **kw))
    return manager, controller


def test_list_then_watch_feeds_each_object_once(cluster: MemoryCluster, clock: VirtualClock) -> None:
    cluster.create(cm("existing"))
    recorder = Recorder(clock)
    manager, controller = manager_with(cluster, clock, recorder)
    assert manager.run_until_idle() == 1
    assert recorder.keys_seen() == [Key("ns", "existing")]
    cluster.create(cm("new"))
    cluster.apply(cm("new", team="a"))
    cluster.apply(cm("new", team="b"))  # three events while the key waits: one reconcile
    assert manager.run_until_idle() == 1
    assert recorder.keys_seen()[-1] == Key("ns", "new")
    cluster.delete("v1", "ConfigMap", "existing", "ns")  # deletions wake the key too
    manager.run_until_idle()
    assert recorder.keys_seen()[-1] == Key("ns", "existing")
    assert controller.stats.lists == 1


def test_requeue_after_runs_on_virtual_time(cluster: MemoryCluster, clock: VirtualClock) -> None:
    recorder = Recorder(clock, lambda key, n: Result(requeue_after=30) if n < 3 else None)
    manager, controller = manager_with(cluster, clock, recorder)
    cluster.create(cm("a"))
    started = time.monotonic()
    assert manager.run_until(lambda: len(recorder.calls) == 3, max_virtual_seconds=3600)
    assert [t for t, _ in recorder.calls] == [0, 30, 60]
    assert time.monotonic() - started < 2  # a minute of virtual time, no real waiting
    assert controller.stats.requeues_after == 2
    assert manager.run_until(lambda: False) is False  # nothing left: returns instead of hanging
    assert len(recorder.calls) == 3


def test_transient_errors_back_off_exponentially_then_reset(cluster: MemoryCluster, clock: VirtualClock) -> None:
    def flaky(key: Key, n: int) -> Result | None:
        if n <= 3:
            raise TransientError("not yet")
        if n == 4:
            return Result(requeue_after=100)
        if n == 5:
            raise TransientError("again")
        return None

    recorder = Recorder(clock, flaky)
    manager, controller = manager_with(cluster, clock, recorder, backoff=Backoff(base=2, factor=3, cap=60))
    cluster.create(cm("a"))
    manager.run_until(lambda: len(recorder.calls) == 6, max_virtual_seconds=10_000)
    times = [t for t, _ in recorder.calls]
    assert times == [0, 2, 8, 26, 126, 128]  # +2, +6, +18, then requeue 100, then back to +2
    assert controller.stats.transient_errors == 4 and controller.stats.succeeded == 2


def test_transient_cluster_errors_are_retried(cluster: MemoryCluster, clock: VirtualClock) -> None:
    def reconcile(key: Key, n: int) -> None:
        if n == 1:
            raise ServerError("etcd leader changed", 503)
        if n == 2:
            raise TooManyRequests("slow down", retry_after=45)

    recorder = Recorder(clock, reconcile)
    manager, controller = manager_with(cluster, clock, recorder, backoff=Backoff(base=1, factor=2, cap=60))
    cluster.create(cm("a"))
    manager.run_until(lambda: len(recorder.calls) == 3, max_virtual_seconds=1000)
    assert [t for t, _ in recorder.calls] == [0, 1, 46]  # 429's Retry-After beats the 2 s backoff
    assert controller.stats.transient_errors == 2


def test_permanent_errors_are_reported_and_not_retried(cluster: MemoryCluster, clock: VirtualClock) -> None:
    reported: list[tuple[Key, str]] = []

    def reconcile(key: Key, n: int) -> None:
        raise PermanentError("spec.steps[0].image: not pinned by digest")

    recorder = Recorder(clock, reconcile)
    manager, controller = manager_with(cluster, clock, recorder,
                                       on_permanent_error=lambda key, exc: reported.append((key, str(exc))))
    cluster.create(cm("a"))
    assert manager.run_until(lambda: False, max_virtual_seconds=24 * 3600) is False
    assert len(recorder.calls) == 1 and controller.stats.permanent_errors == 1
    assert reported == [(Key("ns", "a"), "spec.steps[0].image: not pinned by digest")]
    assert manager.next_timer() is None  # nothing scheduled: terminal
    cluster.apply(cm("a", fixed="yes"))  # a user edit is a new level: reconciled again
    manager.run_until_idle()
    assert len(recorder.calls) == 2


def test_non_transient_cluster_errors_are_permanent(cluster: MemoryCluster, clock: VirtualClock) -> None:
    def reconcile(key: Key, n: int) -> None:
        raise Invalid('Job.batch "x" is invalid: spec.template: field is immutable')

    recorder = Recorder(clock, reconcile)
    reported: list[Exception] = []
    manager, _ = manager_with(cluster, clock, recorder, on_permanent_error=lambda k, e: reported.append(e))
    cluster.create(cm("a"))
    manager.run_until(lambda: False, max_virtual_seconds=3600)
    assert len(recorder.calls) == 1 and isinstance(reported[0], Invalid)


def test_unexpected_exceptions_are_retried_with_backoff(cluster: MemoryCluster, clock: VirtualClock,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    def reconcile(key: Key, n: int) -> None:
        if n < 3:
            raise KeyError("bug")

    recorder = Recorder(clock, reconcile)
    manager, controller = manager_with(cluster, clock, recorder, backoff=Backoff(base=5, factor=2, cap=60))
    cluster.create(cm("a"))
    manager.run_until(lambda: len(recorder.calls) == 3, max_virtual_seconds=3600)
    assert [t for t, _ in recorder.calls] == [0, 5, 15]
    assert controller.stats.unexpected_errors == 2
    assert "Traceback" in caplog.text


def test_a_reconcile_returning_something_else_is_a_bug_and_retried(cluster: MemoryCluster,
                                                                   clock: VirtualClock) -> None:
    recorder = Recorder(clock, lambda key, n: {"requeue": True} if n == 1 else None)  # type: ignore[arg-type,return-value]
    manager, controller = manager_with(cluster, clock, recorder, backoff=Backoff(base=1, factor=2, cap=5))
    cluster.create(cm("a"))
    assert manager.run_until(lambda: len(recorder.calls) == 2, max_virtual_seconds=60)
    assert controller.stats.unexpected_errors == 1


def test_a_failing_permanent_error_hook_does_not_crash_the_loop(cluster: MemoryCluster, clock: VirtualClock) -> None:
    def hook(key: Key, exc: Exception) -> None:
        raise RuntimeError("status write failed")

    recorder = Recorder(clock, lambda key, n: (_ for _ in ()).throw(PermanentError("bad")))
    manager, _ = manager_with(cluster, clock, recorder, on_permanent_error=hook)
    cluster.create(cm("a"))
    assert manager.run_until_idle() == 1


def test_watch_resumes_after_close_without_relisting(cluster: MemoryCluster, clock: VirtualClock) -> None:
    recorder = Recorder(clock)
    manager, controller = manager_with(cluster, clock, recorder)
    cluster.create(cm("a"))
    manager.run_until_idle()
    cluster.close_watches()  # API server restart / watch timeout
    cluster.create(cm("b"))  # happens while the watch is down
    assert manager.run_until(lambda: Key("ns", "b") in recorder.keys_seen())
    assert controller.stats.lists == 1 and controller.stats.watch_restarts == 1


def test_relist_after_410_sees_everything_missed(cluster: MemoryCluster, clock: VirtualClock) -> None:
    recorder = Recorder(clock)
    manager, controller = manager_with(cluster, clock, recorder)
    cluster.create(cm("a"))
    cluster.create(cm("b"))
    manager.run_until_idle()
    recorder.calls.clear()
    cluster.close_watches()
    cluster.create(cm("c"))
    cluster.delete("v1", "ConfigMap", "a", "ns")
    cluster.compact_history()  # the resume point is gone: the watch answers 410 Expired
    assert manager.run_until_idle() == 2  # one pass notices, re-lists and reconciles
    assert controller.stats.relists_after_expiry == 1 and controller.stats.lists == 2
    # The re-list is level-triggered: every live object is reconciled again, and the new one.
    # (The deletion of 'a' is only visible as its absence; reconcile handles NotFound.)
    assert sorted(recorder.keys_seen()) == [Key("ns", "b"), Key("ns", "c")]


def test_failed_list_is_retried_on_the_clock(cluster: MemoryCluster, clock: VirtualClock) -> None:
    cluster.create(cm("a"))
    cluster.faults = FaultInjector()
    cluster.faults.schedule("list", 500, times=2)
    recorder = Recorder(clock)
    manager, _ = manager_with(cluster, clock, recorder, backoff=Backoff(base=4, factor=2, cap=60))
    assert manager.run_until(lambda: bool(recorder.calls), max_virtual_seconds=600)
    assert recorder.calls == [(12.0, Key("ns", "a"))]  # failed at 0 and 4, listed at 12


def test_watch_spec_namespace_and_selector_filter(cluster: MemoryCluster, clock: VirtualClock) -> None:
    recorder = Recorder(clock)
    manager = Manager(cluster, clock)
    manager.add(Controller("filtered", recorder, [WatchSpec("v1", "ConfigMap", namespace="ns",
                                                            label_selector={"app": "x"})]))
    cluster.create(cm("match", app="x"))
    cluster.create(cm("other-label", app="y"))
    cluster.create(cm("other-ns", namespace="elsewhere", app="x"))
    manager.run_until_idle()
    assert recorder.keys_seen() == [Key("ns", "match")]


def test_owner_and_label_mappers(cluster: MemoryCluster, clock: VirtualClock) -> None:
    owner = cluster.create(cm("owner"))
    owned = cm("child", parent="from-label")
    owned["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                                             "uid": owner["metadata"]["uid"], "controller": True}]
    child = cluster.create(owned)
    assert owner_key("ConfigMap")(child) == [Key("ns", "owner")]
    assert owner_key("ConfigMap", "v2")(child) == []
    assert owner_key("Job")(child) == []
    assert label_key("parent")(child) == [Key("ns", "from-label")]
    assert label_key("missing")(child) == []


def test_manager_runs_controllers_round_robin_over_one_clock(cluster: MemoryCluster, clock: VirtualClock) -> None:
    order: list[str] = []
    manager = Manager(cluster, clock)
    manager.add(Controller("first", lambda key: order.append(f"1:{key.name}"), [("v1", "ConfigMap")]))
    manager.add(Controller("second", lambda key: order.append(f"2:{key.name}"), [("v1", "ConfigMap")]))
    for name in ("a", "b"):
        cluster.create(cm(name))
    manager.run_until_idle()
    assert order == ["1:a", "2:a", "1:b", "2:b"]
    with pytest.raises(ValueError, match="already registered"):
        manager.add(Controller("first", lambda key: None))


def test_run_until_stops_at_the_virtual_time_budget(cluster: MemoryCluster, clock: VirtualClock) -> None:
    recorder = Recorder(clock, lambda key, n: Result(requeue_after=60))
    manager, _ = manager_with(cluster, clock, recorder)
    cluster.create(cm("a"))
    assert manager.run_until(lambda: False, max_virtual_seconds=600) is False
    assert [t for t, _ in recorder.calls] == [0, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600]
    with pytest.raises(ValueError):
        manager.run_until(lambda: True, VirtualClock())


def test_threaded_manager_never_reconciles_one_key_concurrently() -> None:
    cluster = MemoryCluster(seed=3)
    active: Counter[Key] = Counter()
    done: Counter[Key] = Counter()
    lock = threading.Lock()
    violations: list[Key] = []

    def reconcile(key: Key) -> None:
        with lock:
            active[key] += 1
            if active[key] > 1:
                violations.append(key)
        time.sleep(0.002)
        with lock:
            active[key] -= 1
            done[key] += 1

    manager = Manager(cluster)
    manager.add(Controller("threaded", reconcile, [("v1", "ConfigMap")], workers=6))
    with manager:
        for i in range(200):
            cluster.apply(cm(f"cm-{i % 10}", rev=str(i)))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with lock:
                if len(done) == 10 and not any(active.values()):
                    break
            time.sleep(0.01)
        time.sleep(0.2)  # let trailing events drain
    assert violations == []
    assert set(done) == {Key("ns", f"cm-{i}") for i in range(10)}
    assert not manager.running


class GoneOnWatch:
    """A MemoryCluster whose next watch call raises 410 (as a client library may, instead of
    sending an ERROR event)."""

    def __init__(self, inner: MemoryCluster) -> None:
        self.inner = inner
        self.fail_next_watch = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def watch(self, *args: Any, **kwargs: Any) -> Any:
        if self.fail_next_watch:
            self.fail_next_watch = False
            raise Gone("too old resource version")
        return self.inner.watch(*args, **kwargs)


def test_gone_raised_by_watch_leads_to_a_relist(cluster: MemoryCluster, clock: VirtualClock) -> None:
    wrapped = GoneOnWatch(cluster)
    recorder = Recorder(clock)
    manager = Manager(wrapped, clock)
    controller = manager.add(Controller("gone", recorder, [("v1", "ConfigMap")]))
    cluster.create(cm("a"))
    manager.run_until_idle()
    wrapped.fail_next_watch = True
    cluster.close_watches()
    cluster.create(cm("b"))
    assert manager.run_until(lambda: Key("ns", "b") in recorder.keys_seen())
    assert controller.stats.relists_after_expiry == 1 and controller.stats.lists == 2
