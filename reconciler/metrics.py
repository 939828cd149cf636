"""Prometheus metrics for the controller, labelled by engine so V1 and V2 can be compared.

The seed's rollout ("Week 5-6: monitor and compare ... V1 vs V2 success rate, MTTR comparison,
error rate analysis") needs every workflow and step series split by ``engine``. See
``docs/metrics.md`` for the metric list and example PromQL.

Each :class:`Metrics` owns its own ``CollectorRegistry``: no process-global registry, so tests,
``kubernaut run`` and several controllers in one process never see each other's samples.
Instances are thread-safe (prometheus_client's metrics are).

Label values are checked against small closed sets (engines, outcomes): a typo in a caller
would otherwise mint a new time series that no dashboard shows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .engines.registry import known_engines

__all__ = [
    "ATTEMPT_OUTCOMES",
    "CONTENT_TYPE_LATEST",
    "RECONCILE_BUCKETS",
    "STEP_BUCKETS",
    "STEP_OUTCOMES",
    "WORKFLOW_BUCKETS",
    "WORKFLOW_OUTCOMES",
    "Metrics",
    "MetricsServer",
]

WORKFLOW_OUTCOMES = ("Succeeded", "Failed", "Cancelled")
STEP_OUTCOMES = ("Succeeded", "Failed", "Cancelled")
# One attempt of a step; a timed-out attempt is told apart because timeouts are the error class
# most likely to differ between engines (pod start latency, TaskRun overhead).
ATTEMPT_OUTCOMES = ("Succeeded", "Failed", "TimedOut", "Cancelled")
# Controller outcomes (reconciler.controller) that count as reconcile errors.
_RECONCILE_ERROR_KINDS = ("transient", "permanent", "error")

# Workflow MTTR: the seed reports 2-8 minutes (5 on average) with a 1h workflow timeout, so the
# buckets are dense between 1 and 10 minutes and reach 1h.
WORKFLOW_BUCKETS = (1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 240.0, 300.0,
                    360.0, 480.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0)
# Steps: sub-second actions up to the 10m default step timeout (and a little beyond).
STEP_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 180.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
# A reconcile is a few API calls: milliseconds, seconds when the API server is slow.
RECONCILE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _check(what: str, value: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _check_duration(seconds: float) -> float:
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {seconds}")
    return seconds


@dataclass
class MetricsServer:
    """A running /metrics endpoint; :meth:`close` stops it and frees the port."""

    server: WSGIServer
    thread: threading.Thread
    addr: str
    port: int
    _closed: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        host = f"[{self.addr}]" if ":" in self.addr else self.addr
        return f"http://{host}:{self.port}/metrics"

    def close(self, timeout: float | None = 5.0) -> None:
        if self._closed:
            return
        self._closed = True
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Metrics:
    """kubernaut's metrics in a registry of their own (see the module docstring)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        #: The closed set of ``engine`` label values: the registered engines.
        self.engines: tuple[str, ...] = known_engines().names
        r = self.registry
        self.workflows_started = Counter(
            "kubernaut_workflows_started_total", "Workflows that started running, by engine.",
            ["engine"], registry=r)
        self.workflows_finished = Counter(
            "kubernaut_workflows_finished_total", "Workflows that reached a final phase, by engine and outcome.",
            ["engine", "outcome"], registry=r)
        self.workflow_duration = Histogram(
            "kubernaut_workflow_duration_seconds",
            "Start to completion of a workflow (MTTR), by engine and outcome.",
            ["engine", "outcome"], buckets=WORKFLOW_BUCKETS, registry=r)
        self.step_duration = Histogram(
            "kubernaut_step_duration_seconds",
            "Start to completion of a step, all attempts included, by engine, action type and outcome.",
            ["engine", "action_type", "outcome"], buckets=STEP_BUCKETS, registry=r)
        self.step_attempts = Counter(
            "kubernaut_step_attempts_total", "Step attempts (a retry is another attempt), by outcome.",
            ["engine", "action_type", "outcome"], registry=r)
        self.reconcile_duration = Histogram(
            "kubernaut_reconcile_duration_seconds", "Time spent in one reconcile, by controller.",
            ["controller"], buckets=RECONCILE_BUCKETS, registry=r)
        self.reconcile_errors = Counter(
            "kubernaut_reconcile_errors_total", "Reconciles that ended in an error, by controller and kind "
            "(transient: retried with backoff; permanent: reported, not retried; error: unexpected).",
            ["controller", "kind"], registry=r)
        self.api_requests = Counter(
            "kubernaut_api_requests_total", "Kubernetes API requests, by verb, kind and HTTP status code.",
            ["verb", "kind", "code"], registry=r)
        self.engine_fallbacks = Counter(
            "kubernaut_engine_fallbacks_total",
            "Workflows routed to tekton that ran on jobs because Tekton's CRDs are not installed.",
            registry=r)
        self.image_verifications = Counter(
            "kubernaut_image_verifications_total", "Action image signature verifications, by result.",
            ["result"], registry=r)
        self.routing_decisions = Counter(
            "kubernaut_routing_decisions_total",
            "Engine routing decisions, by chosen engine and deciding rule (or defaultEngine / spec.engine).",
            ["engine", "rule"], registry=r)
        self.leader = Gauge(
            "kubernaut_leader", "1 while this replica leads (runs the controllers), else 0.", registry=r)
        self.workflow_deadline = Gauge(
            "kubernaut_workflow_deadline_timestamp_seconds",
            "Unix time by which a running workflow must finish (startTime + spec.timeout); the series "
            "is removed when the workflow finishes, so one still present after its deadline is stuck.",
            ["namespace", "name", "engine"], registry=r)
        # (namespace, name) -> (engine label, deadline): the series this instance set.
        self._deadlines: dict[tuple[str, str], tuple[str, float]] = {}
        self._deadlines_lock = threading.Lock()
        # The labelled series used so far, by metric and label values: prometheus_client's
        # labels() checks and joins the values again on every call (a few per reconcile, for
        # every step). Only series that are never removed are kept here.
        self._series: dict[tuple[object, tuple[str, ...]], Any] = {}
        self._initialise_series()

    def _initialise_series(self) -> None:
        # Export zeros for every engine x outcome up front: a V2 series that does not exist yet
        # makes "V1 vs V2" ratios and absent-series alerts misleading during the rollout.
        for engine in self.engines:
            self.workflows_started.labels(engine=engine)
            for outcome in WORKFLOW_OUTCOMES:
                self.workflows_finished.labels(engine=engine, outcome=outcome)
                self.workflow_duration.labels(engine=engine, outcome=outcome)

    def _child(self, metric: Counter | Histogram, *values: str) -> Any:
        """``metric.labels(*values)``, looked up once per distinct label values."""
        key = (metric, values)
        child = self._series.get(key)
        if child is None:
            child = self._series.setdefault(key, metric.labels(*values))
        return child

    # -- workflows and steps ------------------------------------------------------------------------

    def workflow_started(self, engine: str) -> None:
        self.workflows_started.labels(engine=_check("engine", engine, self.engines)).inc()

    def workflow_finished(self, engine: str, outcome: str, duration_seconds: float | None) -> None:
        """A workflow reached ``outcome``; ``duration_seconds`` is start to completion (None when
        it never started, e.g. cancelled while pending: counted, but no MTTR sample)."""
        labels = {"engine": _check("engine", engine, self.engines),
                  "outcome": _check("outcome", outcome, WORKFLOW_OUTCOMES)}
        if duration_seconds is not None:
            # Checked before counting, so a bad call leaves no partial record behind.
            self.workflow_duration.labels(**labels).observe(_check_duration(duration_seconds))
        self.workflows_finished.labels(**labels).inc()

    def step_finished(self, engine: str, action_type: str, outcome: str, duration_seconds: float) -> None:
        seconds = _check_duration(duration_seconds)  # before .labels(), which creates the series
        self._child(self.step_duration, _check("engine", engine, self.engines), action_type,
                    _check("outcome", outcome, STEP_OUTCOMES)).observe(seconds)

    def step_attempt(self, engine: str, action_type: str, outcome: str) -> None:
        self._child(self.step_attempts, _check("engine", engine, self.engines), action_type,
                    _check("outcome", outcome, ATTEMPT_OUTCOMES)).inc()

    def workflow_running(self, namespace: str, name: str, engine: str, deadline_unix: float) -> None:
        """A workflow runs on ``engine`` and must finish by ``deadline_unix`` (idempotent)."""
        _check("engine", engine, self.engines)
        with self._deadlines_lock:
            previous = self._deadlines.get((namespace, name))
            if previous == (engine, deadline_unix):
                return  # set by an earlier reconcile (called on every one): nothing changed
            if previous is not None and previous[0] != engine:
                self.workflow_deadline.remove(namespace, name, previous[0])
            self._deadlines[(namespace, name)] = (engine, deadline_unix)
            self.workflow_deadline.labels(namespace=namespace, name=name, engine=engine).set(deadline_unix)

    def workflow_gone(self, namespace: str, name: str) -> None:
        """The workflow finished or was deleted: drop its deadline series (idempotent)."""
        with self._deadlines_lock:
            previous = self._deadlines.pop((namespace, name), None)
            if previous is not None:
                self.workflow_deadline.remove(namespace, name, previous[0])

    # -- the controller machinery ---------------------------------------------------------------------

    def leading(self, is_leader: bool) -> None:
        """Leader election's outcome for this replica (``kubernaut_leader``)."""
        self.leader.set(1 if is_leader else 0)

    def reconcile_finished(self, controller: str, seconds: float) -> None:
        checked = _check_duration(seconds)
        self._child(self.reconcile_duration, controller).observe(checked)

    def reconcile_error(self, controller: str, kind: str) -> None:
        self.reconcile_errors.labels(controller=controller, kind=kind).inc()

    def observe_reconcile(self, controller: str, outcome: str, seconds: float) -> None:
        """Matches ``reconciler.controller.Observer``: pass ``observer=metrics.observe_reconcile``
        to a ``Controller`` to get reconcile latency and errors without further wiring."""
        self.reconcile_finished(controller, seconds)
        if outcome in _RECONCILE_ERROR_KINDS:
            self.reconcile_error(controller, outcome)

    def api_request(self, verb: str, kind: str, code: int | str) -> None:
        self.api_requests.labels(verb=verb, kind=kind, code=str(code)).inc()

    # -- routing and supply chain -----------------------------------------------------------------------

    def routing_decision(self, engine: str, rule: str) -> None:
        """``rule``: the matching rule's name, or ``Decision.rule_label`` for the other cases."""
        self.routing_decisions.labels(engine=_check("engine", engine, self.engines), rule=rule).inc()

    def engine_fallback(self) -> None:
        self.engine_fallbacks.inc()

    def image_verification(self, result: str) -> None:
        """``result``: ``verified``, ``rejected`` (bad or missing signature) or ``error``
        (could not verify); a free string so the verifier can add e.g. ``cached``."""
        self._child(self.image_verifications, result).inc()

    # -- exposing ---------------------------------------------------------------------------------------

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format (``CONTENT_TYPE_LATEST``)."""
        return generate_latest(self.registry)

    def serve(self, port: int, addr: str = "127.0.0.1") -> MetricsServer:
        """Serve ``/metrics`` from a daemon thread. ``port=0`` picks a free port (see
        ``MetricsServer.port``). Loopback by default: exposing it is a deployment decision."""
        server, thread = start_http_server(port, addr=addr, registry=self.registry)
        return MetricsServer(server, thread, addr, int(server.server_address[1]))
