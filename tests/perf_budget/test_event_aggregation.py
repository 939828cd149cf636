"""Events aggregated without a GET (issue 13): the recorder remembers what it wrote; it reads an
Event only when someone else wrote it (409) or it already existed (AlreadyExists)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.clock import VirtualClock
from reconciler.cluster.memory import MemoryCluster
from reconciler.events import EventRecorder, event_name


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def cluster(clock: VirtualClock) -> MemoryCluster:
    return MemoryCluster(clock=clock, seed=2)


@pytest.fixture
def workflow(cluster: MemoryCluster) -> dict[str, Any]:
    return cluster.create({"apiVersion": "workflowexecution.kubernaut.ai/v1alpha1", "kind": "WorkflowExecution",
                           "metadata": {"name": "wf", "namespace": "ns"}, "spec": {}})


def test_repeats_are_one_update_each_and_no_get(cluster: MemoryCluster, clock: VirtualClock,
                                                 workflow: dict[str, Any]) -> None:
    recorder = EventRecorder(cluster, clock=clock)
    cluster.reset_requests()
    for n in range(5):
        clock.advance(1)
        event = recorder.normal(workflow, "StepStarted", f"step {n} started")
    assert event is not None and event["count"] == 5 and event["message"] == "step 4 started"
    assert (cluster.count("get", "Event"), cluster.count("create", "Event"), cluster.count("update", "Event")) \
        == (0, 1, 4)


def test_an_event_someone_else_updated_is_read_once_then_aggregated(cluster: MemoryCluster, clock: VirtualClock,
                                                                    workflow: dict[str, Any]) -> None:
    ours, theirs = EventRecorder(cluster, clock=clock), EventRecorder(cluster, clock=clock)
    ours.normal(workflow, "StepStarted", "a")
    theirs.normal(workflow, "StepStarted", "b")  # AlreadyExists: reads it, then aggregates (count 2)
    cluster.reset_requests()
    event = ours.normal(workflow, "StepStarted", "c")  # our remembered version is stale: 409, read, update
    assert event is not None and event["count"] == 3
    assert (cluster.count("update", "Event"), cluster.count("get", "Event")) == (2, 1)
    assert cluster.requests[0].status_code == 409
    cluster.reset_requests()
    ours.normal(workflow, "StepStarted", "d")  # up to date again: no read
    assert cluster.count("get", "Event") == 0
    stored = cluster.get("v1", "Event", event_name(workflow, "Normal", "StepStarted"), "ns")
    assert stored["count"] == 4


def test_an_expired_event_is_created_again(clock: VirtualClock) -> None:
    cluster = MemoryCluster(clock=clock, seed=2, event_ttl=60.0)
    workflow = cluster.create({"apiVersion": "workflowexecution.kubernaut.ai/v1alpha1", "kind": "WorkflowExecution",
                               "metadata": {"name": "wf", "namespace": "ns"}, "spec": {}})
    recorder = EventRecorder(cluster, clock=clock)
    recorder.normal(workflow, "StepStarted", "a")
    clock.advance(120)  # the Event's TTL ran out: the remembered one is gone
    event = recorder.normal(workflow, "StepStarted", "b")
    assert event is not None and event["count"] == 1 and event["message"] == "b"
