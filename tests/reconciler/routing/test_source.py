"""PolicySource: hot reload from the kubernaut-config ConfigMap through the Cluster interface."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from compiler import ir
from reconciler.cluster import FaultInjector
from reconciler.cluster.memory import MemoryCluster
from reconciler.routing import PolicySource, PolicyState, decide, default_policy, sticky_engine

NS = "kubernaut-system"
HEADER = "apiVersion: kubernaut.ai/v1alpha1\nkind: RoutingPolicy\n"
ALL_TEKTON = HEADER + "defaultEngine: tekton\n"
GITOPS = HEADER + "rules:\n  - name: gitops\n    match: {workflowType: gitops-pr-creation}\n    engine: tekton\n"
INVALID = HEADER + "defaultEngine: argo\n"
Factory = Callable[..., ir.Workflow]


def configmap(text: str | None, name: str = "kubernaut-config", **data: str) -> dict[str, Any]:
    values = dict(data)
    if text is not None:
        values["routing.yaml"] = text
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NS}, "data": values}


def write(cluster: MemoryCluster, obj: dict[str, Any]) -> None:
    cluster.apply(obj, field_manager="operator")


class Changes:
    """Records on_change calls; ``wait_for`` blocks until a predicate holds, with a deadline."""

    def __init__(self) -> None:
        self.seen: list[PolicyState] = []
        self._cond = threading.Condition()

    def __call__(self, previous: PolicyState, current: PolicyState) -> None:
        with self._cond:
            self.seen.append(current)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[], bool], seconds: float = 5.0) -> bool:
        deadline = time.monotonic() + seconds
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True


@pytest.fixture
def cluster() -> MemoryCluster:
    return MemoryCluster(seed=1)


@pytest.fixture
def changes() -> Changes:
    return Changes()


@pytest.fixture
def source(cluster: MemoryCluster, changes: Changes) -> Iterator[PolicySource]:
    src = PolicySource(cluster, NS, on_change=changes)
    yield src
    src.stop()


def test_missing_configmap_means_the_builtin_default(source: PolicySource) -> None:
    source.poll()
    assert source.current() == default_policy()
    assert source.state.ok and "not found" in source.state.origin


def test_missing_key_means_the_builtin_default(cluster: MemoryCluster, source: PolicySource) -> None:
    write(cluster, configmap(None, other="x"))
    source.poll()
    assert source.current() == default_policy()
    assert "has no key 'routing.yaml'" in source.state.origin


def test_configmap_is_read_on_start(cluster: MemoryCluster, source: PolicySource) -> None:
    write(cluster, configmap(ALL_TEKTON))
    source.start()
    assert source.current().defaultEngine == "tekton"
    assert source.state.origin == f"ConfigMap {NS}/kubernaut-config key 'routing.yaml'"


def test_a_change_is_visible_within_seconds_without_restart(cluster: MemoryCluster, source: PolicySource,
                                                            changes: Changes) -> None:
    source.start()
    assert source.current().defaultEngine == "jobs"
    write(cluster, configmap(ALL_TEKTON))
    assert changes.wait_for(lambda: source.current().defaultEngine == "tekton", seconds=5.0)
    # The rollback: seconds, not a redeploy.
    write(cluster, configmap(HEADER + "defaultEngine: jobs\n"))
    assert changes.wait_for(lambda: source.current().defaultEngine == "jobs", seconds=5.0)
    cluster.delete("v1", "ConfigMap", "kubernaut-config", NS)
    write(cluster, configmap(ALL_TEKTON))
    assert changes.wait_for(lambda: source.current().defaultEngine == "tekton", seconds=5.0)
    cluster.delete("v1", "ConfigMap", "kubernaut-config", NS)
    assert changes.wait_for(lambda: source.current() == default_policy(), seconds=5.0)


def test_readers_on_other_threads_see_whole_policies(cluster: MemoryCluster, source: PolicySource,
                                                     changes: Changes) -> None:
    source.start()
    stop = threading.Event()
    seen: set[tuple[str, int]] = set()

    def reader() -> None:
        while not stop.is_set():
            policy = source.current()
            seen.add((policy.defaultEngine, len(policy.rules)))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(10):
            write(cluster, configmap(GITOPS if i % 2 else ALL_TEKTON))
            expected = ("jobs", 1) if i % 2 else ("tekton", 0)

            def applied(expected: tuple[str, int] = expected) -> bool:
                policy = source.current()
                return (policy.defaultEngine, len(policy.rules)) == expected

            assert changes.wait_for(applied)
    finally:
        stop.set()
        thread.join()
    assert seen <= {("jobs", 0), ("jobs", 1), ("tekton", 0)}  # never a half-applied policy


def test_invalid_config_keeps_the_last_good_policy(cluster: MemoryCluster, source: PolicySource,
                                                   changes: Changes) -> None:
    write(cluster, configmap(GITOPS))
    source.poll()
    good = source.current()
    write(cluster, configmap(INVALID))
    source.poll()
    assert source.current() is good
    assert not source.state.ok
    error = source.error or ""
    assert f"configmap/{NS}/kubernaut-config/routing.yaml:3:16: error[KN007]" in error
    assert "3 | defaultEngine: argo" in error
    assert [d.code for d in source.state.diagnostics] == ["KN007"]
    assert changes.seen[-1].error == error  # the controller's hook gets it for an Event
    # Fixing the ConfigMap clears the error and applies the new policy.
    write(cluster, configmap(ALL_TEKTON))
    source.poll()
    assert source.state.ok and source.current().defaultEngine == "tekton"


def test_invalid_config_at_startup_routes_by_the_builtin_default(cluster: MemoryCluster,
                                                                 source: PolicySource) -> None:
    write(cluster, configmap(INVALID))
    source.poll()
    assert source.current() == default_policy()
    assert source.error is not None


def test_unrelated_changes_are_ignored(cluster: MemoryCluster, source: PolicySource, changes: Changes) -> None:
    write(cluster, configmap(GITOPS))
    source.poll()
    calls = len(changes.seen)
    write(cluster, configmap(None, name="other-config", **{"routing.yaml": ALL_TEKTON}))
    write(cluster, configmap(GITOPS, imagePolicy="x"))  # another key of the same ConfigMap
    source.poll()
    assert len(changes.seen) == calls
    assert source.current().rules[0].name == "gitops"


def test_watch_expiry_and_restarts_are_survived(cluster: MemoryCluster, source: PolicySource) -> None:
    source.poll()
    cluster.close_watches()  # the API server restarted
    cluster.compact_history()  # ... and resuming from our resourceVersion gets 410 Gone
    write(cluster, configmap(ALL_TEKTON))
    for _ in range(5):
        source.poll()
        if source.current().defaultEngine == "tekton":
            break
    assert source.current().defaultEngine == "tekton"


def test_api_errors_keep_the_current_policy_and_recover(cluster: MemoryCluster, source: PolicySource) -> None:
    write(cluster, configmap(GITOPS))
    source.poll()
    cluster.faults = FaultInjector()
    cluster.faults.schedule("list", 500, kind="ConfigMap", times=3)
    cluster.close_watches()  # the API server restarted, and changes were lost meanwhile:
    write(cluster, configmap(ALL_TEKTON, name="unrelated"))
    cluster.compact_history()  # resuming gets 410, the source must re-list, the list fails 3 times
    failures = 0
    for _ in range(6):
        if source.poll() == 0 and source.retry_delay() > 0:
            failures += 1
            assert source.current().rules[0].name == "gitops"  # the last good policy stays
    assert failures == 3
    write(cluster, configmap(ALL_TEKTON))
    source.poll()
    assert source.current().defaultEngine == "tekton" and source.retry_delay() == 0


def test_stickiness_across_a_config_change(cluster: MemoryCluster, source: PolicySource, changes: Changes,
                                           workflow: Factory) -> None:
    """The controller records status.engine once; later policy changes only affect new workflows."""
    source.start()
    wf = workflow(2, chained=True)
    started = decide(wf, "uid-1", source.current(), True)
    status = {"phase": "Running", "engine": started.engine}  # what the controller writes
    assert started.engine == "jobs"
    write(cluster, configmap(ALL_TEKTON))
    assert changes.wait_for(lambda: source.current().defaultEngine == "tekton")
    assert sticky_engine(status) == "jobs"
    assert decide(wf, "uid-1", source.current(), True, status=status).engine == "jobs"
    assert decide(wf, "uid-2", source.current(), True).engine == "tekton"  # a new workflow


def test_start_twice_is_an_error_and_stop_is_idempotent(source: PolicySource) -> None:
    source.start()
    with pytest.raises(RuntimeError):
        source.start()
    source.stop()
    source.stop()
