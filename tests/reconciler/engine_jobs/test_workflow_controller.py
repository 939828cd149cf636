"""The engine-agnostic WorkflowExecution controller: status shape, events, metrics, finalizer,
routing (sticky, fallback) and the Engine protocol a second engine plugs into."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from jobs_engine_harness import WFE_API_VERSION, WFE_KIND, Harness, echo_step, outcomes, workflow

from reconciler.app import AppConfig
from reconciler.controller import WatchSpec
from reconciler.engines import Engine, EngineContext, EngineResult
from reconciler.engines.jobs import JobsEngine
from reconciler.routing import RoutingPolicy, default_policy, parse_policy
from reconciler.simulation.wiring import simulated_pods
from reconciler.status import StepPhase, StepStatus, WorkflowPhase, spec_digest
from reconciler.verification import ImagePolicy
from reconciler.workflow_controller import FINALIZER

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def thing(name: str, **fields: object) -> str:
    return echo_step(name, action_type="custom/thing", **fields)  # type: ignore[arg-type]


def test_status_has_the_documented_shape() -> None:
    h = Harness(outcomes=outcomes("steps: {b: [{result: failed, message: nope}]}"))
    h.create(workflow("shape", thing("a") + thing("b", after=["a"]) + thing("c", after=["b"]), spec="timeout: 5m"))
    assert h.run()
    status = h.status("shape")
    assert set(status) == {"phase", "engine", "startTime", "completionTime", "message", "conditions", "steps",
                           "observedGeneration", "failureDetails", "specHash"}
    assert status["specHash"] == spec_digest(h.wfe("shape")["spec"])  # what it started from
    assert (status["phase"], status["engine"], status["message"]) == ("Failed", "jobs", "nope")
    assert status["failureDetails"] == {"step": "b", "reason": "ActionFailed", "exitCode": 1, "message": "nope",
                                        "retryable": True}
    assert RFC3339.match(status["startTime"]) and RFC3339.match(status["completionTime"])
    assert [s["name"] for s in status["steps"]] == ["a", "b", "c"]
    for step in status["steps"]:
        # Only a failed (or cancelled) step says why, in ``failure``.
        failed = {"failure"} if step["phase"] == "Failed" else set()
        assert set(step) == {"name", "phase", "attempts", "startTime", "completionTime", "outputs", "message"} | failed
        for key in ("startTime", "completionTime"):
            assert step[key] is None or RFC3339.match(step[key])
    assert {c["type"] for c in status["conditions"]} == {"Compiled", "Succeeded", "Ready"}
    for condition in status["conditions"]:
        assert set(condition) == {"type", "status", "reason", "message", "lastTransitionTime"}
    assert status["observedGeneration"] == 1


def test_running_status_and_finalizer_before_anything_runs() -> None:
    h = Harness(outcomes=outcomes("steps: {a: [{duration: 1m}]}"))
    h.create(workflow("early", thing("a", usesWorkspace=True)))
    h.run_reconciles(3, kubernaut_only=True)
    wfe = h.wfe("early")
    assert FINALIZER in wfe["metadata"]["finalizers"]
    status = wfe["status"]
    assert (status["phase"], status["engine"], status["startTime"]) == ("Running", "jobs", "2026-01-01T00:00:00Z")
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conditions == {"Compiled": ("True", "Compiled"), "Succeeded": ("Unknown", "Running"),
                          "Ready": ("Unknown", "Running")}
    # The engine was recorded before the first object was created.
    first_status = min(e.rv for e in h.seen("WorkflowExecution") if (e.obj.get("status") or {}).get("engine"))
    first_claim = min(e.rv for e in h.seen("PersistentVolumeClaim"))
    assert first_status < first_claim


def test_events_only_where_they_tell_a_user_something() -> None:
    h = Harness(outcomes=outcomes("steps: {b: [{result: failed, message: boom}]}"))
    h.create(workflow("ev", thing("a") + thing("b") + thing("c", when=["1 == 2"])))
    assert h.run()
    events = {(t, r): m for t, r, m in h.events("ev")}
    assert events[("Normal", "EngineSelected")].startswith("running on jobs: ")
    # A step's start and success are status only (issue 13: no write no one reads).
    assert ("Normal", "StepStarted") not in events and ("Normal", "StepSucceeded") not in events
    # c is skipped by its guard at once; once b failed, Tekton's first rule ("stopping") decides
    # every step that never started, so c ends "not run" on both engines (the recorder
    # aggregates the two StepSkipped events into one, with the latest message).
    seen = [(s["phase"], s["message"]) for w in h.seen("WorkflowExecution")
            for s in (w.obj.get("status") or {}).get("steps") or [] if s["name"] == "c"]
    assert ("Skipped", "when guard is false: 1 == 2") in seen
    assert seen[-1] == ("Skipped", "not run: workflow failed")
    assert events[("Normal", "StepSkipped")] == "step 'c' skipped: not run: workflow failed"
    assert events[("Warning", "StepFailed")] == "step 'b' failed: boom"
    assert events[("Warning", "WorkflowFailed")] == "boom"
    skipped = next(e for e in h.cluster.objects("Event") if e["reason"] == "StepSkipped")
    assert skipped["count"] == 2  # aggregated: guard, then "not run"


def test_metrics_by_engine_and_outcome() -> None:
    h = Harness(outcomes=outcomes("steps: {a: [{duration: 7s}]}"))
    h.create(workflow("m", thing("a")))
    assert h.run()
    text = h.app.metrics.exposition().decode()
    assert 'kubernaut_workflows_started_total{engine="jobs"} 1.0' in text
    assert 'kubernaut_workflows_finished_total{engine="jobs",outcome="Succeeded"} 1.0' in text
    assert 'kubernaut_workflow_duration_seconds_sum{engine="jobs",outcome="Succeeded"} 7.0' in text
    assert 'kubernaut_step_duration_seconds_sum{action_type="custom/thing",engine="jobs",outcome="Succeeded"} 7.0' \
        in text
    assert 'kubernaut_step_attempts_total{action_type="custom/thing",engine="jobs",outcome="Succeeded"} 1.0' in text
    assert 'kubernaut_routing_decisions_total{engine="jobs",rule="defaultEngine"} 1.0' in text
    assert 'kubernaut_reconcile_duration_seconds_count{controller="workflowexecutions"}' in text


def test_status_is_written_only_when_it_changes() -> None:
    h = Harness()
    h.create(workflow("quiet", thing("a")))
    assert h.run()
    patches = [r for r in h.cluster.requests if r.verb == "patch_status" and r.kind == WFE_KIND]
    assert patches and not any(r.no_op for r in patches)
    before = len(patches)
    h.cluster.update(copy.deepcopy(h.wfe("quiet")))  # wake it
    h.manager.run_until_idle()
    assert len([r for r in h.cluster.requests if r.verb == "patch_status" and r.kind == WFE_KIND]) == before


# -- routing -------------------------------------------------------------------------------------


def test_tekton_requested_without_a_tekton_engine_falls_back_to_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    # A controller built without the V2 engine (Tekton's CRDs present, the engine not registered).
    monkeypatch.setattr("reconciler.app.default_engines", lambda verification, config=None: [JobsEngine()])
    h = Harness()
    doc = workflow("wants-tekton", thing("a"))
    doc["spec"]["engine"] = "tekton"
    h.create(doc)
    assert h.run()
    status = h.status("wants-tekton")
    assert (status["phase"], status["engine"]) == ("Succeeded", "jobs")
    fallback = next(c for c in status["conditions"] if c["type"] == "EngineFallback")
    assert fallback["status"] == "True"
    assert "the tekton engine is not available in this controller" in fallback["message"]
    assert any(t == "Warning" and r == "EngineFallback" for t, r, _ in h.events("wants-tekton"))
    assert "kubernaut_engine_fallbacks_total 1.0" in h.app.metrics.exposition().decode()


def test_tekton_requested_where_tekton_is_not_installed_falls_back_to_jobs() -> None:
    h = Harness(tekton_installed=False)
    doc = workflow("wants-tekton", thing("a"))
    doc["spec"]["engine"] = "tekton"
    h.create(doc)
    assert h.run()
    status = h.status("wants-tekton")
    assert (status["phase"], status["engine"]) == ("Succeeded", "jobs")
    fallback = next(c for c in status["conditions"] if c["type"] == "EngineFallback")
    assert fallback["status"] == "True" and "Tekton is not installed" in fallback["message"]


@dataclass
class FakeTekton:
    """A second engine through the Engine protocol only: every step succeeds at once."""

    name: str = "tekton"
    watches: Sequence[WatchSpec] = ()
    calls: list[str] = field(default_factory=list)

    def reconcile(self, ctx: EngineContext) -> EngineResult:
        assert ctx.workflow is not None
        self.calls.append("reconcile-stopping" if ctx.stopping else "reconcile")
        steps = [StepStatus(s.name, StepPhase.SUCCEEDED, 1, ctx.status.start_time, ctx.status.start_time, {"by": "v2"})
                 for s in ctx.workflow.steps]
        return EngineResult(steps, WorkflowPhase.SUCCEEDED)

    def cancel(self, ctx: EngineContext) -> None:
        self.calls.append("cancel")

    def cleanup(self, ctx: EngineContext) -> bool:
        self.calls.append("cleanup")
        return True


def _policy(text: str) -> RoutingPolicy:
    loaded = parse_policy("routing.yaml", text)
    assert loaded.policy is not None, loaded.render()
    return loaded.policy


TO_TEKTON = """
apiVersion: kubernaut.ai/v1alpha1
kind: RoutingPolicy
defaultEngine: tekton
"""


def test_a_second_engine_plugs_in_through_the_protocol() -> None:
    fake = FakeTekton()
    assert isinstance(fake, Engine)
    config = AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods, extra_engines=[fake],
                       policy_provider=lambda: _policy(TO_TEKTON))
    h = Harness(config=config)
    h.create(workflow("v2", thing("a") + thing("b")))
    assert h.run()
    status = h.status("v2")
    assert (status["phase"], status["engine"]) == ("Succeeded", "tekton")
    assert [s["outputs"] for s in status["steps"]] == [{"by": "v2"}, {"by": "v2"}]
    assert fake.calls == ["reconcile", "cleanup"]
    assert not h.objects("ActionExecution")
    text = h.app.metrics.exposition().decode()
    assert 'kubernaut_workflows_finished_total{engine="tekton",outcome="Succeeded"} 1.0' in text


def test_without_tekton_crds_a_tekton_route_falls_back() -> None:
    fake = FakeTekton()
    config = AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods, extra_engines=[fake],
                       policy_provider=lambda: _policy(TO_TEKTON))
    h = Harness(config=config, tekton_installed=False)
    h.create(workflow("no-crds", thing("a")))
    assert h.run()
    status = h.status("no-crds")
    assert (status["phase"], status["engine"]) == ("Succeeded", "jobs")
    fallback = next(c for c in status["conditions"] if c["type"] == "EngineFallback")
    assert "Tekton is not installed" in fallback["message"]
    assert fake.calls == []


def test_the_engine_is_sticky_across_policy_changes() -> None:
    fake = FakeTekton()
    current = {"policy": default_policy()}
    config = AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods, extra_engines=[fake],
                       policy_provider=lambda: current["policy"])
    h = Harness(config=config, outcomes=outcomes("steps: {a: [{duration: 30s}]}"))
    h.create(workflow("before", thing("a")))
    h.run_reconciles(4, kubernaut_only=True)
    assert h.status("before")["engine"] == "jobs"
    current["policy"] = _policy(TO_TEKTON)  # the operator flips the flag
    h.create(workflow("after", thing("a")))
    assert h.run()
    assert (h.status("before")["engine"], h.status("before")["phase"]) == ("jobs", "Succeeded")
    assert h.status("after")["engine"] == "tekton"


def test_cancelling_asks_the_engine_to_stop_after_observing() -> None:
    fake = FakeTekton()

    def never_done(ctx: EngineContext) -> EngineResult:
        fake.calls.append("reconcile-stopping" if ctx.stopping else "reconcile")
        assert ctx.workflow is not None
        return EngineResult([StepStatus(s.name, StepPhase.RUNNING, 1, ctx.status.start_time)
                             for s in ctx.workflow.steps])

    fake.reconcile = never_done  # type: ignore[method-assign]
    config = AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods, extra_engines=[fake],
                       policy_provider=lambda: _policy(TO_TEKTON))
    h = Harness(config=config)
    h.create(workflow("stop-v2", thing("a")))
    h.manager.run_until_idle()
    wfe = copy.deepcopy(h.wfe("stop-v2"))
    wfe["spec"]["cancel"] = True
    h.cluster.update(wfe)
    assert h.run()
    assert h.steps("stop-v2") == {"a": ("Cancelled", 1)}
    assert fake.calls[-3:] == ["reconcile-stopping", "cancel", "cleanup"]


def test_an_unknown_recorded_engine_is_a_permanent_error() -> None:
    h = Harness()
    created = h.create(workflow("alien", thing("a")))
    h.cluster.patch_status(WFE_API_VERSION, WFE_KIND, "alien", "default",
                           {"phase": "Running", "engine": "argo", "startTime": "2026-01-01T00:00:00Z"})
    h.manager.run_until_idle()
    controller = h.app.manager.get("workflowexecutions")
    assert controller.stats.permanent_errors >= 1
    assert h.status("alien")["engine"] == "argo"  # never moved to another engine
    assert not h.objects("ActionExecution")
    assert created["metadata"]["name"] == "alien"


def test_the_fallback_engine_must_exist() -> None:
    from reconciler.compile import WorkflowCompiler
    from reconciler.workflow_controller import WorkflowController
    h = Harness()
    with pytest.raises(ValueError, match="fallback engine"):
        WorkflowController(h.cluster, h.clock, WorkflowCompiler(h.app.compiler.catalog), {})
