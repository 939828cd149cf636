"""Leader election on a Lease, on ``MemoryCluster`` with a ``VirtualClock`` (and once on real
time with two threads). The wire-level run through ``KubeCluster`` is in test_leader_wire.py."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from reconciler.clock import VirtualClock, parse_rfc3339
from reconciler.cluster import Cluster, FaultInjector, JsonObject
from reconciler.cluster.memory import MemoryCluster
from reconciler.leader import LeaderElector, LeaseRecord, default_identity

NS = "kubernaut-system"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def cluster(clock: VirtualClock) -> MemoryCluster:
    return MemoryCluster(clock=clock, seed=1)


def elector(cluster: Cluster, clock: VirtualClock, identity: str, **options: Any) -> LeaderElector:
    return LeaderElector(cluster, NS, identity=identity, clock=clock, **options)


def lease(cluster: Cluster) -> JsonObject:
    return cluster.get("coordination.k8s.io/v1", "Lease", "kubernaut-controller", NS)


def test_first_candidate_creates_the_lease_and_wins(cluster: MemoryCluster, clock: VirtualClock) -> None:
    a, b = elector(cluster, clock, "a"), elector(cluster, clock, "b")
    assert a.try_acquire_or_renew() and a.is_leader
    assert not b.try_acquire_or_renew() and not b.is_leader
    spec = lease(cluster)["spec"]
    assert spec == {"holderIdentity": "a", "leaseDurationSeconds": 15, "acquireTime": "2026-01-01T00:00:00.000000Z",
                    "renewTime": "2026-01-01T00:00:00.000000Z", "leaseTransitions": 0}
    assert parse_rfc3339(spec["renewTime"]) == clock.now()


def test_the_holder_renews_and_keeps_the_lease(cluster: MemoryCluster, clock: VirtualClock) -> None:
    a, b = elector(cluster, clock, "a"), elector(cluster, clock, "b")
    assert a.try_acquire_or_renew()
    for _ in range(20):  # 40 s, far beyond the 15 s lease: renewals keep it alive
        clock.advance(2)
        assert a.try_acquire_or_renew()
        assert not b.try_acquire_or_renew()
    spec = lease(cluster)["spec"]
    assert spec["holderIdentity"] == "a" and spec["leaseTransitions"] == 0
    assert spec["acquireTime"] == "2026-01-01T00:00:00.000000Z"
    assert spec["renewTime"] == "2026-01-01T00:00:40.000000Z"


def test_another_candidate_takes_over_after_expiry(cluster: MemoryCluster, clock: VirtualClock) -> None:
    a, b = elector(cluster, clock, "a"), elector(cluster, clock, "b")
    assert a.try_acquire_or_renew()
    assert not b.try_acquire_or_renew()  # b starts observing the record now
    clock.advance(14)
    assert not b.try_acquire_or_renew()  # still within a's 15 s
    clock.advance(2)
    assert b.try_acquire_or_renew() and b.is_leader  # a stopped renewing: taken over
    spec = lease(cluster)["spec"]
    assert spec["holderIdentity"] == "b" and spec["leaseTransitions"] == 1
    assert spec["acquireTime"] == spec["renewTime"] == "2026-01-01T00:00:16.000000Z"
    assert not a.try_acquire_or_renew() and not a.is_leader  # a comes back: b holds a fresh lease
    clock.advance(16)
    assert a.try_acquire_or_renew()
    assert lease(cluster)["spec"]["leaseTransitions"] == 2


def test_a_newcomer_waits_a_full_lease_duration_whatever_renew_time_says(
        cluster: MemoryCluster, clock: VirtualClock) -> None:
    # Expiry is judged on the candidate's own clock from when it first saw the record, so a
    # wall clock that is ahead (or a renewTime long past) cannot make it take over early.
    a = elector(cluster, clock, "a")
    assert a.try_acquire_or_renew()
    clock.advance(3600)  # a died an hour ago
    b = elector(cluster, clock, "b")
    assert not b.try_acquire_or_renew()
    clock.advance(15.5)
    assert b.try_acquire_or_renew()


def test_the_lease_duration_of_the_record_counts(cluster: MemoryCluster, clock: VirtualClock) -> None:
    a = elector(cluster, clock, "a", lease_duration=60, renew_deadline=40, retry_period=5)
    b = elector(cluster, clock, "b")  # b itself would use 15 s
    assert a.try_acquire_or_renew() and not b.try_acquire_or_renew()
    clock.advance(30)
    assert not b.try_acquire_or_renew()
    clock.advance(31)
    assert b.try_acquire_or_renew()


class Interleaving:
    """A Cluster proxy that runs ``before`` once, right before the first write of its kind: the
    moment another candidate can slip in between our read and our write."""

    def __init__(self, cluster: Cluster, verb: str, before: Any) -> None:
        self._cluster = cluster
        self._verb = verb
        self._before = before

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._cluster, name)
        if name != self._verb or self._before is None:
            return target

        def write(*args: Any, **kwargs: Any) -> Any:
            before, self._before = self._before, None
            before()
            return target(*args, **kwargs)

        return write


def test_optimistic_concurrency_decides_a_takeover_race(cluster: MemoryCluster, clock: VirtualClock) -> None:
    old = elector(cluster, clock, "old")
    assert old.try_acquire_or_renew()
    b = elector(cluster, clock, "b")
    # c reads the expired lease; b takes it over before c writes; c's write is stale: 409.
    c = elector(Interleaving(cluster, "update", b.try_acquire_or_renew), clock, "c")
    assert not b.try_acquire_or_renew() and not c.try_acquire_or_renew()  # both see old's valid lease
    clock.advance(16)
    assert not c.try_acquire_or_renew()
    assert lease(cluster)["spec"]["holderIdentity"] == "b"
    assert lease(cluster)["spec"]["leaseTransitions"] == 1  # one transition, not two
    assert b.is_leader and not c.is_leader


def test_optimistic_concurrency_decides_a_creation_race(cluster: MemoryCluster, clock: VirtualClock) -> None:
    a = elector(cluster, clock, "a")
    racing_b = elector(Interleaving(cluster, "create", a.try_acquire_or_renew), clock, "b")
    assert not racing_b.try_acquire_or_renew()  # AlreadyExists
    assert lease(cluster)["spec"]["holderIdentity"] == "a"


def test_release_lets_a_successor_take_over_at_once(cluster: MemoryCluster, clock: VirtualClock) -> None:
    a, b = elector(cluster, clock, "a"), elector(cluster, clock, "b")
    assert a.try_acquire_or_renew() and not b.try_acquire_or_renew()
    assert not b.release()  # not the holder: nothing to release
    assert a.release() and not a.is_leader
    spec = lease(cluster)["spec"]
    assert spec["holderIdentity"] == "" and spec["leaseDurationSeconds"] == 1
    assert b.try_acquire_or_renew()  # no waiting for expiry
    assert lease(cluster)["spec"]["leaseTransitions"] == 1
    assert not a.release()


def test_api_errors_are_failed_attempts(cluster: MemoryCluster, clock: VirtualClock) -> None:
    a = elector(cluster, clock, "a")
    cluster.faults = FaultInjector()
    cluster.faults.schedule("get", 503, kind="Lease")
    assert not a.try_acquire_or_renew()
    assert a.try_acquire_or_renew()
    cluster.faults.schedule("update", lose_response=True, kind="Lease")  # renewed, but we never heard
    clock.advance(2)
    assert not a.try_acquire_or_renew()
    clock.advance(2)
    assert a.try_acquire_or_renew()  # the lease names us: a plain renewal
    assert lease(cluster)["spec"]["leaseTransitions"] == 0


def test_settings_are_validated(cluster: MemoryCluster) -> None:
    with pytest.raises(ValueError):
        LeaderElector(cluster, NS, lease_duration=10, renew_deadline=10)
    with pytest.raises(ValueError):
        LeaderElector(cluster, NS, renew_deadline=2, retry_period=2)
    assert LeaderElector(cluster, NS).identity != LeaderElector(cluster, NS).identity
    assert default_identity().count("_") >= 1


def test_lease_record_round_trip() -> None:
    record = LeaseRecord("a", 15, "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:02.000000Z", 3)
    assert LeaseRecord.of({"spec": record.spec()}) == record
    assert LeaseRecord.of({}) == LeaseRecord("", 0, None, None, 0)


# -- run() ------------------------------------------------------------------------------------------


class Callbacks:
    def __init__(self, stop: threading.Event, stop_when_leading: bool = True) -> None:
        self.calls: list[str] = []
        self._stop = stop
        self._stop_when_leading = stop_when_leading

    def started(self) -> None:
        self.calls.append("started")
        if self._stop_when_leading:
            self._stop.set()

    def stopped(self) -> None:
        self.calls.append("stopped")


def test_run_leads_until_stopped_then_releases(cluster: MemoryCluster, clock: VirtualClock) -> None:
    stop = threading.Event()
    callbacks = Callbacks(stop)
    elector(cluster, clock, "a").run(callbacks.started, callbacks.stopped, stop)
    assert callbacks.calls == ["started", "stopped"]
    assert lease(cluster)["spec"]["holderIdentity"] == ""  # released on the way out


def test_run_waits_for_the_lease_to_expire(cluster: MemoryCluster, clock: VirtualClock) -> None:
    assert elector(cluster, clock, "a").try_acquire_or_renew()  # a holds it and then dies
    stop = threading.Event()
    callbacks = Callbacks(stop)
    elector(cluster, clock, "b").run(callbacks.started, callbacks.stopped, stop)
    assert callbacks.calls == ["started", "stopped"]
    assert 15 < clock.monotonic() <= 15 + 2 + 2  # one lease duration, in retry_period steps
    assert lease(cluster)["spec"]["leaseTransitions"] == 1


def test_run_stops_leading_when_renewals_fail_past_the_deadline(cluster: MemoryCluster, clock: VirtualClock) -> None:
    stop = threading.Event()
    a = elector(cluster, clock, "a")
    calls: list[tuple[str, float]] = []

    def started() -> None:
        calls.append(("started", clock.monotonic()))
        # Another replica steals the lease (as after a network partition healed badly).
        stolen = lease(cluster)
        stolen["spec"]["holderIdentity"] = "thief"
        cluster.update(stolen)

    a.run(started, lambda: calls.append(("stopped", clock.monotonic())), stop)
    assert [name for name, _ in calls] == ["started", "stopped"]
    assert calls[1][1] - calls[0][1] == pytest.approx(10, abs=2)  # renew_deadline, in retry steps
    assert lease(cluster)["spec"]["holderIdentity"] == "thief"  # not released: it was not ours
    assert not stop.is_set()


class SteppingClock(VirtualClock):
    """A virtual clock that calls ``on_sleep`` after every sleep (the elector's retry pauses)."""

    def __init__(self) -> None:
        super().__init__()
        self.on_sleep: Any = None

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if self.on_sleep is not None:
            self.on_sleep()


def test_run_renews_while_leading() -> None:
    clock = SteppingClock()
    cluster = MemoryCluster(clock=clock)
    stop = threading.Event()
    a, b = elector(cluster, clock, "a"), elector(cluster, clock, "b")
    calls: list[str] = []
    contested = []

    def between_renewals() -> None:
        contested.append(b.try_acquire_or_renew())
        if clock.monotonic() >= 60:
            stop.set()

    clock.on_sleep = between_renewals
    a.run(lambda: calls.append("started"), lambda: calls.append("stopped"), stop)
    assert calls == ["started", "stopped"]
    assert len(contested) == 30 and not any(contested)  # 60 s of leading, b never got in
    assert cluster.count("update", "Lease") == 29 + 1  # a renewal per retry period, and the release


def test_run_returns_at_once_when_stopped_before_leading(cluster: MemoryCluster, clock: VirtualClock) -> None:
    assert elector(cluster, clock, "a").try_acquire_or_renew()
    stop = threading.Event()
    stop.set()
    callbacks = Callbacks(stop)
    elector(cluster, clock, "b").run(callbacks.started, callbacks.stopped, stop)
    assert callbacks.calls == []


def test_two_threads_on_real_time_hand_over_on_stop() -> None:
    # Real clock, short durations: the leader releases on stop and the other takes over at once.
    cluster = MemoryCluster()
    options = {"lease_duration": 3.0, "renew_deadline": 2.0, "retry_period": 0.05}
    electors = [LeaderElector(cluster, NS, identity=name, **options) for name in ("a", "b")]  # type: ignore[arg-type]
    stops = [threading.Event(), threading.Event()]
    leading: list[str] = []
    lock = threading.Lock()

    def runner(i: int) -> None:
        def started() -> None:
            with lock:
                leading.append(electors[i].identity)

        electors[i].run(started, lambda: None, stops[i])

    threads = [threading.Thread(target=runner, args=(i,), daemon=True) for i in range(2)]
    for thread in threads:
        thread.start()
    try:
        assert _eventually(lambda: len(leading) == 1)
        first = 0 if leading[0] == "a" else 1
        time.sleep(0.3)
        assert len(leading) == 1  # exactly one leader while it keeps renewing
        stops[first].set()
        threads[first].join(5)
        assert _eventually(lambda: len(leading) == 2)
        assert leading[1] != leading[0]
        assert lease(cluster)["spec"]["leaseTransitions"] == 1
    finally:
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(5)
    assert not any(thread.is_alive() for thread in threads)


def _eventually(check: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return bool(check())
