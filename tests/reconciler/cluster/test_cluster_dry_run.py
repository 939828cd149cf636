"""dryRun: the answer a write would give, with nothing persisted and no event emitted."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from reconciler.cluster import Conflict, Invalid, NotFound
from reconciler.cluster.memory import MemoryCluster

if TYPE_CHECKING:
    from conftest import Builders


def test_dry_run_create_returns_server_fields_but_stores_nothing(cluster: MemoryCluster, make: Builders) -> None:
    watch = cluster.watch("batch/v1", "Job")
    preview = cluster.create(make.job(), dry_run=True)
    assert preview["metadata"]["uid"] and preview["metadata"]["creationTimestamp"]
    assert preview["spec"]["selector"]  # defaulting ran
    assert "resourceVersion" not in preview["metadata"]
    assert cluster.objects() == [] and watch.next() is None and cluster.resource_version == "0"
    assert cluster.requests[-1].dry_run
    cluster.create(make.job())
    with pytest.raises(Conflict):
        cluster.create(make.job(), dry_run=True)  # validation still runs
    with pytest.raises(Invalid):
        cluster.create(make.job("Bad"), dry_run=True)


def test_dry_run_update_and_apply(cluster: MemoryCluster, make: Builders) -> None:
    cm = cluster.create(make.configmap())
    watch = cluster.watch("v1", "ConfigMap")
    cm["data"] = {"key": "new"}
    preview = cluster.update(cm, dry_run=True)
    assert preview["data"] == {"key": "new"} and preview["metadata"]["generation"] == 2
    applied = cluster.apply(make.configmap(data={"key": "applied"}), dry_run=True)
    assert applied["data"] == {"key": "applied"} and applied["metadata"]["managedFields"]
    new = cluster.apply(make.configmap("fresh"), dry_run=True)
    assert new["metadata"]["name"] == "fresh"
    stored = cluster.get("v1", "ConfigMap", "cm")
    assert stored["data"] == {"key": "value"} and stored["metadata"]["resourceVersion"] == "1"
    assert watch.next() is None and len(cluster.objects()) == 1


def test_dry_run_delete(cluster: MemoryCluster, make: Builders) -> None:
    owner = cluster.create(make.configmap("owner"))
    cluster.create(make.configmap("child", ownerReferences=[make.owner_ref(owner)]))
    watch = cluster.watch("v1", "ConfigMap")
    cluster.delete("v1", "ConfigMap", "owner", dry_run=True)
    assert len(cluster.objects()) == 2 and watch.next() is None
    with pytest.raises(NotFound):
        cluster.delete("v1", "ConfigMap", "missing", dry_run=True)
