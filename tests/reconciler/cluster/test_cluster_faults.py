"""Fault injection (rate, statuses, verbs, kinds, scripted faults, lost responses) and the request log."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import pytest

from reconciler.cluster import (
    ApiError,
    ApiTimeout,
    Conflict,
    FaultInjector,
    NotFound,
    RequestRecord,
    ServerError,
    TooManyRequests,
)
from reconciler.cluster.memory import MemoryCluster

if TYPE_CHECKING:
    from conftest import Builders


def _outcomes(cluster: MemoryCluster, n: int) -> list[str]:
    out = []
    for _ in range(n):
        try:
            cluster.get("v1", "ConfigMap", "cm")
            out.append("ok")
        except ApiError as exc:
            out.append(f"{exc.status}:{exc.reason}")
    return out


def test_faults_fire_at_the_configured_rate_with_every_status(make: Builders) -> None:
    cluster = MemoryCluster()
    cluster.create(make.configmap())
    cluster.faults = FaultInjector(rate=0.3, seed=42)
    counts = Counter(_outcomes(cluster, 2000))
    failed = 2000 - counts["ok"]
    assert 520 <= failed <= 680  # 600 expected; ±4.5 standard deviations
    assert set(counts) == {"ok", "500:InternalError", "409:Conflict", "429:TooManyRequests", "504:Timeout"}
    assert cluster.faults.injected == failed
    assert sum(r.injected for r in cluster.requests) == failed


def test_same_seed_same_faults(make: Builders) -> None:
    def run(seed: int) -> list[str]:
        cluster = MemoryCluster(faults=FaultInjector(rate=0.5, seed=seed))
        cluster.faults = None
        cluster.create(make.configmap())
        cluster.faults = FaultInjector(rate=0.5, seed=seed)
        return _outcomes(cluster, 50)

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_injected_errors_change_nothing(cluster: MemoryCluster, make: Builders) -> None:
    cluster.faults = FaultInjector(rate=1.0, statuses=(500,), verbs=("create", "update", "delete", "apply"))
    with pytest.raises(ServerError):
        cluster.create(make.configmap())
    with pytest.raises(ServerError):
        cluster.apply(make.configmap())
    cluster.faults = None
    cm = cluster.create(make.configmap())
    cluster.faults = FaultInjector(rate=1.0, statuses=("timeout",), verbs=("update", "delete"))
    cm["data"] = {"key": "changed"}
    with pytest.raises(ApiTimeout):
        cluster.update(cm)
    with pytest.raises(ApiTimeout):
        cluster.delete("v1", "ConfigMap", "cm")
    assert cluster.get("v1", "ConfigMap", "cm")["data"] == {"key": "value"}
    assert cluster.resource_version == "1"


def test_injected_409_on_create_is_conflict_not_already_exists(cluster: MemoryCluster, make: Builders) -> None:
    cluster.faults = FaultInjector(rate=1.0, statuses=(409,), verbs=("create",))
    with pytest.raises(Conflict) as info:
        cluster.create(make.configmap())
    assert info.value.reason == "Conflict" and not info.value.already_exists


def test_injected_429_carries_retry_after(cluster: MemoryCluster, make: Builders) -> None:
    cluster.faults = FaultInjector(rate=1.0, statuses=(429,), verbs=("list",))
    with pytest.raises(TooManyRequests) as info:
        cluster.list("v1", "ConfigMap")
    assert info.value.retry_after > 0


def test_verbs_and_kinds_filters(cluster: MemoryCluster, make: Builders) -> None:
    cluster.faults = FaultInjector(rate=1.0, statuses=(500,), verbs=("create",), kinds=("Job",))
    cluster.create(make.configmap())
    cluster.get("v1", "ConfigMap", "cm")
    with pytest.raises(ServerError):
        cluster.create(make.job())


def test_lost_response_carries_out_the_write(cluster: MemoryCluster, make: Builders) -> None:
    cluster.faults = FaultInjector(lost_response_rate=1.0, verbs=("create",))
    with pytest.raises(ApiTimeout):
        cluster.create(make.job())
    cluster.faults = None
    assert cluster.get("batch/v1", "Job", "job")  # it was created after all...
    with pytest.raises(Conflict) as info:
        cluster.create(make.job())  # ...so a naive retry sees AlreadyExists
    assert info.value.already_exists
    lost = next(r for r in cluster.requests if r.verb == "create")
    assert (lost.status_code, lost.injected) == (504, True)


def test_lost_responses_at_a_rate_only_affect_writes(make: Builders) -> None:
    cluster = MemoryCluster(faults=FaultInjector(lost_response_rate=0.5, seed=3))
    lost = 0
    for i in range(200):
        try:
            cluster.create(make.configmap(f"cm{i}"))
        except ApiTimeout:
            lost += 1
    assert 65 <= lost <= 135
    assert len(cluster.objects()) == 200  # every write happened
    cluster.get("v1", "ConfigMap", "cm0")  # reads never lose responses
    cluster.list("v1", "ConfigMap")


def test_scheduled_faults_fire_once_and_in_order(cluster: MemoryCluster, make: Builders) -> None:
    faults = FaultInjector()
    faults.schedule("create", 503, kind="Job")
    faults.schedule("apply", lose_response=True)
    cluster.faults = faults
    cluster.create(make.configmap())  # not a Job: untouched
    with pytest.raises(ServerError) as info:
        cluster.create(make.job())
    assert info.value.status == 503
    cluster.create(make.job())
    with pytest.raises(ApiTimeout):
        cluster.apply(make.configmap("applied"))
    assert cluster.get("v1", "ConfigMap", "applied")
    cluster.apply(make.configmap("applied2"))
    with pytest.raises(ValueError):
        faults.schedule("get", lose_response=True)


def test_bad_fault_configuration_is_rejected() -> None:
    with pytest.raises(ValueError):
        FaultInjector(rate=1.5)
    with pytest.raises(ValueError):
        FaultInjector(rate=0.5, statuses=("nonsense",))
    with pytest.raises(ValueError):
        FaultInjector(rate=0.5, statuses=(200,))


def test_request_log(cluster: MemoryCluster, make: Builders) -> None:
    cluster.create(make.configmap(namespace="ops"), dry_run=True)
    cluster.create(make.configmap(namespace="ops"))
    cluster.apply(make.configmap(namespace="ops"))
    with pytest.raises(NotFound):
        cluster.get("v1", "ConfigMap", "missing")
    generated = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "g-"}}
    name = cluster.create(generated)["metadata"]["name"]
    cluster.list("v1", "ConfigMap")
    cluster.watch("v1", "Namespace")
    assert cluster.requests == [
        RequestRecord("create", "v1", "ConfigMap", "ops", "cm", 201, dry_run=True),
        RequestRecord("create", "v1", "ConfigMap", "ops", "cm", 201),
        RequestRecord("apply", "v1", "ConfigMap", "ops", "cm", 200),
        RequestRecord("get", "v1", "ConfigMap", "default", "missing", 404),
        RequestRecord("create", "v1", "ConfigMap", "default", name, 201),
        RequestRecord("list", "v1", "ConfigMap", None, None, 200),
        RequestRecord("watch", "v1", "Namespace", None, None, 200),
    ]
    assert cluster.count() == 7
    assert cluster.count(verb="create") == 3
    assert cluster.count(kind="Namespace") == 1
    assert cluster.count(verb="create", kind="Namespace") == 0
    cluster.reset_requests()
    assert cluster.requests == [] and cluster.count() == 0
