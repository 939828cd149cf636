"""The engine-agnostic WorkflowExecution controller.

It owns what both engines share and delegates running the steps to an
:class:`~reconciler.engines.base.Engine` (``jobs`` or ``tekton``). One reconcile of a key:

1. Read the WorkflowExecution (gone: done).
2. Being deleted, or ``spec.cancel: true``: the engine stops what runs, the phase becomes
   Cancelled (unfinished steps Cancelled), cleanup, then the ``kubernaut.ai/cleanup`` finalizer
   is removed. A finished workflow is only cleaned up.
3. Finished: make sure cleanup happened (the workspace is deleted only after the final status is
   persisted), remove the finalizer, nothing else.
4. Started, and the spec (``cancel`` aside) is no longer the one recorded as ``status.specHash``
   when it started (only where the CRD's immutability rule is not enforced): fail closed
   (``SpecModified``: what runs is stopped, nothing is compiled from or created for the edited
   spec, a Warning event).
5. Add the finalizer (first reconcile), compile (``reconciler.compile``); a spec error is final:
   phase Failed, ``status.diagnostics``, condition ``Compiled=False``, a Warning event.
6. Choose the engine once: ``status.engine`` is sticky; otherwise ``reconciler.routing.decide``
   with the current policy, recorded with startTime, phase Running and ``specHash`` in one
   conditional status patch *before* anything is created (a fallback to jobs is a Warning event
   and a condition).
7. Enforce the workflow timeout, else let the engine reconcile, then write the status it
   reports — only when it changed, all of a reconcile's transitions (a step's end and its
   successors' start) in one patch — with the metrics, and Events only where they tell a user
   something: the workflow started (``EngineSelected``) and ended, a step failed or was skipped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from compiler import ir
from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND

from .clock import Clock, parse_rfc3339, rfc3339
from .cluster import Cluster, Conflict, JsonObject, NotFound
from .cluster.snapshots import FrozenDict
from .compile import Compiled, WorkflowCompiler
from .controller import Controller, Key, PermanentError, Result, TransientError, WatchSpec
from .dependencies import missing_dependencies
from .engines.base import Engine, EngineContext, EngineResult
from .engines.own_writes import OwnWrites
from .engines.registry import known_engines
from .events import EventRecorder
from .failures import FailureReason, StepFailure
from .locks import LOCK_LABEL, TargetLocks
from .locks import describe as describe_target
from .metrics import Metrics
from .routing import RoutingPolicy, decide, default_policy
from .status import (
    NOT_RUN_CANCELLED,
    NOT_RUN_WORKFLOW_FAILED,
    TERMINAL_WORKFLOW_PHASES,
    Condition,
    StepPhase,
    StepStatus,
    WorkflowPhase,
    WorkflowStatus,
    failure_details,
    first_failure,
    set_condition,
)

__all__ = ["FINALIZER", "PolicyProvider", "WorkflowController"]

log = logging.getLogger(__name__)

FINALIZER = "kubernaut.ai/cleanup"
_CLEANUP_RETRY_SECONDS = 5.0
#: A waiter looks at its target's lock again after this long even if no event woke it.
LOCK_RECHECK_SECONDS = 15.0
TARGET_LOCKED = "TargetLocked"
DEDUPLICATED = "Deduplicated"

PolicyProvider = Callable[[], RoutingPolicy]

_WORKFLOW_EVENTS = {
    WorkflowPhase.SUCCEEDED: ("Normal", "WorkflowSucceeded"),
    WorkflowPhase.FAILED: ("Warning", "WorkflowFailed"),
    WorkflowPhase.CANCELLED: ("Normal", "WorkflowCancelled"),
}


class WorkflowController:
    """Reconciles WorkflowExecutions with the given engines. Add :meth:`controller` to a Manager."""

    NAME = "workflowexecutions"

    def __init__(
        self,
        cluster: Cluster,
        clock: Clock,
        compiler: WorkflowCompiler,
        engines: Mapping[str, Engine],
        *,
        policy_provider: PolicyProvider = default_policy,
        recorder: EventRecorder | None = None,
        metrics: Metrics | None = None,
        fallback_engine: str | None = None,
    ) -> None:
        fallback_engine = fallback_engine or known_engines().fallback.name
        if fallback_engine not in engines:
            raise ValueError(f"the fallback engine '{fallback_engine}' is not among the engines {sorted(engines)}")
        self.cluster = cluster
        self.clock = clock
        self.compiler = compiler
        self.engines = dict(engines)
        self.policy_provider = policy_provider
        self.recorder = recorder or EventRecorder(cluster, "kubernaut-workflowexecution", clock=clock)
        self.metrics = metrics or Metrics()
        self.fallback_engine = fallback_engine
        self.locks = TargetLocks(cluster, clock)
        self._own = OwnWrites()

    def controller(self, workers: int = 1) -> Controller:
        watches = [WatchSpec(WFE_API_VERSION, WFE_KIND, self._own.mapper()),
                   WatchSpec(WFE_API_VERSION, WFE_KIND, self._lock_waiters, label_selector=LOCK_LABEL)]
        for engine in self.engines.values():
            watches.extend(engine.watches)
        return Controller(self.NAME, self.reconcile, watches, workers=workers,
                          observer=self.metrics.observe_reconcile)

    # -- reconcile -------------------------------------------------------------------------------

    def reconcile(self, key: Key) -> Result | None:
        try:
            wfe = self.cluster.get(WFE_API_VERSION, WFE_KIND, key.name, key.namespace)
        except NotFound:
            self._own.forget(key)
            self.metrics.workflow_gone(key.namespace or "", key.name)
            return None
        stored = WorkflowStatus.from_json(wfe.get("status"))
        if wfe["metadata"].get("deletionTimestamp") or (wfe.get("spec") or {}).get("cancel") is True:
            return self._cancel(wfe, stored)
        if stored.terminal:
            return self._cleanup(wfe, stored)
        if self._modified(wfe, stored):
            return self._spec_modified(wfe, stored)
        wfe = self._ensure_finalizer(wfe)
        compiled = self.compiler.compile(wfe)
        if compiled.workflow is None:
            return self._spec_error(wfe, stored, compiled)
        wf = compiled.workflow
        # The stored status again, in workflow order (the finalizer's update left it as it was).
        status = stored.in_order([s.name for s in wf.steps])
        if wf.target is not None:
            wfe, waiting = self._lock(wfe, status, wf, wf.target)
            if waiting is not None:
                return waiting
        if status.engine is None:
            missing = missing_dependencies(self.cluster, wf, wfe["metadata"].get("namespace"))
            if missing:
                return self._dependency_missing(wfe, status, wf, missing)
            wfe, status = self._start(wfe, status, wf)
        engine = self._engine(status.engine)
        ctx = self._context(wfe, wf, status)
        remaining = self._remaining(status, wf)
        if status.start_time and status.engine in self.metrics.engines:
            # Set on every reconcile, so a restarted controller exports its running workflows again.
            deadline = parse_rfc3339(status.start_time).timestamp() + wf.timeout_seconds
            self.metrics.workflow_running(key.namespace or "", key.name, status.engine, deadline)
        if remaining <= 0:
            return self._time_out(ctx, engine, wf)
        result = engine.reconcile(ctx)
        new = self._observed(status, result, wfe)
        wfe = self._write(wfe, status, new, wf)
        if new.terminal:
            return self._cleanup(wfe, new)
        waits = [remaining] if math.isfinite(remaining) else []
        if result.requeue_after is not None:
            waits.append(result.requeue_after)
        return Result(requeue_after=min(waits)) if waits else None

    # -- target locks (reconciler.locks) ------------------------------------------------------------

    def _lock(self, wfe: JsonObject, status: WorkflowStatus, wf: ir.Workflow,
              target: ir.TargetRef) -> tuple[JsonObject, Result | None]:
        """Hold the target's lock before anything runs: ``(wfe, None)`` to go on, else the
        result of waiting (Pending, ``TargetLocked``) or of ``lockPolicy: fail`` (Deduplicated)."""
        wfe = self._own.record(self.locks.label(wfe, target))
        started = status.engine is not None
        try:
            state = self.locks.acquire(wfe, target, started=started)
        except Conflict as exc:
            raise TransientError(f"the lock of {describe_target(target)} changed meanwhile: {exc}") from None
        if state.held or started:
            return wfe, None  # a started workflow always holds its lock (takeover needs it finished)
        now = self._now()
        if wf.lock_policy == "fail":
            message = f"deduplicated: {state.message}"
            new = _finish(status, WorkflowPhase.FAILED, message, now,
                          running=(StepPhase.CANCELLED, message), pending=(StepPhase.SKIPPED, f"not run: {message}"))
            new.conditions = _outcome(new.conditions, "False", DEDUPLICATED, message, now)
            new.failure_details = failure_details(None, StepFailure.of(FailureReason.DEDUPLICATED, message))
            wfe = self._write(wfe, status, new, wf)
            return wfe, self._cleanup(wfe, new) or Result()
        new = dataclasses.replace(status, phase=WorkflowPhase.PENDING, message=state.message,
                                  conditions=_outcome(status.conditions, "Unknown", TARGET_LOCKED, state.message, now))
        self._write(wfe, status, new, wf)
        return wfe, Result(requeue_after=LOCK_RECHECK_SECONDS)

    def _lock_waiters(self, wfe: JsonObject) -> list[Key]:
        """A workflow with a target ended or went: wake the others of the same target."""
        lock = (wfe["metadata"].get("labels") or {}).get(LOCK_LABEL)
        phase = (wfe.get("status") or {}).get("phase")
        if not lock or (phase not in {p.value for p in TERMINAL_WORKFLOW_PHASES}
                        and not wfe["metadata"].get("deletionTimestamp")):
            return []
        items = self.cluster.list(WFE_API_VERSION, WFE_KIND, None, {LOCK_LABEL: lock}).items
        return [Key(w["metadata"].get("namespace"), w["metadata"]["name"]) for w in items
                if not (w.get("status") or {}).get("engine")]

    def _release(self, wfe: JsonObject, status: WorkflowStatus) -> None:
        """Free the Lease this workflow took: the one recorded on it when it was labelled, never
        one compiled from a spec edited since (SpecModified), which may name another target."""
        if self.locks.release_recorded(wfe):
            return
        # Labelled by a release that recorded no Lease: the spec names it, if it is still the one
        # the workflow started from.
        wf = self._trusted_workflow(wfe, status)
        if wf is not None and wf.target is not None:
            self.locks.release(wfe, wf.target)

    # -- starting -----------------------------------------------------------------------------------

    def _ensure_finalizer(self, wfe: JsonObject) -> JsonObject:
        finalizers = list(wfe["metadata"].get("finalizers") or [])
        if FINALIZER in finalizers:
            return wfe
        return self._own.record(self.cluster.update(_with_finalizers(wfe, [*finalizers, FINALIZER])))

    def _start(self, wfe: JsonObject, status: WorkflowStatus, wf: ir.Workflow) -> tuple[JsonObject, WorkflowStatus]:
        """Choose the engine and record it, with the start, in one conditional status patch."""
        meta = wfe["metadata"]
        decision = decide(wf, str(meta.get("uid") or ""), self.policy_provider(), self.cluster.has_kind)
        engine: str = decision.engine
        fallback, reason = decision.fallback, decision.reason
        if engine not in self.engines:
            reason = (f"{reason}; the {engine} engine is not available in this controller: "
                      f"falling back to {self.fallback_engine}")
            engine, fallback = self.fallback_engine, True
        unavailable = self._unavailable(engine)
        if unavailable is not None and wf.engine == "auto":
            # Routing chose it, the user did not: run the workflow where it can run. A workflow
            # that asked for this engine itself stays, and the engine says why it cannot start.
            reason = f"{reason}; {unavailable}: falling back to {self.fallback_engine}"
            engine, fallback = self.fallback_engine, True
        now = self._now()
        conditions = set_condition(status.conditions, Condition(
            "Compiled", "True", "Compiled", f"{len(wf.steps)} step(s)", now))
        if fallback:
            conditions = set_condition(conditions,
                                       Condition("EngineFallback", "True", "EngineUnavailable", reason, now))
        conditions = _outcome(conditions, "Unknown", "Running", "", now)
        # The spec it starts from, recorded in the same write: the snapshot every later reconcile
        # compares with (nothing runs from an edited spec, see _spec_modified).
        new = WorkflowStatus(phase=WorkflowPhase.RUNNING, engine=engine, start_time=now,
                             observed_generation=meta.get("generation"), conditions=conditions,
                             steps=[StepStatus(step.name) for step in wf.steps],
                             spec_hash=self.compiler.spec_digest(wfe))
        wfe = self._patch(wfe, new)
        self.recorder.normal(wfe, "EngineSelected", f"running on {engine}: {reason}")
        if fallback:
            self.recorder.warning(wfe, "EngineFallback", reason)
            self.metrics.engine_fallback()
        if engine in self.metrics.engines:
            self.metrics.workflow_started(engine)
            self.metrics.routing_decision(engine, decision.rule_label)
        return wfe, new

    def _dependency_missing(self, wfe: JsonObject, status: WorkflowStatus, wf: ir.Workflow,
                            missing: list[str]) -> Result | None:
        """A Secret or ConfigMap a step mounts is missing: the workflow fails before any pod."""
        message = "; ".join(missing)
        now = self._now()
        new = _finish(status, WorkflowPhase.FAILED, message, now,
                      running=(StepPhase.CANCELLED, message), pending=(StepPhase.SKIPPED, f"not run: {message}"))
        new.conditions = _outcome(new.conditions, "False", FailureReason.DEPENDENCY_MISSING.value, message, now)
        new.failure_details = failure_details(None, StepFailure.of(FailureReason.DEPENDENCY_MISSING, message))
        wfe = self._write(wfe, status, new, wf)
        self.recorder.warning(wfe, FailureReason.DEPENDENCY_MISSING.value, message)
        return self._cleanup(wfe, new) or Result()

    def _unavailable(self, name: str) -> str | None:
        """Why engine ``name`` starts no new workflow (its optional ``unavailable`` attribute:
        the tekton engine without a pullable helper image), or None."""
        if name == self.fallback_engine:
            return None
        reason = getattr(self.engines.get(name), "unavailable", None)
        return reason if isinstance(reason, str) else None

    def _engine(self, name: str | None) -> Engine:
        engine = self.engines.get(name or "")
        if engine is None:
            raise PermanentError(f"status.engine is '{name}', which this controller does not run "
                                 f"(engines: {', '.join(sorted(self.engines))})")
        return engine

    # -- observing ----------------------------------------------------------------------------------

    def _observed(self, status: WorkflowStatus, result: EngineResult, wfe: JsonObject) -> WorkflowStatus:
        now = self._now()
        new = dataclasses.replace(status, steps=list(result.steps), phase=result.phase, message=result.message,
                                  observed_generation=wfe["metadata"].get("generation"))
        if result.phase is WorkflowPhase.SUCCEEDED:
            new.completion_time = now
            new.conditions = _outcome(status.conditions, "True", "Succeeded", "all steps finished", now)
        elif result.phase is WorkflowPhase.FAILED:
            new.completion_time = now
            new.conditions = _outcome(status.conditions, "False", "Failed", result.message or "", now)
            failed = first_failure(new.steps)
            if failed is not None:
                failure = failed.failure or StepFailure.of(FailureReason.ACTION_FAILED, failed.message or "")
                new.failure_details = failure_details(failed.name, failure)
        return new

    def _remaining(self, status: WorkflowStatus, wf: ir.Workflow) -> float:
        if not status.start_time:
            return math.inf
        deadline = parse_rfc3339(status.start_time) + timedelta(seconds=wf.timeout_seconds)
        return (deadline - self.clock.now()).total_seconds()

    def _observe_before_stopping(self, ctx: EngineContext, engine: Engine) -> EngineResult | None:
        """The freshest step statuses before a stop (the stored ones may lag behind), or None
        when there is no compiled workflow to observe with."""
        if ctx.workflow is None:
            return None
        return engine.reconcile(dataclasses.replace(ctx, stopping=True))

    def _time_out(self, ctx: EngineContext, engine: Engine, wf: ir.Workflow) -> Result | None:
        observed = self._observe_before_stopping(ctx, engine)
        if observed is not None and observed.phase is not WorkflowPhase.RUNNING:
            # It ended on its own before this timer fired: that is its outcome.
            new = self._observed(ctx.status, observed, ctx.wfe)
            return self._cleanup(self._write(ctx.wfe, ctx.status, new, wf), new)
        engine.cancel(ctx)
        message = f"workflow timed out after {wf.timeout_seconds}s"
        current = dataclasses.replace(ctx.status, steps=observed.steps) if observed else ctx.status
        new = _finish(current, WorkflowPhase.FAILED, message, self._now(),
                      running=(StepPhase.CANCELLED, f"cancelled: {message}"),
                      pending=(StepPhase.SKIPPED, NOT_RUN_WORKFLOW_FAILED))
        new.conditions = _outcome(new.conditions, "False", "TimedOut", message, self._now())
        new.failure_details = failure_details(None, StepFailure.of(FailureReason.DEADLINE_EXCEEDED, message))
        wfe = self._write(ctx.wfe, ctx.status, new, wf)
        return self._cleanup(wfe, new)

    # -- failing and cancelling -------------------------------------------------------------------------

    def _spec_error(self, wfe: JsonObject, stored: WorkflowStatus, compiled: Compiled) -> Result | None:
        errors = [d for d in compiled.diagnostics if d.is_error]
        summary = f"the workflow spec is invalid ({len(errors)} error{'s' * (len(errors) != 1)})"
        if stored.engine in self.engines:
            # Edited into something invalid while running: stop what runs.
            self.engines[stored.engine or ""].cancel(self._context(wfe, None, stored))
        now = self._now()
        new = _finish(stored, WorkflowPhase.FAILED, summary, now,
                      running=(StepPhase.CANCELLED, f"cancelled: {summary}"),
                      pending=(StepPhase.SKIPPED, NOT_RUN_WORKFLOW_FAILED))
        new.diagnostics = compiled.headlines()
        new.observed_generation = wfe["metadata"].get("generation")
        first = errors[0].headline() if errors else summary
        new.conditions = set_condition(new.conditions, Condition("Compiled", "False", "SpecInvalid", first, now))
        new.conditions = _outcome(new.conditions, "False", "SpecInvalid", summary, now)
        new.failure_details = failure_details(None, StepFailure.of(FailureReason.SPEC_INVALID, first))
        wfe = self._write(wfe, stored, new, None)
        self.recorder.warning(wfe, "SpecInvalid", "\n".join(new.diagnostics))
        return self._cleanup(wfe, new)

    def _spec_modified(self, wfe: JsonObject, stored: WorkflowStatus) -> Result | None:
        """The spec is not the one the workflow started from (possible only where the CRD's
        immutability rule is not enforced): fail closed. Nothing is compiled from or created for
        the edited spec; what runs is stopped (it runs from its own snapshot, but a workflow whose
        spec someone changed underneath is no longer the one that was approved)."""
        message = ("the spec changed after the workflow started (only spec.cancel may change): nothing is "
                   "run from the edited spec")
        engine = self.engines.get(stored.engine or "")
        if engine is not None:
            engine.cancel(self._context(wfe, None, stored))
        now = self._now()
        new = _finish(stored, WorkflowPhase.FAILED, message, now,
                      running=(StepPhase.CANCELLED, f"cancelled: {message}"),
                      pending=(StepPhase.SKIPPED, NOT_RUN_WORKFLOW_FAILED))
        reason = FailureReason.SPEC_MODIFIED.value
        new.conditions = _outcome(new.conditions, "False", reason, message, now)
        new.failure_details = failure_details(None, StepFailure.of(FailureReason.SPEC_MODIFIED, message))
        wfe = self._write(wfe, stored, new, None)
        self.recorder.warning(wfe, reason, f"{message}; the workflow failed closed")
        return self._cleanup(wfe, new)

    def _trusted_workflow(self, wfe: JsonObject, status: WorkflowStatus) -> ir.Workflow | None:
        """The compiled spec, or None when it is not the spec the workflow started from (then the
        engine stops and cleans up by names and labels, as for a spec that no longer compiles)."""
        if self._modified(wfe, status):
            return None
        return self.compiler.compile(wfe).workflow

    def _cancel(self, wfe: JsonObject, stored: WorkflowStatus) -> Result | None:
        if stored.terminal:
            return self._cleanup(wfe, stored)
        wf = self._trusted_workflow(wfe, stored)
        status = WorkflowStatus.from_json(wfe.get("status"), [s.name for s in wf.steps] if wf else ())
        current = status
        engine = self.engines.get(status.engine or "")
        if engine is not None:
            ctx = self._context(wfe, wf, status)
            observed = self._observe_before_stopping(ctx, engine)
            engine.cancel(ctx)
            if observed is not None:
                current = dataclasses.replace(status, steps=_not_run_because_cancelled(observed.steps))
        deleting = bool(wfe["metadata"].get("deletionTimestamp"))
        why = "the WorkflowExecution is being deleted" if deleting else "spec.cancel is true"
        message = f"cancelled: {why}"
        now = self._now()
        new = _finish(current, WorkflowPhase.CANCELLED, message, now,
                      running=(StepPhase.CANCELLED, "cancelled"), pending=(StepPhase.CANCELLED, NOT_RUN_CANCELLED))
        new.conditions = _outcome(new.conditions, "False", "Cancelled", message, now)
        wfe = self._write(wfe, status, new, wf)
        return self._cleanup(wfe, new)

    def _cleanup(self, wfe: JsonObject, status: WorkflowStatus) -> Result | None:
        """Engine cleanup, then the finalizer goes: its presence means "cleanup pending"."""
        # Finished (or cancelled): no deadline to watch any more.
        self.metrics.workflow_gone(wfe["metadata"].get("namespace") or "", wfe["metadata"]["name"])
        finalizers = list(wfe["metadata"].get("finalizers") or [])
        if FINALIZER not in finalizers:
            return None
        engine = self.engines.get(status.engine or "")
        if engine is not None:
            ctx = self._context(wfe, self._trusted_workflow(wfe, status), status)
            if not engine.cleanup(ctx):
                return Result(requeue_after=_CLEANUP_RETRY_SECONDS)
        # The target's lock goes before the finalizer: while the finalizer is there, a crash
        # leaves this step to be done again; without it, a takeover frees the lock anyway.
        self._release(wfe, status)
        changed = _with_finalizers(wfe, [f for f in finalizers if f != FINALIZER])
        with contextlib.suppress(NotFound):  # gone already: nothing left to release
            self._own.record(self.cluster.update(changed))
        return None

    # -- writing ----------------------------------------------------------------------------------

    def _write(self, wfe: JsonObject, old: WorkflowStatus, new: WorkflowStatus,
               wf: ir.Workflow | None) -> JsonObject:
        """Persist ``new`` if it differs from ``old``, then announce the transitions."""
        # Field by field: the same answer as comparing the JSON (``to_json`` maps every field
        # one to one), without writing out a status that nearly always is unchanged.
        if new == old:
            return wfe
        wfe = self._patch(wfe, new)
        self._announce(wfe, old, new, wf)
        return wfe

    def _patch(self, wfe: JsonObject, status: WorkflowStatus) -> JsonObject:
        meta = wfe["metadata"]
        body = status.to_json()
        body["steps"] = _with_stored_steps(body["steps"], (wfe.get("status") or {}).get("steps"))
        updated = self.cluster.patch_status(WFE_API_VERSION, WFE_KIND, meta["name"], meta.get("namespace"),
                                            body, resource_version=meta.get("resourceVersion"))
        return self._own.record(updated)

    def _announce(self, wfe: JsonObject, old: WorkflowStatus, new: WorkflowStatus, wf: ir.Workflow | None) -> None:
        """Events and metrics for what changed. After the write: a retried reconcile sees no
        transition, so nothing is counted twice."""
        engine = new.engine if new.engine in self.metrics.engines else None
        before = {s.name: s.phase for s in old.steps}
        for step in new.steps:
            prev = before.get(step.name, StepPhase.PENDING)
            if step.phase is prev:
                continue
            # A step's start and success are in the status (and the metrics) only: an Event per
            # step would be writes no one reads (issue 13). Failures and skips explain an outcome.
            if step.phase is StepPhase.FAILED:
                self.recorder.warning(wfe, "StepFailed", f"step '{step.name}' failed: {step.message}")
            elif step.phase is StepPhase.SKIPPED:
                self.recorder.normal(wfe, "StepSkipped", f"step '{step.name}' skipped: {step.message}")
            if engine and step.phase in (StepPhase.SUCCEEDED, StepPhase.FAILED, StepPhase.CANCELLED) \
                    and step.start_time and step.completion_time:
                seconds = _seconds_between(step.start_time, step.completion_time)
                self.metrics.step_finished(engine, _action_type(wf, step.name), step.phase.value, seconds)
        if new.phase is not old.phase and new.terminal:
            kind, reason = _WORKFLOW_EVENTS[new.phase]
            message = new.message or f"workflow {new.phase.value.lower()}"
            self.recorder.event(wfe, "Warning" if kind == "Warning" else "Normal", reason, message)
            if engine:
                duration = (_seconds_between(new.start_time, new.completion_time)
                            if new.start_time and new.completion_time else None)
                self.metrics.workflow_finished(engine, new.phase.value, duration)

    # -- helpers ---------------------------------------------------------------------------------

    def _context(self, wfe: JsonObject, wf: ir.Workflow | None, status: WorkflowStatus) -> EngineContext:
        return EngineContext(self.cluster, self.clock, wfe, wf, status, self.recorder, self.metrics)

    def _now(self) -> str:
        return rfc3339(self.clock.now())

    def _modified(self, wfe: JsonObject, status: WorkflowStatus) -> bool:
        """Whether the spec differs (``cancel`` aside) from the one recorded when the workflow
        started (a workflow started by a version that recorded none is not checked)."""
        return status.spec_hash is not None and status.spec_hash != self.compiler.spec_digest(wfe)


def _outcome(conditions: list[dict[str, object]], state: str, reason: str, message: str,
             now: str) -> list[dict[str, object]]:
    """``Succeeded`` (Tekton's convention) and ``Ready`` (Kubernetes') say the same thing."""
    conditions = set_condition(conditions, Condition("Succeeded", state, reason, message, now))
    return set_condition(conditions, Condition("Ready", state, reason, message, now))


def _not_run_because_cancelled(steps: list[StepStatus]) -> list[StepStatus]:
    """Steps the engine wrote off as "not run: workflow failed" when no step failed: a step was
    Cancelled by an earlier try of this cancel (whose status write failed), so they did not run
    because of the cancel. Pending again, the cancel names them as it does on a first try."""
    if any(s.phase is StepPhase.FAILED for s in steps):
        return steps
    return [StepStatus(s.name) if s.phase is StepPhase.SKIPPED and s.message == NOT_RUN_WORKFLOW_FAILED else s
            for s in steps]


def _finish(status: WorkflowStatus, phase: WorkflowPhase, message: str, now: str, *,
            running: tuple[StepPhase, str], pending: tuple[StepPhase, str]) -> WorkflowStatus:
    """A final status: unfinished steps end as ``running`` / ``pending`` say."""
    steps = []
    for step in status.steps:
        step = dataclasses.replace(step)
        if step.phase is StepPhase.RUNNING:
            step.phase, step.message, step.completion_time = running[0], running[1], now
            step.failure = StepFailure.of(FailureReason.CANCELLED, running[1])
        elif step.phase is StepPhase.PENDING:
            step.phase, step.message = pending
        steps.append(step)
    return dataclasses.replace(status, phase=phase, message=message, completion_time=now, steps=steps,
                               conditions=list(status.conditions))


def _with_finalizers(wfe: JsonObject, finalizers: list[str]) -> JsonObject:
    """``wfe`` with these finalizers, for an update: a new top level and metadata, the rest
    shared with ``wfe`` (a read, read-only snapshot, so never edited in place; copying the whole
    object only to change one list was a deep copy per workflow start and end)."""
    return {**wfe, "metadata": {**wfe["metadata"], "finalizers": finalizers}}


def _with_stored_steps(steps: list[dict[str, Any]], stored: Any) -> list[Any]:
    """``steps`` (a status's step entries about to be written) with each entry that equals the
    stored one of its step, keys in the same order, replaced by that read-only stored entry.

    Most of a patch's steps did not change since the last write, and the API server takes in a
    snapshot read from it without walking it (``frozen_json``), and stores it shared (issue 13):
    the same bytes, less work per status write."""
    if not stored:
        return steps
    by_name = {entry.get("name"): entry for entry in stored if type(entry) is FrozenDict}
    shared: list[Any] = []
    for entry in steps:
        old = by_name.get(entry["name"])
        shared.append(old if old is not None and old == entry and list(old) == list(entry) else entry)
    return shared


def _seconds_between(start: str, end: str) -> float:
    return max(0.0, (parse_rfc3339(end) - parse_rfc3339(start)).total_seconds())


def _action_type(wf: ir.Workflow | None, step: str) -> str:
    if wf is None:
        return "unknown"
    try:
        return wf.step(step).action_type
    except KeyError:
        return "unknown"
