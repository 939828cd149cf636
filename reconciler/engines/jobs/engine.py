"""The V1 engine: kubernaut drives the DAG itself with ActionExecutions and native Jobs.

Per reconcile of a running workflow:

1. **Observe**: the statuses the WorkflowExecution already records as final are facts (an
   ActionExecution never leaves a final phase); for the steps recorded as running, their
   ActionExecution is read by its deterministic name.
2. **Decide** with the pure :func:`~reconciler.engines.jobs.scheduler.schedule`.
3. **Act**: before the first step starts, the shared RBAC and the workspace PVC (owned by the
   WorkflowExecution, so garbage collection removes it if the workflow is deleted) are applied
   with the generic diff-based loop (``reconciler.apply``) — in the cluster, the action types'
   Roles and RoleBindings are the administrator's and only checked (``action_rbac``); then one
   ActionExecution per step to start, owned by the WorkflowExecution, with
   ``spec.resolvedInputs`` resolved at this moment, ``spec.requiredOutputs``, the output keys
   later steps read (``ir.Workflow.consumed_outputs``), and ``spec.jobTemplate``, the step's
   compiled plan (``targets.jobs.job_template``) every attempt's Job is built from.
   "Already exists" is success: the name is deterministic, and the existing object is read and
   scheduling runs again with what it says.

Whatever a crash loses between two writes is re-derived from the cluster by the next reconcile:
a WorkflowExecution status that lags behind its ActionExecutions only makes the engine read a
little more. The ActionExecution controller (``actionexecution_controller``) runs the attempts.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from collections.abc import Sequence
from typing import Any

from compiler import ir
from targets.common.rbac import step_service_account
from targets.jobs import action_execution, job_template, rbac_for, workspace_claim

from ...apply import execute
from ...clock import rfc3339
from ...cluster import Conflict, JsonObject, NotFound
from ...controller import Key, WatchSpec, owner_key
from ...failures import FailureReason, StepFailure
from ...status import StepPhase, StepStatus, WorkflowPhase
from ..action_rbac import ActionRbac, missing_rbac, split_rbac
from ..base import EngineContext, EngineResult, EngineSetup
from ..in_sync import InSync
from ..refusals import foreign_owner
from ..shared_parts import LastFrozen
from .actionexecution_controller import ENGINE
from .lookup import job_or_none
from .names import (
    AE_API_VERSION,
    AE_KIND,
    MANAGED_BY_SELECTOR,
    WFE_API_VERSION,
    WFE_KIND,
    WORKFLOW_LABEL,
    action_execution_name,
    job_name,
    workspace_claim_name,
)
from .scheduler import Identity, Schedule, schedule

__all__ = ["JobsEngine", "step_status_from_action_execution"]

_FINAL = frozenset({StepPhase.SUCCEEDED, StepPhase.FAILED, StepPhase.CANCELLED})
_STOPPED = frozenset({StepPhase.FAILED, StepPhase.CANCELLED})
_FINAL_VALUES = frozenset(p.value for p in _FINAL)  # as an ActionExecution's status.phase says them


_owner = owner_key(WFE_KIND, WFE_API_VERSION)


def _reported_owner(ae: JsonObject) -> list[Key]:
    """The owning workflow of an ActionExecution that has something to report: one without a
    status was just created by the workflow's own reconcile, which already counts it Running."""
    return list(_owner(ae)) if ae.get("status") else []


def step_status_from_action_execution(ae: JsonObject) -> StepStatus:
    """A started step as its ActionExecution reports it (Running until it is final)."""
    status = ae.get("status") or {}
    raw = status.get("phase")
    phase = StepPhase(raw) if raw in _FINAL_VALUES else StepPhase.RUNNING
    final = phase in _FINAL
    recorded = int(status.get("attempts") or 0)
    return StepStatus(
        name=str((ae.get("spec") or {}).get("step")),
        phase=phase,
        # The ActionExecution records attempts as they end (one write per outcome): a step still
        # running counts the attempt in progress, or the retry it waits for.
        attempts=recorded if final else recorded + 1,
        # The step started when its ActionExecution was created (the scheduler's decision).
        start_time=ae["metadata"].get("creationTimestamp"),
        completion_time=status.get("completionTime") if final else None,
        outputs=_outputs(status) if phase is StepPhase.SUCCEEDED else None,
        message=status.get("message"),
        # Only a finished step says why it failed (a retrying one shows the last message only).
        failure=StepFailure.from_json(status.get("failure")) if phase in _STOPPED else None,
    )


class JobsEngine:
    """``jobs``: see the module docstring. One instance serves every workflow; it keeps no state
    of a workflow (only which shared objects it last found in sync, by version)."""

    name = ENGINE

    def __init__(self, action_rbac: ActionRbac = ActionRbac.APPLY) -> None:
        self.action_rbac = action_rbac
        self._in_sync = InSync()  # the shared objects last found in sync, by version
        # Per action type, the last step plan written: the next shares its equal parts (the
        # security contexts, failure policy, script, mounts), which the API server then takes in
        # without a walk (shared_parts; a Job spec's fields have one type each, so equal is same).
        self._plans = LastFrozen()
        self.watches: Sequence[WatchSpec] = (
            WatchSpec(AE_API_VERSION, AE_KIND, _reported_owner, label_selector=MANAGED_BY_SELECTOR),
        )

    # -- the Engine protocol -----------------------------------------------------------------------

    def reconcile(self, ctx: EngineContext) -> EngineResult:
        wf = ctx.workflow
        if wf is None:
            raise ValueError("the jobs engine needs the compiled workflow to reconcile")
        identity = Identity(ctx.name, ctx.namespace, ctx.uid)
        known: dict[str, StepStatus] = {}
        probed: set[str] = set()
        for step in ctx.status.steps:
            if step.terminal:
                known[step.name] = step
            elif step.phase is StepPhase.RUNNING:
                self._probe(ctx, step.name, known, probed)
        prepared = False
        for _ in range(len(wf.steps) + 1):  # every pass settles at least one step
            decided = schedule(wf, known, identity)
            # A step about to be written off as "not run" may have been started by a reconcile
            # whose status write was lost: look before deciding so.
            unseen = [name for name in decided.not_run if name not in probed]
            if unseen:
                found = [self._probe(ctx, name, known, probed) for name in unseen]
                if any(found):
                    continue
                decided = schedule(wf, known, identity)
            if not decided.start:
                return _result(decided)
            if ctx.stopping:  # observe only: what would start now stays pending
                return _result(_without_starts(decided))
            if not prepared and not _started_any(known):
                prepared = True
                refused = self._apply_base_objects(ctx, wf)
                if refused is not None:
                    known[refused.name] = refused
                    continue  # the failure stops the workflow: nothing starts
            for start in decided.start:
                known[start.step] = self._start(ctx, wf, wf.step(start.step), start.inputs)
            if all(known[start.step].phase is StepPhase.RUNNING for start in decided.start):
                # All of them run: another pass would decide the same for every other step (a
                # running step settles nothing for its dependents) and is skipped.
                return _result(_with_started(decided, known))
        raise RuntimeError(f"scheduling workflow '{wf.name}' did not settle")  # a scheduler bug

    def cancel(self, ctx: EngineContext) -> None:
        """Ask every unfinished ActionExecution to stop (``spec.cancel``). Its controller records
        the attempt in progress as Cancelled, then deletes its Job: deleted here first, the Job
        could no longer tell which attempt had started (nothing else records it, issue 13)."""
        items = ctx.cluster.list(AE_API_VERSION, AE_KIND, ctx.namespace,
                                 {**MANAGED_BY_SELECTOR, WORKFLOW_LABEL: ctx.name}).items
        for ae in items:
            if not _owned_by(ae, ctx.uid):
                continue
            status = ae.get("status") or {}
            if status.get("phase") in {p.value for p in _FINAL} or ae["metadata"].get("deletionTimestamp"):
                continue
            if not (ae.get("spec") or {}).get("cancel"):
                ctx.cluster.update({**ae, "spec": {**ae["spec"], "cancel": True}})  # ``ae`` is read-only

    def cleanup(self, ctx: EngineContext) -> bool:
        """Once no Job of the workflow runs any more (a cancelled step's Job is stopped by its
        ActionExecution controller, after it recorded the attempt), delete the workspace PVC
        (once: a claim already being deleted is left alone). False: not yet, look again."""
        if _running_jobs(ctx):
            return False
        if ctx.workflow is not None and ctx.workflow.workspace is None:
            return True
        name = workspace_claim_name(ctx.name)
        try:
            claim = ctx.cluster.get("v1", "PersistentVolumeClaim", name, ctx.namespace)
        except NotFound:
            return True
        if claim["metadata"].get("deletionTimestamp") or not _owned_by(claim, ctx.uid):
            return True  # going already, or not ours (a previous workflow of the same name)
        with contextlib.suppress(NotFound):
            ctx.cluster.delete("v1", "PersistentVolumeClaim", name, ctx.namespace)
        return True

    # -- helpers --------------------------------------------------------------------------------

    def _probe(self, ctx: EngineContext, step: str, known: dict[str, StepStatus], probed: set[str]) -> bool:
        """Read the step's ActionExecution into ``known``; False when it does not exist."""
        probed.add(step)
        try:
            ae = ctx.cluster.get(AE_API_VERSION, AE_KIND, action_execution_name(ctx.name, step), ctx.namespace)
        except NotFound:
            known.pop(step, None)
            return False
        if not _owned_by(ae, ctx.uid):
            # Left over from an earlier workflow of the same name (being garbage collected).
            known.pop(step, None)
            return False
        known[step] = step_status_from_action_execution(ae)
        return True

    def _apply_base_objects(self, ctx: EngineContext, wf: ir.Workflow) -> StepStatus | None:
        """RBAC (shared per action type, never pruned) and the workspace PVC (owned by the workflow).
        With ``action_rbac`` ``require`` the Roles and RoleBindings are the administrator's: they
        are checked, never written, and the first step lacking them fails (``DependencyMissing``).

        Observed by name rather than by listing: the names are deterministic, and a get is O(1)
        where a labelled list reads every object of the kind."""
        desired, required = split_rbac(rbac_for(wf), self.action_rbac)
        lacking = missing_rbac(ctx.cluster, required, ctx.namespace)
        if lacking is not None:
            message, names = lacking
            step = next(s for s in wf.steps if step_service_account(wf, s) in names)
            ctx.recorder.warning(ctx.wfe, FailureReason.DEPENDENCY_MISSING.value, message)
            now = rfc3339(ctx.clock.now())
            return StepStatus(step.name, StepPhase.FAILED, 0, now, now, None, message,
                              StepFailure.of(FailureReason.DEPENDENCY_MISSING, message))
        claim = workspace_claim(wf)
        if claim is not None:
            claim["metadata"]["ownerReferences"] = [ctx.owner_reference()]
            desired.append(claim)
        for obj in desired:
            # The workflow's namespace, whatever the spec says: nothing is written anywhere else.
            obj["metadata"]["namespace"] = ctx.namespace
        observed = []
        for obj in desired:
            with contextlib.suppress(NotFound):
                observed.append(ctx.cluster.get(obj["apiVersion"], obj["kind"], obj["metadata"]["name"],
                                                ctx.namespace))
        # Someone else's claim under the workspace's name is never taken over (applying would
        # rewrite it and add this workflow as its owner): the first step using it fails instead.
        for live in observed:
            foreign = foreign_owner(live, ctx.uid, WFE_KIND, ctx.name) if live.get("kind") == "PersistentVolumeClaim" \
                else None
            if foreign is not None:
                step = next((s for s in wf.steps if s.uses_workspace), wf.steps[0])
                ctx.recorder.warning(ctx.wfe, FailureReason.NAME_CONFLICT.value, foreign)
                now = rfc3339(ctx.clock.now())
                return StepStatus(step.name, StepPhase.FAILED, 0, now, now, None, foreign,
                                  StepFailure.of(FailureReason.NAME_CONFLICT, foreign))
        the_plan = self._in_sync.plan(desired, observed,
                                      owned_selector={**MANAGED_BY_SELECTOR, WORKFLOW_LABEL: wf.name},
                                      default_namespace=ctx.namespace)
        execute(ctx.cluster, the_plan)
        return None

    def _start(self, ctx: EngineContext, wf: ir.Workflow, step: ir.Step, inputs: dict[str, Any]) -> StepStatus:
        ae = action_execution(wf, step)
        ae["metadata"]["namespace"] = ctx.namespace
        ae["metadata"]["ownerReferences"] = [ctx.owner_reference()]
        ae["spec"]["resolvedInputs"] = inputs
        # The step's plan, compiled once here: the ActionExecution controller builds every
        # attempt's Job from this snapshot alone, never from the workflow (read again or edited).
        ae["spec"]["jobTemplate"] = self._plans.freeze(step.action_type, job_template(wf, step, inputs))
        # The output keys later steps read: the ActionExecution controller fails an attempt whose
        # outputs lack one. Kept in the record itself, so it decides without the workflow.
        required = wf.consumed_outputs(step.name)
        if required:
            ae["spec"]["requiredOutputs"] = list(required)
        try:
            created = ctx.cluster.create(ae)
        except Conflict as exc:
            if not exc.already_exists:
                raise
            # Started before (a lost answer, or a status write that never happened): read it.
            created = ctx.cluster.get(AE_API_VERSION, AE_KIND, ae["metadata"]["name"], ctx.namespace)
            foreign = foreign_owner(created, ctx.uid, WFE_KIND, ctx.name)
            if foreign is not None:
                # Another workflow's step (or an object made by hand) has this name: following it
                # would report someone else's work, waiting would never end. Fail the step now.
                ctx.recorder.warning(ctx.wfe, FailureReason.NAME_CONFLICT.value, foreign)
                now = rfc3339(ctx.clock.now())
                return StepStatus(step.name, StepPhase.FAILED, 0, now, now, None, foreign,
                                  StepFailure.of(FailureReason.NAME_CONFLICT, foreign))
            if not _owned_by(created, ctx.uid):
                raise Conflict(f"ActionExecution {ae['metadata']['name']} belongs to an earlier workflow of the "
                               "same name and is still being deleted") from None
        return step_status_from_action_execution(created)


def _running_jobs(ctx: EngineContext) -> list[str]:
    """What still runs of the workflow's cancelled steps (none ran on after any other ending):
    a step whose ActionExecution has not recorded the cancellation yet, or the Job of its last
    attempt (or of the one after, which the cache may not have shown) until it is stopped. By
    name, from the caches: no list, nothing for a workflow that ended otherwise."""
    running = []
    for step in ctx.status.steps:
        if step.phase is not StepPhase.CANCELLED:
            continue
        name = action_execution_name(ctx.name, step.name)
        try:
            ae = ctx.cluster.get(AE_API_VERSION, AE_KIND, name, ctx.namespace)
        except NotFound:
            continue
        if not _owned_by(ae, ctx.uid) or ae["metadata"].get("deletionTimestamp"):
            continue
        status = ae.get("status") or {}
        if status.get("phase") not in _FINAL_VALUES:
            running.append(name)
            continue
        attempts = int(status.get("attempts") or 0)
        for attempt in (attempts, attempts + 1) if attempts else (1,):
            job = job_or_none(ctx.cluster, job_name(name, attempt), ctx.namespace)
            if job is None or not _owned_by(job, str(ae["metadata"].get("uid"))):
                continue
            conditions = (job.get("status") or {}).get("conditions") or []
            finished = any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True" for c in conditions)
            if not finished and not job["metadata"].get("deletionTimestamp"):
                running.append(job["metadata"]["name"])
    return running


def _outputs(status: JsonObject) -> dict[str, Any]:
    """The outputs of a succeeded ActionExecution: from its last attempt's history entry, which
    keeps null values that the merge-patched ``status.outputs`` loses."""
    history = status.get("attemptHistory") or []
    if history and isinstance(history[-1].get("outputs"), dict):
        return copy.deepcopy(history[-1]["outputs"])
    return copy.deepcopy(status.get("outputs") or {})


def _without_starts(decided: Schedule) -> Schedule:
    starting = {start.step for start in decided.start}
    steps = tuple(dataclasses.replace(s, phase=StepPhase.PENDING) if s.name in starting else s
                  for s in decided.steps)
    return dataclasses.replace(decided, steps=steps, start=(), phase=WorkflowPhase.RUNNING)


def _with_started(decided: Schedule, known: dict[str, StepStatus]) -> Schedule:
    """``decided`` once its starts run: the schedule the next pass would make (see reconcile)."""
    starting = {start.step for start in decided.start}
    steps = tuple(known[s.name].copy() if s.name in starting else s for s in decided.steps)
    return dataclasses.replace(decided, steps=steps, start=(), phase=WorkflowPhase.RUNNING, message=None)


def _result(decided: Schedule) -> EngineResult:
    return EngineResult(list(decided.steps), decided.phase, decided.message)


def _started_any(known: dict[str, StepStatus]) -> bool:
    return any(s.phase is StepPhase.RUNNING or s.attempts > 0 or s.phase is StepPhase.SUCCEEDED
               for s in known.values())


def _owned_by(obj: JsonObject, uid: str) -> bool:
    refs = obj["metadata"].get("ownerReferences") or []
    return not uid or any(ref.get("uid") == uid for ref in refs)


def build_engine(setup: EngineSetup) -> JobsEngine:
    """The registry's builder (``reconciler.engines.registry``)."""
    return JobsEngine(action_rbac=setup.action_rbac)
