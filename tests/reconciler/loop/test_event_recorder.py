"""EventRecorder writes aggregated core/v1 Events with times from the clock."""

from __future__ import annotations

import threading

import pytest

from reconciler.clock import VirtualClock
from reconciler.cluster import FaultInjector
from reconciler.cluster.memory import MemoryCluster
from reconciler.events import EventRecorder, event_name


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def cluster(clock: VirtualClock) -> MemoryCluster:
    return MemoryCluster(clock=clock, seed=2)


@pytest.fixture
def workflow(cluster: MemoryCluster) -> dict:
    return cluster.create({"apiVersion": "workflowexecution.kubernaut.ai/v1alpha1", "kind": "WorkflowExecution",
                           "metadata": {"name": "payment-oom-fix", "namespace": "production"}, "spec": {}})


def test_first_event_has_the_core_v1_shape(cluster: MemoryCluster, clock: VirtualClock, workflow: dict) -> None:
    recorder = EventRecorder(cluster, clock=clock, instance="kubernaut-0")
    event = recorder.normal(workflow, "StepStarted", "step git-clone started")
    assert event is not None
    assert event["apiVersion"] == "v1" and event["kind"] == "Event"
    assert event["metadata"]["namespace"] == "production"
    assert event["metadata"]["name"].startswith("payment-oom-fix.")
    assert event["involvedObject"] == {
        "apiVersion": "workflowexecution.kubernaut.ai/v1alpha1", "kind": "WorkflowExecution",
        "name": "payment-oom-fix", "namespace": "production", "uid": workflow["metadata"]["uid"],
        "resourceVersion": workflow["metadata"]["resourceVersion"]}
    assert (event["type"], event["reason"], event["message"], event["count"]) == (
        "Normal", "StepStarted", "step git-clone started", 1)
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2026-01-01T00:00:00Z"
    assert event["source"] == {"component": "kubernaut", "host": "kubernaut-0"}
    assert event["reportingComponent"] == "kubernaut" and event["reportingInstance"] == "kubernaut-0"


def test_repeats_of_a_reason_aggregate_into_one_event(cluster: MemoryCluster, clock: VirtualClock,
                                                      workflow: dict) -> None:
    recorder = EventRecorder(cluster, clock=clock)
    recorder.warning(workflow, "StepRetrying", "attempt 1 failed")
    clock.advance(90)
    recorder.warning(workflow, "StepRetrying", "attempt 2 failed")
    recorder.normal(workflow, "StepRetrying", "same reason, other type: separate")
    recorder.warning(workflow, "StepFailed", "other reason: separate")
    events = recorder.events_for(workflow)
    assert len(events) == 3
    retrying = next(e for e in events if e["reason"] == "StepRetrying" and e["type"] == "Warning")
    assert retrying["count"] == 2
    assert retrying["message"] == "attempt 2 failed"
    assert retrying["firstTimestamp"] == "2026-01-01T00:00:00Z"
    assert retrying["lastTimestamp"] == "2026-01-01T00:01:30Z"


def test_aggregation_survives_a_new_recorder(cluster: MemoryCluster, clock: VirtualClock, workflow: dict) -> None:
    EventRecorder(cluster, clock=clock).normal(workflow, "Started", "x")
    EventRecorder(cluster, clock=clock).normal(workflow, "Started", "x")  # a restarted controller
    (event,) = cluster.objects("Event")
    assert event["count"] == 2


def test_different_objects_with_the_same_name_do_not_share_events(cluster: MemoryCluster,
                                                                  clock: VirtualClock) -> None:
    first = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x", "namespace": "ns", "uid": "u1"}}
    second = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x", "namespace": "ns", "uid": "u2"}}
    assert event_name(first, "Normal", "R") != event_name(second, "Normal", "R")
    recorder = EventRecorder(cluster, clock=clock)
    recorder.normal(first, "R", "m")
    recorder.normal(second, "R", "m")
    assert [e["count"] for e in recorder.events_for(first)] == [1]
    assert [e["count"] for e in recorder.events_for(second)] == [1]


def test_long_messages_and_names_are_truncated(cluster: MemoryCluster, clock: VirtualClock) -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n" * 253, "namespace": "ns"}}
    event = EventRecorder(cluster, clock=clock).warning(obj, "Big", "m" * 5000)
    assert event is not None
    assert len(event["message"]) == 1024 and event["message"].endswith("...")
    assert len(event["metadata"]["name"]) <= 253


def test_cluster_scoped_objects_get_events_in_the_default_namespace(cluster: MemoryCluster,
                                                                   clock: VirtualClock) -> None:
    obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "production", "uid": "u"}}
    event = EventRecorder(cluster, clock=clock).normal(obj, "Seen", "m")
    assert event is not None and event["metadata"]["namespace"] == "default"
    assert "namespace" not in event["involvedObject"]


def test_recording_is_best_effort(cluster: MemoryCluster, clock: VirtualClock, workflow: dict) -> None:
    cluster.faults = FaultInjector()
    cluster.faults.schedule("create", 500, kind="Event")
    assert EventRecorder(cluster, clock=clock).normal(workflow, "Lost", "m") is None  # no exception
    assert cluster.objects("Event") == []


def test_a_stale_count_is_retried(cluster: MemoryCluster, clock: VirtualClock, workflow: dict) -> None:
    recorder = EventRecorder(cluster, clock=clock)
    recorder.normal(workflow, "R", "m")
    cluster.faults = FaultInjector()
    cluster.faults.schedule("update", 409, kind="Event")
    event = recorder.normal(workflow, "R", "m")
    assert event is not None and event["count"] == 2


def test_invalid_type_is_refused(cluster: MemoryCluster, workflow: dict) -> None:
    with pytest.raises(ValueError):
        EventRecorder(cluster).event(workflow, "Error", "R", "m")  # type: ignore[arg-type]


def test_concurrent_recorders_count_every_occurrence(cluster: MemoryCluster, clock: VirtualClock,
                                                     workflow: dict) -> None:
    recorders = [EventRecorder(cluster, clock=clock) for _ in range(4)]

    def record(recorder: EventRecorder) -> None:
        for _ in range(10):
            assert recorder.normal(workflow, "Tick", "m") is not None

    threads = [threading.Thread(target=record, args=(r,)) for r in recorders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (event,) = cluster.objects("Event")
    assert event["count"] == 40
