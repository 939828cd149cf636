"""Container logs on MemoryCluster (``PodLogs``) — written by the simulated kubelets, read like
``kubectl logs``."""

from __future__ import annotations

import pytest

from reconciler.cluster import NotFound, PodLogs
from reconciler.cluster.kube import KubeCluster
from reconciler.cluster.memory import MemoryCluster


def test_read_pod_log_by_container_and_default_container() -> None:
    cluster = MemoryCluster()
    assert isinstance(cluster, PodLogs)
    cluster.write_pod_log("ns", "p", "step-execute", "out\n")
    cluster.write_pod_log("ns", "p", "step-resolve-inputs", "")
    assert cluster.read_pod_log("ns", "p", "step-execute") == "out\n"
    assert cluster.read_pod_log("ns", "p") == "out\n"  # the first container recorded
    assert cluster.pod_logs() == [("ns", "p", "step-execute", "out\n"), ("ns", "p", "step-resolve-inputs", "")]
    with pytest.raises(NotFound):
        cluster.read_pod_log("ns", "p", "other")
    with pytest.raises(NotFound):
        cluster.read_pod_log("ns", "missing")


def test_kube_cluster_offers_pod_logs() -> None:
    assert issubclass(KubeCluster, PodLogs)
