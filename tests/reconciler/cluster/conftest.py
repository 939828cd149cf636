"""Fixtures for the MemoryCluster tests: a virtual clock, a seeded cluster, object builders."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.clock import VirtualClock
from reconciler.cluster.memory import MemoryCluster

Obj = dict[str, Any]


class Builders:
    """Minimal valid objects; keyword arguments land in metadata (labels, namespace, ...)."""

    @staticmethod
    def configmap(name: str = "cm", data: dict[str, str] | None = None, **meta: Any) -> Obj:
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta},
                "data": data if data is not None else {"key": "value"}}

    @staticmethod
    def job(name: str = "job", image: str = "busybox", **meta: Any) -> Obj:
        return {
            "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, **meta},
            "spec": {"backoffLimit": 0, "template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "main", "image": image}]}}},
        }

    @staticmethod
    def workflow(name: str = "wf", **meta: Any) -> Obj:
        return {"apiVersion": "workflowexecution.kubernaut.ai/v1alpha1", "kind": "WorkflowExecution",
                "metadata": {"name": name, **meta}, "spec": {"steps": [{"name": "a", "action": "x"}]}}

    @staticmethod
    def pipeline_run(name: str = "pr", **meta: Any) -> Obj:
        return {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"name": name, **meta},
                "spec": {"pipelineRef": {"name": "p"}}}

    @staticmethod
    def owner_ref(owner: Obj) -> Obj:
        return {"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"]}


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def cluster(clock: VirtualClock) -> MemoryCluster:
    return MemoryCluster(clock=clock, seed=7)


@pytest.fixture
def make() -> Builders:
    return Builders()
