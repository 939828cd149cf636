"""``get``, ``describe``, ``logs`` and ``cancel`` against an API server over HTTP: a MemoryCluster
run by the real controllers and simulators, served by kmock, reached through ``--kubeconfig``.
Checks what the commands print and what they sent on the wire."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from operate_helpers import RETRY_WORKFLOW, ServedCluster, kubernaut

from compiler.spec import API_VERSION, KIND
from reconciler.status import TERMINAL_WORKFLOW_PHASES


def submit(served: ServedCluster, engine: str, name: str = "retry-demo", **step_changes: Any) -> dict[str, Any]:
    wfe = yaml.safe_load(RETRY_WORKFLOW)
    wfe["metadata"]["name"] = name
    wfe["spec"]["engine"] = engine
    wfe["spec"]["steps"][0].update(step_changes)
    return served.memory.create(wfe)


def phase(served: ServedCluster, name: str) -> str | None:
    return (served.memory.get(API_VERSION, KIND, name, "ops").get("status") or {}).get("phase")


def finish(served: ServedCluster, name: str = "retry-demo") -> None:
    assert served.sim.run_until(lambda: phase(served, name) in TERMINAL_WORKFLOW_PHASES, 3600)


@pytest.fixture(params=["jobs", "tekton"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_get_reads_the_context_namespace_over_http(served: ServedCluster, engine: str) -> None:
    submit(served, engine)
    finish(served)
    result = kubernaut("get", *served.flags())
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "NAME         PHASE       ENGINE   STEPS   AGE"
    assert lines[1].startswith(f"retry-demo   Succeeded   {engine:<6}   2/2     ")
    listed = [r for r in served.server.requests if r.url.path.endswith("/workflowexecutions")]
    assert [r.url.path for r in listed] == ["/apis/workflowexecution.kubernaut.ai/v1alpha1/namespaces/ops/"
                                            "workflowexecutions"]
    every = kubernaut("get", "-A", *served.flags())
    assert every.out.splitlines()[0].startswith("NAMESPACE   NAME ")
    assert served.server.last().url.path == "/apis/workflowexecution.kubernaut.ai/v1alpha1/workflowexecutions"
    one = json.loads(kubernaut("get", "retry-demo", "-o", "json", *served.flags()).out)
    assert one["status"]["engine"] == engine and one["metadata"]["namespace"] == "ops"


def test_describe_over_http(served: ServedCluster, engine: str) -> None:
    submit(served, engine)
    finish(served)
    result = kubernaut("describe", "retry-demo", *served.flags())
    assert result.code == 0, result.err
    # V1's ActionExecution names carry a digest of (workflow, step); Tekton names its TaskRuns.
    parent = "ActionExecution/retry-demo-flaky-8c2fa3" if engine == "jobs" else "TaskRun/retry-demo-flaky"
    parent += "  Succeeded"
    assert parent in result.out and "    Attempts:     2\n" in result.out
    assert "WorkflowSucceeded" in result.out
    missing = kubernaut("describe", "nope", *served.flags())
    assert (missing.code, missing.err) == (1, 'kubernaut: workflowexecution "nope" not found in namespace "ops"\n')


def test_logs_read_the_pod_log_subresource(served: ServedCluster, engine: str) -> None:
    submit(served, engine)
    finish(served)
    result = kubernaut("logs", "retry-demo", "--step", "flaky", "--attempt", "1", *served.flags())
    assert (result.code, result.out) == (0, "first try: connection refused\n"), result.err
    request = served.server.last()
    container = "action" if engine == "jobs" else "step-execute"
    pod = "retry-demo-flaky-pod" if engine == "tekton" else served.memory.list(
        "v1", "Pod", "ops", {"job-name": "retry-demo-flaky-8c2fa3-1"}).items[0]["metadata"]["name"]
    assert request.url.path == f"/api/v1/namespaces/ops/pods/{pod}/log"
    assert dict(request.params) == {"container": container}
    assert request.headers["Accept"] == "*/*"  # a log is text, not JSON
    followed = kubernaut("logs", "retry-demo", "-s", "after", "-f", *served.flags())
    assert followed.code == 0 and json.loads(followed.out) == {"outputs": {"b": 2}}
    assert dict(served.server.last().params)["follow"] == "true"


def test_cancel_sets_spec_cancel_and_the_controller_stops_the_workflow(served: ServedCluster, engine: str) -> None:
    submit(served, engine, name="slow")
    served.sim.run_until(lambda: phase(served, "slow") == "Running", 60)
    result = kubernaut("cancel", "slow", *served.flags())
    assert (result.code, result.out) == (0, "workflowexecution slow cancel requested\n"), result.err
    put = served.server.last()
    assert (put.method, put.url.path) == ("PUT", "/apis/workflowexecution.kubernaut.ai/v1alpha1/namespaces/ops/"
                                                 "workflowexecutions/slow")
    assert served.memory.get(API_VERSION, KIND, "slow", "ops")["spec"]["cancel"] is True
    again = kubernaut("cancel", "slow", *served.flags())
    assert again.out == "workflowexecution slow is already being cancelled\n"
    finish(served, "slow")
    assert phase(served, "slow") == "Cancelled"
    done = kubernaut("cancel", "slow", *served.flags())
    assert (done.code, done.out) == (0, "workflowexecution slow already finished (Cancelled): nothing to cancel\n")
    missing = kubernaut("cancel", "nope", *served.flags())
    assert missing.code == 1 and 'workflowexecution "nope" not found' in missing.err


def test_unreachable_cluster_is_a_clear_error(tmp_path: Any) -> None:
    from operate_helpers import kubeconfig_for

    config = kubeconfig_for("http://127.0.0.1:9", tmp_path / "kubeconfig")
    result = kubernaut("get", "--kubeconfig", config)
    assert result.code == 1 and result.err.startswith("kubernaut: API error: ") and "Traceback" not in result.err
