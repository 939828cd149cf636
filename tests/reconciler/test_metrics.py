"""reconciler.metrics: exposition format, labels by engine, histogram maths, the /metrics server."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from reconciler.cluster.memory import MemoryCluster
from reconciler.controller import Controller, Key
from reconciler.metrics import RECONCILE_BUCKETS, STEP_BUCKETS, WORKFLOW_BUCKETS, Metrics

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(metrics: Metrics) -> Samples:
    """Every sample of the exposition, parsed back: (name, sorted labels) -> value."""
    found: Samples = {}
    for family in text_string_to_metric_families(metrics.exposition().decode("utf-8")):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


def families(metrics: Metrics) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(metrics.exposition().decode("utf-8"))}


def test_every_documented_metric_is_exposed_with_its_type() -> None:
    fams = families(Metrics())
    expected = {
        "kubernaut_workflows_started": "counter", "kubernaut_workflows_finished": "counter",
        "kubernaut_workflow_duration_seconds": "histogram", "kubernaut_step_duration_seconds": "histogram",
        "kubernaut_step_attempts": "counter", "kubernaut_reconcile_duration_seconds": "histogram",
        "kubernaut_reconcile_errors": "counter", "kubernaut_api_requests": "counter",
        "kubernaut_engine_fallbacks": "counter", "kubernaut_image_verifications": "counter",
        "kubernaut_routing_decisions": "counter",
    }
    assert {name: fams[name].type for name in expected} == expected


def test_instances_do_not_share_samples() -> None:
    a, b = Metrics(), Metrics()
    a.workflow_started("jobs")
    assert value(samples(a), "kubernaut_workflows_started_total", engine="jobs") == 1
    assert value(samples(b), "kubernaut_workflows_started_total", engine="jobs") == 0
    registry = CollectorRegistry()
    assert Metrics(registry).registry is registry


def test_workflow_series_are_split_by_engine_and_exist_before_any_run() -> None:
    m = Metrics()
    fresh = samples(m)
    for engine in ("jobs", "tekton"):  # zeros for V2 before the first V2 workflow: ratios work
        assert value(fresh, "kubernaut_workflows_started_total", engine=engine) == 0
        for outcome in ("Succeeded", "Failed", "Cancelled"):
            assert value(fresh, "kubernaut_workflows_finished_total", engine=engine, outcome=outcome) == 0
            assert value(fresh, "kubernaut_workflow_duration_seconds_count", engine=engine, outcome=outcome) == 0
    for _ in range(3):
        m.workflow_started("jobs")
    m.workflow_started("tekton")
    m.workflow_finished("jobs", "Succeeded", 120.0)
    m.workflow_finished("jobs", "Failed", 30.0)
    m.workflow_finished("tekton", "Succeeded", 240.0)
    m.workflow_finished("jobs", "Cancelled", None)  # cancelled before it started: no MTTR sample
    got = samples(m)
    assert value(got, "kubernaut_workflows_started_total", engine="jobs") == 3
    assert value(got, "kubernaut_workflows_started_total", engine="tekton") == 1
    assert value(got, "kubernaut_workflows_finished_total", engine="jobs", outcome="Succeeded") == 1
    assert value(got, "kubernaut_workflows_finished_total", engine="jobs", outcome="Cancelled") == 1
    assert value(got, "kubernaut_workflows_finished_total", engine="tekton", outcome="Succeeded") == 1
    assert value(got, "kubernaut_workflow_duration_seconds_count", engine="jobs", outcome="Cancelled") == 0
    assert value(got, "kubernaut_workflow_duration_seconds_sum", engine="tekton", outcome="Succeeded") == 240.0


def test_histogram_buckets_count_and_sum() -> None:
    m = Metrics()
    observations = [0.5, 1.0, 90.0, 300.0, 301.0, 3600.0, 5000.0]
    for seconds in observations:
        m.workflow_finished("tekton", "Succeeded", seconds)
    got = samples(m)
    labels = {"engine": "tekton", "outcome": "Succeeded"}
    for bound in WORKFLOW_BUCKETS:
        expected = sum(1 for o in observations if o <= bound)  # buckets are cumulative, le inclusive
        assert value(got, "kubernaut_workflow_duration_seconds_bucket", le=str(bound), **labels) == expected
    assert value(got, "kubernaut_workflow_duration_seconds_bucket", le="+Inf", **labels) == len(observations)
    assert value(got, "kubernaut_workflow_duration_seconds_count", **labels) == len(observations)
    assert value(got, "kubernaut_workflow_duration_seconds_sum", **labels) == pytest.approx(sum(observations))


def test_buckets_cover_one_second_to_one_hour() -> None:
    assert WORKFLOW_BUCKETS[0] == 1.0 and WORKFLOW_BUCKETS[-1] == 3600.0
    assert sum(1 for b in WORKFLOW_BUCKETS if 120 <= b <= 480) >= 5  # the seed's 2-8 min MTTR band
    assert list(WORKFLOW_BUCKETS) == sorted(WORKFLOW_BUCKETS)
    assert list(STEP_BUCKETS) == sorted(STEP_BUCKETS) and 600.0 in STEP_BUCKETS  # default step timeout
    assert RECONCILE_BUCKETS[0] < 0.01 < RECONCILE_BUCKETS[-1]


def test_step_metrics_by_engine_and_action_type() -> None:
    m = Metrics()
    m.step_attempt("jobs", "git/clone", "Failed")
    m.step_attempt("jobs", "git/clone", "TimedOut")
    m.step_attempt("jobs", "git/clone", "Succeeded")
    m.step_finished("jobs", "git/clone", "Succeeded", 42.0)
    m.step_attempt("tekton", "git/clone", "Succeeded")
    m.step_finished("tekton", "git/clone", "Succeeded", 12.0)
    got = samples(m)
    for outcome in ("Failed", "TimedOut", "Succeeded"):
        assert value(got, "kubernaut_step_attempts_total", engine="jobs", action_type="git/clone", outcome=outcome) == 1
    assert value(got, "kubernaut_step_duration_seconds_sum", engine="jobs", action_type="git/clone",
                 outcome="Succeeded") == 42.0
    assert value(got, "kubernaut_step_duration_seconds_bucket", engine="tekton", action_type="git/clone",
                 outcome="Succeeded", le="10.0") == 0
    assert value(got, "kubernaut_step_duration_seconds_bucket", engine="tekton", action_type="git/clone",
                 outcome="Succeeded", le="15.0") == 1


def test_controller_api_routing_and_supply_chain_metrics() -> None:
    m = Metrics()
    m.api_request("create", "Job", 201)
    m.api_request("create", "Job", "409")
    m.engine_fallback()
    m.engine_fallback()
    m.image_verification("verified")
    m.image_verification("rejected")
    m.routing_decision("tekton", "gitops-on-tekton")
    m.routing_decision("jobs", "defaultEngine")
    m.reconcile_error("workflowexecution", "transient")
    got = samples(m)
    assert value(got, "kubernaut_api_requests_total", verb="create", kind="Job", code="201") == 1
    assert value(got, "kubernaut_api_requests_total", verb="create", kind="Job", code="409") == 1
    assert value(got, "kubernaut_engine_fallbacks_total") == 2
    assert value(got, "kubernaut_image_verifications_total", result="rejected") == 1
    assert value(got, "kubernaut_routing_decisions_total", engine="tekton", rule="gitops-on-tekton") == 1
    assert value(got, "kubernaut_routing_decisions_total", engine="jobs", rule="defaultEngine") == 1
    assert value(got, "kubernaut_reconcile_errors_total", controller="workflowexecution", kind="transient") == 1


def test_observer_plugs_into_a_controller() -> None:
    m = Metrics()
    outcomes = iter([None, RuntimeError("bug")])

    def reconcile(key: Key) -> None:
        problem = next(outcomes)
        if problem is not None:
            raise problem

    controller = Controller("demo", reconcile, observer=m.observe_reconcile).bind(MemoryCluster())
    assert controller.reconcile_key(Key("ns", "a")) == "success"
    assert controller.reconcile_key(Key("ns", "a")) == "error"
    got = samples(m)
    assert value(got, "kubernaut_reconcile_duration_seconds_count", controller="demo") == 2
    assert value(got, "kubernaut_reconcile_errors_total", controller="demo", kind="error") == 1
    assert ("kubernaut_reconcile_errors_total", (("controller", "demo"), ("kind", "success"))) not in got
    controller.close()


@pytest.mark.parametrize("call", [
    lambda m: m.workflow_started("argo"),
    lambda m: m.workflow_finished("jobs", "Skipped", 1.0),
    lambda m: m.workflow_finished("jobs", "Succeeded", -1.0),
    lambda m: m.step_attempt("jobs", "x", "Done"),
    lambda m: m.step_finished("tekton", "x", "TimedOut", 1.0),
    lambda m: m.routing_decision("v2", "rule"),
    lambda m: m.step_finished("jobs", "x", "Succeeded", -0.5),
    lambda m: m.reconcile_finished("demo", -0.5),
])
def test_unknown_label_values_are_rejected(call: Any) -> None:
    m = Metrics()
    before = m.exposition()
    with pytest.raises(ValueError):
        call(m)
    assert m.exposition() == before  # no stray series was created


def test_serve_answers_on_an_ephemeral_loopback_port() -> None:
    m = Metrics()
    m.workflow_started("tekton")
    server = m.serve(0)
    try:
        assert server.port > 0 and server.addr == "127.0.0.1"
        with urllib.request.urlopen(server.url, timeout=5) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            body = response.read().decode("utf-8")
    finally:
        server.close()
    parsed = {f.name: f for f in text_string_to_metric_families(body)}
    started = parsed["kubernaut_workflows_started"]
    assert [(s.labels, s.value) for s in started.samples if s.name.endswith("_total")] == [
        ({"engine": "jobs"}, 0.0), ({"engine": "tekton"}, 1.0)]
    server.close()  # idempotent
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url, timeout=2)  # the port is closed now
