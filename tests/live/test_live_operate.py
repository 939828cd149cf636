"""``kubernaut get``, ``describe``, ``logs``, ``cancel`` and ``report`` against a real API server
(``KUBERNAUT_LIVE_KUBECONFIG``). No controller runs here: the tests write a WorkflowExecution and
its status themselves and check what the commands read and write through the real API."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from kubernaut.cli import app
from reconciler.cluster.kube import KubeCluster

pytestmark = pytest.mark.live
_runner = CliRunner()


def kubernaut(*args: str) -> Any:
    flags = ["--kubeconfig", os.environ["KUBERNAUT_LIVE_KUBECONFIG"]]
    if os.environ.get("KUBERNAUT_LIVE_CONTEXT"):
        flags += ["--context", os.environ["KUBERNAUT_LIVE_CONTEXT"]]
    return _runner.invoke(app, [*args, *flags])


def running_workflow(live: KubeCluster, api: str, name: str, namespace: str) -> dict[str, Any]:
    live.create({"apiVersion": api, "kind": "WorkflowExecution", "metadata": {"name": name, "namespace": namespace},
                 "spec": {"workflowType": "live-test", "steps": [
                     {"name": "a", "actionType": "kubernaut/echo", "image": "busybox"},
                     {"name": "b", "actionType": "kubernaut/echo", "image": "busybox", "runAfter": ["a"]}]}})
    return live.patch_status(api, "WorkflowExecution", name, namespace, {
        "phase": "Running", "engine": "jobs", "startTime": "2026-01-01T00:00:00Z",
        "steps": [{"name": "a", "phase": "Succeeded", "attempts": 1, "outputs": {"x": 1}},
                  {"name": "b", "phase": "Pending", "attempts": 0}]})


def test_get_describe_logs_cancel(live: KubeCluster, namespace: str, workflow_crd: str,
                                  unique: Callable[[str], str]) -> None:
    name = unique("wf")
    running_workflow(live, workflow_crd, name, namespace)
    listed = kubernaut("get", "-n", namespace)
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == ["NAME", "PHASE", "ENGINE", "STEPS", "AGE"]
    assert [name, "Running", "jobs", "1/2"] == next(line.split()[:4] for line in listed.stdout.splitlines()
                                                    if line.startswith(name))
    one = json.loads(kubernaut("get", name, "-n", namespace, "-o", "json").stdout)
    assert one["status"]["steps"][0]["outputs"] == {"x": 1}
    described = kubernaut("describe", name, "-n", namespace)
    assert described.exit_code == 0 and "Workflow type:  live-test" in described.stdout
    logs = kubernaut("logs", name, "-n", namespace, "--step", "b")
    assert logs.exit_code == 1 and "has not started a pod (yet)" in logs.stderr
    cancelled = kubernaut("cancel", name, "-n", namespace)
    assert (cancelled.exit_code, cancelled.stdout) == (0, f"workflowexecution {name} cancel requested\n")
    assert live.get(workflow_crd, "WorkflowExecution", name, namespace)["spec"]["cancel"] is True
    missing = kubernaut("describe", unique("nope"), "-n", namespace)
    assert missing.exit_code == 1 and "not found" in missing.stderr


def test_report_reads_the_cluster(live: KubeCluster, namespace: str, workflow_crd: str,
                                  unique: Callable[[str], str]) -> None:
    running_workflow(live, workflow_crd, unique("wf"), namespace)
    result = kubernaut("report", "-n", namespace, "--output", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["engines"][0]["engine"] == "jobs" and data["engines"][0]["unfinished"] >= 1
