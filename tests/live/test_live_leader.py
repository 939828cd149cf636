"""Leader election on a real Lease: one winner, release and takeover after expiry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reconciler.cluster.kube import KubeCluster
from reconciler.leader import LeaderElector

pytestmark = pytest.mark.live



def elector(live: KubeCluster, namespace: str, name: str, identity: str) -> LeaderElector:
    # Short durations, so the expiry test takes seconds; ordered like the real defaults.
    return LeaderElector(live, namespace, name, identity=identity, lease_duration=4.0, renew_deadline=3.0,
                         retry_period=0.5)


def test_one_winner_then_release_and_takeover(live: KubeCluster, namespace: str,
                                              unique: Callable[[str], str]) -> None:
    name = unique("lease")
    a = elector(live, namespace, name, "a")
    b = elector(live, namespace, name, "b")
    assert a.try_acquire_or_renew()
    assert not b.try_acquire_or_renew()
    spec = live.get("coordination.k8s.io/v1", "Lease", name, namespace)["spec"]
    assert (spec["holderIdentity"], spec["leaseDurationSeconds"], spec["leaseTransitions"]) == ("a", 4, 0)
    assert spec["renewTime"].endswith("Z") and "." in spec["renewTime"]  # MicroTime accepted by the server
    assert a.try_acquire_or_renew()  # a renewal
    assert a.release()
    assert b.try_acquire_or_renew()
    spec = live.get("coordination.k8s.io/v1", "Lease", name, namespace)["spec"]
    assert (spec["holderIdentity"], spec["leaseTransitions"]) == ("b", 1)


def test_takeover_after_the_holder_disappears(live: KubeCluster, namespace: str, unique: Callable[[str], str],
                                              wait: Callable[..., Any]) -> None:
    name = unique("lease")
    assert elector(live, namespace, name, "gone").try_acquire_or_renew()
    successor = elector(live, namespace, name, "successor")
    assert not successor.try_acquire_or_renew()
    wait(successor.try_acquire_or_renew, timeout=15.0, interval=0.5)
    spec = live.get("coordination.k8s.io/v1", "Lease", name, namespace)["spec"]
    assert (spec["holderIdentity"], spec["leaseTransitions"]) == ("successor", 1)
