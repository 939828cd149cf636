"""Leader election through ``KubeCluster`` on the wire.

kmock's emulator has no resourceVersion and no PUT, which is exactly what leader election rests
on, so the Lease endpoints are scripted with a ``MemoryCluster`` behind them: it gives the
honest resourceVersion / 409 semantics, while the test asserts what ``KubeCluster`` sent.
"""

from __future__ import annotations

import json
import re
import threading
from typing import TYPE_CHECKING, Any

import kmock
import pytest

from reconciler.clock import VirtualClock
from reconciler.cluster import ApiError, Cluster
from reconciler.cluster.kube import KubeCluster
from reconciler.cluster.memory import MemoryCluster
from reconciler.leader import LeaderElector

if TYPE_CHECKING:
    from conftest import KmockServer, KubeFactory

NS = "kubernaut-system"
LEASES = f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases"
LEASE = f"{LEASES}/kubernaut-controller"


def serve_leases(server: KmockServer, backend: MemoryCluster) -> None:
    """Answer GET / POST / PUT of Leases from ``backend``, errors as ``Status`` bodies."""

    def handle(request: kmock.Request) -> kmock.Response:
        try:
            if request.method == "GET":
                answer, code = backend.get("coordination.k8s.io/v1", "Lease", request.name or "", NS), 200
            elif request.method == "POST":
                answer, code = backend.create(request.data), 201
            elif request.method == "PUT":
                answer, code = backend.update(request.data), 200
            else:
                raise AssertionError(f"unexpected {request.method} {request.url.path}")
        except ApiError as exc:
            return kmock.Response(status=exc.status, payload=exc.to_status())
        return kmock.Response(status=code, payload=answer)

    server.reply(re.compile(re.escape(LEASES) + r"(/[^/]+)?"), handle)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def backend(clock: VirtualClock) -> MemoryCluster:
    return MemoryCluster(clock=clock, seed=3)


@pytest.fixture
def leases(server: KmockServer, backend: MemoryCluster) -> KmockServer:
    serve_leases(server, backend)
    return server


def sent(server: KmockServer) -> list[tuple[str, str]]:
    return [(r.method.value, r.url.path) for r in server.requests]


def test_election_and_takeover_on_the_wire(leases: KmockServer, kube: KubeCluster, make_kube: KubeFactory,
                                           backend: MemoryCluster, clock: VirtualClock) -> None:
    a = LeaderElector(kube, NS, identity="a", clock=clock)
    b = LeaderElector(make_kube(leases), NS, identity="b", clock=clock)
    assert a.try_acquire_or_renew()
    assert sent(leases) == [("GET", LEASE), ("POST", LEASES)]  # 404 first, then create
    post = leases.last()
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.body) == {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "kubernaut-controller", "namespace": NS},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15, "acquireTime": "2026-01-01T00:00:00.000000Z",
                 "renewTime": "2026-01-01T00:00:00.000000Z", "leaseTransitions": 0}}

    assert not b.try_acquire_or_renew()  # a GET only: a valid lease is not written to
    assert sent(leases)[-1] == ("GET", LEASE)

    clock.advance(2)
    assert a.try_acquire_or_renew()
    renewal = leases.last()
    assert (renewal.method, renewal.url.path) == ("PUT", LEASE)
    body = json.loads(renewal.body)
    assert body["metadata"]["resourceVersion"] == "1"  # optimistic concurrency: the version read
    assert body["spec"]["renewTime"] == "2026-01-01T00:00:02.000000Z"

    assert not b.try_acquire_or_renew()  # b sees the renewal: its 15 s start again from now
    clock.advance(16)  # a stops renewing
    assert b.try_acquire_or_renew()
    takeover = json.loads(leases.last().body)
    assert takeover["spec"]["holderIdentity"] == "b" and takeover["spec"]["leaseTransitions"] == 1
    assert takeover["metadata"]["resourceVersion"] == "2"
    stored = backend.get("coordination.k8s.io/v1", "Lease", "kubernaut-controller", NS)
    assert stored["spec"]["holderIdentity"] == "b"


class WriteInterleaving:
    """Run ``before`` once, right before this cluster's first update (see test_leader_election)."""

    def __init__(self, cluster: Cluster, before: Any) -> None:
        self._cluster = cluster
        self._before = before

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cluster, name)

    def update(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        before, self._before = self._before, None
        if before is not None:
            before()
        return self._cluster.update(obj, dry_run=dry_run)


def test_a_lost_race_is_a_409_on_the_wire(leases: KmockServer, kube: KubeCluster, backend: MemoryCluster,
                                          clock: VirtualClock) -> None:
    assert LeaderElector(backend, NS, identity="old", clock=clock).try_acquire_or_renew()
    rival = LeaderElector(backend, NS, identity="rival", clock=clock)
    b = LeaderElector(WriteInterleaving(kube, rival.try_acquire_or_renew), NS, identity="b",
                      clock=clock)
    assert not b.try_acquire_or_renew() and not rival.try_acquire_or_renew()
    clock.advance(16)
    assert not b.try_acquire_or_renew()  # rival wrote between b's GET and b's PUT
    put = leases.last()
    assert (put.method, put.url.path) == ("PUT", LEASE)
    assert json.loads(put.body)["spec"]["holderIdentity"] == "b"
    assert backend.get("coordination.k8s.io/v1", "Lease", "kubernaut-controller", NS)["spec"]["holderIdentity"] \
        == "rival"


def test_run_on_the_wire_waits_leads_and_releases(leases: KmockServer, kube: KubeCluster, backend: MemoryCluster,
                                                  clock: VirtualClock) -> None:
    assert LeaderElector(backend, NS, identity="old", clock=clock).try_acquire_or_renew()
    stop = threading.Event()
    calls: list[str] = []

    def started() -> None:
        calls.append("started")
        stop.set()

    LeaderElector(kube, NS, identity="b", clock=clock).run(started, lambda: calls.append("stopped"), stop)
    assert calls == ["started", "stopped"]
    release = json.loads(leases.last().body)
    assert leases.last().method == "PUT"
    assert release["spec"]["holderIdentity"] == "" and release["spec"]["leaseDurationSeconds"] == 1
    assert release["spec"]["leaseTransitions"] == 1


def test_server_errors_on_the_wire_are_failed_attempts(server: KmockServer, kube: KubeCluster,
                                                       clock: VirtualClock) -> None:
    server.reply(f"get {LEASE}", 503, {"kind": "Status", "code": 503, "reason": "ServiceUnavailable",
                                       "message": "etcdserver: leader changed"})
    assert not LeaderElector(kube, NS, identity="a", clock=clock).try_acquire_or_renew()
