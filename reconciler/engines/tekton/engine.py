"""The V2 engine: the workflow's DAG runs as one Tekton PipelineRun; kubernaut syncs its status.

Per reconcile of a running workflow:

1. **Read the PipelineRun** (named after the workflow). Until it exists: verify every step's
   image (``reconciler.verification``, the policy V1 applies per step; a rejected image fails the
   workflow before anything is created), apply the shared RBAC (in the cluster: check the
   administrator's Roles, ``action_rbac``), the meta-Task and the Pipeline with the diff-based
   loop, then create the PipelineRun once (``objects``); a create the API server refuses fails
   the workflow with its reason, or is retried while a quota is full (``refusals``).
2. **Read its TaskRuns** from ``status.childReferences`` — only those of steps the stored status
   does not already record as finished (a finished TaskRun never changes).
3. **Map** run and TaskRuns to kubernaut's status (``sync``): the same shape and texts as V1.

Everything is derived from the cluster, so a restarted controller continues where the old one
stopped and never creates a second PipelineRun (the name is fixed; "already exists" is success).
Cancelling patches ``spec.status: Cancelled`` — the one spec change Tekton accepts on a started
run — and Tekton cancels the TaskRuns. Cleanup waits for the run to finish; what is left (the
run, its TaskRuns and the workspace PVC of its ``volumeClaimTemplate``) is removed by garbage
collection with the WorkflowExecution.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence

from compiler import ir
from compiler.contracts import ActionContract
from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND
from targets.common.rbac import step_service_account
from targets.release import HELPER_IMAGE, is_placeholder
from targets.tekton import NotExpressibleError, TektonOptions

from ...apply import MANAGED_BY, MANAGED_BY_LABEL
from ...clock import parse_rfc3339, rfc3339
from ...cluster import ApiError, Conflict, JsonObject, NotFound
from ...controller import Key, TransientError, WatchSpec, owner_key
from ...failures import FailureReason, StepFailure
from ...status import NOT_RUN_WORKFLOW_FAILED, StepPhase, StepStatus, WorkflowPhase
from ...supplychain.policy_contracts import ContractProblem, check_inputs, deferred_inputs, parse_contract
from ...verification import ImageContext, ImageVerification, VerificationResult
from ..action_rbac import ActionRbac, borrowed_installed_role, borrowed_permissions, missing_rbac, split_rbac
from ..base import EngineContext, EngineResult, EngineSetup
from ..in_sync import InSync
from ..refusals import foreign_owner, quota_retry_delay, refusal
from ..shared_parts import LastFrozen
from . import vocabulary as t
from .objects import apply_shared, create_pipelinerun, owned_by, workflow_objects
from .signed_inputs import SignedContractConflict, with_signed_inputs
from .sync import CANCELLED_MESSAGE, Observed, completed_tasks, run_finished, step_statuses, workflow_outcome

__all__ = ["ENGINE", "TektonEngine", "build_engine", "taskrun_workflow_key"]

log = logging.getLogger(__name__)

ENGINE = "tekton"  # its entry in reconciler.engines.registry
_FINAL = frozenset({StepPhase.SUCCEEDED, StepPhase.FAILED, StepPhase.CANCELLED})
_CANCEL_TRIES = 3


def taskrun_workflow_key(taskrun: JsonObject) -> list[Key]:
    """The WorkflowExecution a TaskRun reports to (its PipelineRun is named after the workflow),
    for the one change of a TaskRun its PipelineRun's status does not report: a retry (an attempt
    failed, ``retriesStatus`` grew, the TaskRun runs on).

    Tekton writes the run's status when it creates TaskRuns (``childReferences``) and whenever one
    finishes (the "Tasks Completed" count, or the run's end); that write wakes the workflow through
    the PipelineRun's watch, so a step's end and its successors' start become one status write of
    the WorkflowExecution, not two. A TaskRun being created or starting changes nothing kubernaut
    reports (``sync``). If the TaskRuns' cache lags the run, ``_observe`` reads them fresh."""
    status = taskrun.get("status") or {}
    if not status.get("retriesStatus") or run_finished(taskrun):
        return []
    meta = taskrun.get("metadata") or {}
    run = (meta.get("labels") or {}).get(t.LABEL_PIPELINE_RUN)
    return [Key(meta.get("namespace"), run)] if run else []


class TektonEngine:
    """``tekton``: see the module docstring. One instance serves every workflow; it keeps no
    state of a workflow (only which shared objects it last found in sync, by version).

    ``verification`` is the image policy hook, required so that no engine runs images unchecked
    by accident (``ImagePolicy("skip")`` says so explicitly). ``cancel_grace_seconds``: how long
    cleanup waits for Tekton to confirm a cancellation before leaving the run to garbage
    collection (a Tekton controller that is down must not keep a deleted workflow around forever).

    ``helper_image`` runs the meta-Task's helper steps. With ``require_released_helper`` (the
    in-cluster controller) the all-zero placeholder of an unreleased build starts nothing: its
    pods could never pull it. ``kubernaut run`` leaves it off: its simulated TaskRuns pull nothing.
    """

    name = ENGINE

    def __init__(self, verification: ImageVerification, *, cancel_grace_seconds: float = 60.0,
                 helper_image: str = HELPER_IMAGE, require_released_helper: bool = False,
                 action_rbac: ActionRbac = ActionRbac.APPLY) -> None:
        self.verification = verification
        self.action_rbac = action_rbac
        self.cancel_grace_seconds = cancel_grace_seconds
        self.options = TektonOptions(helper_image=helper_image)
        self.require_released_helper = require_released_helper
        self._in_sync = InSync()  # the shared objects last found in sync, by version
        # Per kind, the last Pipeline and PipelineRun written: the next shares their equal parts
        # (a Pipeline's tasks, a run's workspace and pod templates), which the API server then
        # takes in without a walk (shared_parts; Tekton's fields have one type each).
        self._bodies = LastFrozen()
        # Only kubernaut's runs and their TaskRuns (which inherit the run's labels).
        self.watches: Sequence[WatchSpec] = (
            WatchSpec(t.API_VERSION, t.PIPELINE_RUN, owner_key(WFE_KIND, WFE_API_VERSION),
                      label_selector={MANAGED_BY_LABEL: MANAGED_BY}),
            WatchSpec(t.API_VERSION, t.TASK_RUN, taskrun_workflow_key, label_selector={MANAGED_BY_LABEL: MANAGED_BY}),
        )

    @property
    def unavailable(self) -> str | None:
        """Why this engine starts no new workflow, or None. Routing reads it to send a workflow
        that did not ask for tekton to the fallback engine instead (``WorkflowController``)."""
        if self.require_released_helper and is_placeholder(self.options.helper_image):
            return (f"the tekton engine has no helper image: {self.options.helper_image} is the placeholder of an "
                    f"unreleased kubernaut; set the controller's --helper-image (ConfigMap kubernaut-config, key "
                    f"helperImage)")
        return None

    # -- the Engine protocol -----------------------------------------------------------------------

    def reconcile(self, ctx: EngineContext) -> EngineResult:
        wf = ctx.workflow
        if wf is None:
            raise ValueError("the tekton engine needs the compiled workflow to reconcile")
        if not ctx.cluster.has_kind(t.API_VERSION, t.PIPELINE_RUN):
            # Routing never sends a new workflow here without Tekton; this one started on it and
            # stays (status.engine is sticky), so it is reported rather than moved.
            return _failed(wf, "Tekton Pipelines is not installed any more (no tekton.dev CRDs): the workflow "
                               "cannot continue on the tekton engine", ctx.status.steps)
        try:
            pr = self._pipelinerun(ctx)
        except _NameTaken as exc:
            if ctx.stopping:
                return EngineResult(list(ctx.status.steps))
            ctx.recorder.warning(ctx.wfe, FailureReason.NAME_CONFLICT.value, str(exc))
            return _failed_with(wf, str(exc), FailureReason.NAME_CONFLICT, ctx)
        except TransientError:
            if not ctx.stopping:
                raise
            # Stopping must not wait for someone else's run to go: there is nothing of ours to observe.
            return EngineResult(list(ctx.status.steps))
        if pr is None:
            if _started(ctx.status.steps):
                return _failed(wf, f"PipelineRun {ctx.namespace}/{ctx.name} was deleted while the workflow ran",
                               ctx.status.steps)
            if ctx.stopping:
                return EngineResult([StepStatus(s.name) for s in wf.steps])
            started = self._start(ctx, wf)
            if isinstance(started, EngineResult):
                return started
            pr = started
        observed = self._observe(ctx, wf, pr)
        clash = None if ctx.stopping else _foreign_taskrun(ctx, wf, pr, observed)
        if clash is not None:
            # Tekton named a TaskRun of this run like one of another run (its names are
            # ``<run>-<task>``, ambiguous across runs): following it would report someone else's
            # work. The step fails now; cleanup cancels the run.
            step_name, conflict = clash
            ctx.recorder.warning(ctx.wfe, FailureReason.NAME_CONFLICT.value, conflict)
            return _failed_with(wf, conflict, FailureReason.NAME_CONFLICT, ctx, known=ctx.status.steps,
                                failed=step_name)
        steps = step_statuses(wf, observed)
        if not ctx.stopping:
            _cancel_futile_retries(ctx, observed, steps)
        phase, message = workflow_outcome(wf, pr, steps, stopping=ctx.stopping)
        return EngineResult(steps, phase, message)

    def cancel(self, ctx: EngineContext) -> None:
        """``spec.status: Cancelled`` on the run (Tekton then cancels its TaskRuns). Idempotent."""
        if not ctx.cluster.has_kind(t.API_VERSION, t.PIPELINE_RUN):
            return
        for _ in range(_CANCEL_TRIES):
            try:
                pr = ctx.cluster.get(t.API_VERSION, t.PIPELINE_RUN, ctx.name, ctx.namespace)
            except NotFound:
                return
            spec = pr.get("spec") or {}
            if (not owned_by(pr, ctx.uid) or run_finished(pr) or pr["metadata"].get("deletionTimestamp")
                    or spec.get("status") == t.SPEC_CANCELLED):
                return
            try:
                ctx.cluster.update({**pr, "spec": {**spec, "status": t.SPEC_CANCELLED}})  # ``pr`` is read-only
                return
            except Conflict as exc:
                if exc.already_exists:
                    raise
                continue  # Tekton wrote the run meanwhile: read it again
        raise TransientError(f"PipelineRun {ctx.namespace}/{ctx.name} kept changing; cancelling it again later")

    def cleanup(self, ctx: EngineContext) -> bool:
        """Done once the run has finished (or is gone). A run still going after the workflow ended
        is cancelled again; after ``cancel_grace_seconds`` it is left to garbage collection."""
        if not ctx.cluster.has_kind(t.API_VERSION, t.PIPELINE_RUN):
            return True
        try:
            pr = ctx.cluster.get(t.API_VERSION, t.PIPELINE_RUN, ctx.name, ctx.namespace)
        except NotFound:
            return True
        if not owned_by(pr, ctx.uid) or run_finished(pr) or pr["metadata"].get("deletionTimestamp"):
            return True
        self.cancel(ctx)
        ended = ctx.status.completion_time
        if ended and (ctx.clock.now() - parse_rfc3339(ended)).total_seconds() >= self.cancel_grace_seconds:
            log.warning("PipelineRun %s/%s has not confirmed its cancellation within %gs; leaving it to garbage "
                        "collection", ctx.namespace, ctx.name, self.cancel_grace_seconds)
            return True
        return False

    # -- helpers --------------------------------------------------------------------------------------

    def _pipelinerun(self, ctx: EngineContext) -> JsonObject | None:
        """The workflow's run, or None when it does not exist (yet)."""
        try:
            pr = ctx.cluster.get(t.API_VERSION, t.PIPELINE_RUN, ctx.name, ctx.namespace)
        except NotFound:
            return None
        if owned_by(pr, ctx.uid):
            return pr
        if pr["metadata"].get("deletionTimestamp"):
            raise TransientError(f"PipelineRun {ctx.namespace}/{ctx.name} of an earlier workflow of the same name "
                                 "is still being deleted")
        # Someone else's run under our name: creating ours would fail forever, following theirs
        # would report someone else's work.
        foreign = foreign_owner(pr, ctx.uid, WFE_KIND, ctx.name)
        if foreign is not None:
            raise _NameTaken(foreign)
        raise TransientError(f"PipelineRun {ctx.namespace}/{ctx.name} of an earlier workflow of the same name "
                             "is still being deleted")

    def _start(self, ctx: EngineContext, wf: ir.Workflow) -> JsonObject | EngineResult:
        """Verify the images, apply what the run needs, create the run (or find it created)."""
        unavailable = self.unavailable
        if unavailable is not None:
            # Only a workflow that asked for tekton itself gets here (routing sends the others to
            # jobs): failing it says why at once, where pods would sit in ImagePullBackOff.
            ctx.recorder.warning(ctx.wfe, "HelperImageUnset", unavailable)
            return _failed(wf, f"the workflow cannot start on the tekton engine: {unavailable}")
        try:
            objects = workflow_objects(wf, ctx.namespace, ctx.owner_reference(), ctx.uid, self.options)
        except NotExpressibleError as exc:
            return _failed(wf, f"the workflow cannot run on the tekton engine: {exc}")
        verified = self._verify(ctx, wf)
        if isinstance(verified, EngineResult):
            return verified
        try:
            signed_wf = with_signed_inputs(wf, verified)
        except SignedContractConflict as exc:
            return _refused(ctx, wf, wf.steps[0].name, str(exc), FailureReason.INVALID_INPUTS)
        if signed_wf is not wf:
            objects = workflow_objects(signed_wf, ctx.namespace, ctx.owner_reference(), ctx.uid, self.options)
        # The action types' Roles and RoleBindings: the administrator's with ``require`` (checked
        # here, never written), applied with the rest otherwise (reconciler.engines.action_rbac).
        to_apply, required = split_rbac(objects.applied, self.action_rbac)
        lacking = missing_rbac(ctx.cluster, required, ctx.namespace)
        if lacking is not None:
            message, names = lacking
            step = next(s for s in wf.steps if step_service_account(wf, s) in names)
            return _refused(ctx, wf, step.name, message, FailureReason.DEPENDENCY_MISSING)
        to_apply = [self._bodies.freeze(t.PIPELINE, obj) if obj["kind"] == t.PIPELINE else obj for obj in to_apply]
        apply_shared(ctx.cluster, to_apply, wf.name, ctx.namespace, self._in_sync)
        try:
            return create_pipelinerun(ctx.cluster, self._bodies.freeze(t.PIPELINE_RUN, objects.pipelinerun), ctx.uid)
        except ApiError as exc:
            refused = refusal(t.PIPELINE_RUN, f"{ctx.namespace}/{ctx.name}", exc)
            if refused is None:
                raise
            if not refused.retry:
                ctx.recorder.warning(ctx.wfe, FailureReason.FORBIDDEN.value, refused.message)
                return _failed_with(wf, refused.message, FailureReason.FORBIDDEN, ctx)
            # A quota: say so in the status (the steps stay Pending) and try again with backoff.
            started = parse_rfc3339(ctx.status.start_time) if ctx.status.start_time else ctx.clock.now()
            delay = quota_retry_delay((ctx.clock.now() - started).total_seconds())
            message = f"waiting: {refused.message}; retrying in {delay:g}s"
            if ctx.status.message != message:
                ctx.recorder.warning(ctx.wfe, "CreateRetrying", message)
            return EngineResult([StepStatus(s.name) for s in wf.steps], WorkflowPhase.RUNNING, message,
                                requeue_after=delay)

    def _verify(self, ctx: EngineContext, wf: ir.Workflow) -> EngineResult | dict[str, ActionContract]:
        """The image policy for every step before the run exists: once Tekton has the run, pods
        start without asking kubernaut again. A rejected image fails the workflow; a check that
        could not be completed is retried (fail closed: nothing runs meanwhile). The run is built
        from the same compiled workflow, so it runs exactly the references verified here; each
        step's literal inputs are checked against its verified image's own contract (references
        resolve inside the TaskRun, which checks them against the signed contracts returned here:
        ``signed_inputs``)."""
        signed: dict[str, ActionContract] = {}
        for step in wf.steps:
            account = step_service_account(wf, step)
            verdict = self.verification.check(step.image, ImageContext(ctx.namespace, account))
            if verdict.retryable:
                message = f"image verification of {step.image} could not be completed: {verdict.reason}"
                ctx.recorder.warning(ctx.wfe, "ImageVerificationRetrying",
                                     f"{message}; retrying, nothing runs meanwhile")
                raise TransientError(message)
            if verdict.ok and verdict.image != step.image:
                verdict = VerificationResult(False, f"the verifier answered for {verdict.image}, not {step.image}")
            if not verdict.ok:
                return _refused(ctx, wf, step.name, f"image verification failed for {step.image}: {verdict.reason}",
                                FailureReason.SIGNATURE_VERIFICATION_FAILED)
            for warning in verdict.warnings:
                ctx.recorder.warning(ctx.wfe, "ImagePolicyWarning", f"{step.image}: {warning}")
            contract, problems = _contract_problems(step, verdict)
            borrowed = borrowed_permissions(wf, step, contract) or borrowed_installed_role(
                ctx.cluster, ctx.namespace, step.name, step.image, step.action_type, account, contract)
            if borrowed is not None:
                return _refused(ctx, wf, step.name, borrowed, FailureReason.PERMISSIONS_NOT_DECLARED)
            if problems:
                return _refused(ctx, wf, step.name, f"the inputs of step '{step.name}' do not fit the contract of "
                                f"{step.image}: " + "; ".join(problems), FailureReason.INVALID_INPUTS)
            if contract is not None:
                signed[step.name] = contract
        return signed

    def _observe(self, ctx: EngineContext, wf: ir.Workflow, pr: JsonObject) -> Observed:
        finished = {s.name: s for s in ctx.status.steps if s.phase in _FINAL and s.attempts > 0}
        names = {str(ref.get("pipelineTaskName")): str(ref.get("name"))
                 for ref in (pr.get("status") or {}).get("childReferences") or [] if ref.get("kind") == t.TASK_RUN}
        taskruns: dict[str, JsonObject] = {}
        read_fresh: set[str] = set()
        for step in wf.steps:
            name = names.get(step.name)
            if name is None or step.name in finished:
                continue
            taskrun, fresh = _read_taskrun(ctx, name)
            if fresh:
                read_fresh.add(step.name)
            if taskrun is not None and owned_by(taskrun, pr["metadata"]["uid"]):
                taskruns[step.name] = taskrun
        known = {n: s for n, s in finished.items() if n in names}
        if _cache_lags(pr, taskruns, known):
            for step_name, taskrun in list(taskruns.items()):
                if not run_finished(taskrun) and step_name not in read_fresh:
                    again, _ = _read_taskrun(ctx, names[step_name], fresh=True)
                    if again is not None and owned_by(again, pr["metadata"]["uid"]):
                        taskruns[step_name] = again
        return Observed(pr, taskruns, known)


def build_engine(setup: EngineSetup) -> TektonEngine:
    """The registry's builder (``reconciler.engines.registry``)."""
    return TektonEngine(setup.verification, helper_image=setup.helper_image or HELPER_IMAGE,
                        require_released_helper=setup.require_released_helper, action_rbac=setup.action_rbac)


def _read_taskrun(ctx: EngineContext, name: str, *, fresh: bool = False) -> tuple[JsonObject | None, bool]:
    """A TaskRun the run lists, from the cache; from the API server when ``fresh`` or when the
    cache has not seen it yet (its informer lags the run's). Also says whether the API server
    answered. None: gone (Tekton re-creates a TaskRun its run lists but cannot find)."""
    if not fresh:
        with contextlib.suppress(NotFound):
            return ctx.cluster.get(t.API_VERSION, t.TASK_RUN, name, ctx.namespace), False
    read_fresh = getattr(ctx.cluster, "get_fresh", ctx.cluster.get)
    try:
        return read_fresh(t.API_VERSION, t.TASK_RUN, name, ctx.namespace), True
    except NotFound:
        return None, True


def _cache_lags(pr: JsonObject, taskruns: Mapping[str, JsonObject], known: Mapping[str, StepStatus]) -> bool:
    """The run has seen more TaskRuns finish than the cached ones show: informers of different
    kinds are fed by different watches, and a finished TaskRun wakes the workflow only through its
    run's status (``taskrun_workflow_key``), so its own news must not be missed here. Tekton
    finishes a run only after its TaskRuns, so any still running then lags too (it would read as
    cancelled). A run whose message does not count its tasks is not trusted either."""
    running = sum(1 for taskrun in taskruns.values() if not run_finished(taskrun))
    if not running:
        return False
    if run_finished(pr):
        return True
    completed = completed_tasks(pr)
    seen = len(known) + len(taskruns) - running
    return completed is None or seen < completed


def _contract_problems(step: ir.Step, verdict: VerificationResult) -> tuple[ActionContract | None, list[str]]:
    """The verified image's contract (None: the image carries none) and what is wrong with the
    step's literal inputs under it."""
    if verdict.contract is None:
        return None, []
    try:
        contract = parse_contract(verdict.contract)
    except ContractProblem as exc:
        return None, [str(exc)]
    return contract, check_inputs(contract, step.action_type, step.inputs, deferred_inputs(step.inputs))


def _refused(ctx: EngineContext, wf: ir.Workflow, refused: str, message: str, reason: FailureReason) -> EngineResult:
    """A step refused before the run exists: it failed, the others never run; one Event."""
    ctx.recorder.warning(ctx.wfe, reason.value, message)
    now = rfc3339(ctx.clock.now())
    failure = StepFailure.of(reason, message)
    steps = [StepStatus(s.name, StepPhase.FAILED, 0, now, now, None, message, failure) if s.name == refused
             else StepStatus(s.name, StepPhase.SKIPPED, message=NOT_RUN_WORKFLOW_FAILED) for s in wf.steps]
    return EngineResult(steps, WorkflowPhase.FAILED, message)


class _NameTaken(Exception):
    """The run's name is taken by an object that is not this workflow's and will not go away."""


def _failed_with(wf: ir.Workflow, message: str, reason: FailureReason, ctx: EngineContext, *,
                 known: Sequence[StepStatus] = (), failed: str | None = None) -> EngineResult:
    """Step ``failed`` (default: the first, when the run itself could not be created) fails with
    ``reason``; finished steps stay as ``known`` records them, running ones are cancelled with
    the run, the others never run — as V1 reports a step whose Job was refused."""
    base = _failed(wf, message, known)
    now = rfc3339(ctx.clock.now())
    failure = StepFailure.of(reason, message)
    culprit = failed or wf.steps[0].name
    steps = [StepStatus(s.name, StepPhase.FAILED, s.attempts, s.start_time or now, now, None, message, failure)
             if s.name == culprit else s for s in base.steps]
    return EngineResult(steps, WorkflowPhase.FAILED, message)


def _foreign_taskrun(ctx: EngineContext, wf: ir.Workflow, pr: JsonObject, observed: Observed) -> tuple[str, str] | None:
    """(step, reason) when the run lists, for an unfinished step, a TaskRun that belongs to
    someone else (and is not merely an earlier run's of the same name, about to go)."""
    refs = [ref for ref in (pr.get("status") or {}).get("childReferences") or [] if ref.get("kind") == t.TASK_RUN]
    for ref in refs:
        step = str(ref.get("pipelineTaskName"))
        if step in observed.taskruns or step in observed.finished or step not in {s.name for s in wf.steps}:
            continue
        try:
            taskrun = ctx.cluster.get(t.API_VERSION, t.TASK_RUN, str(ref.get("name")), ctx.namespace)
        except NotFound:
            continue
        foreign = foreign_owner(taskrun, pr["metadata"].get("uid") or "", t.PIPELINE_RUN, pr["metadata"]["name"])
        if foreign is not None:
            return step, foreign
    return None


def _started(steps: Sequence[StepStatus]) -> bool:
    return any(s.phase is not StepPhase.PENDING or s.attempts > 0 for s in steps)


def _failed(wf: ir.Workflow, message: str, known: Sequence[StepStatus] = ()) -> EngineResult:
    """The workflow cannot run (on): finished steps stay as recorded, a running one was stopped
    with its run, the others are written off as V1 writes them."""
    recorded = {s.name: s for s in known}
    steps = []
    for step in wf.steps:
        status = recorded.get(step.name)
        if status is not None and status.terminal:
            steps.append(status)
        elif status is not None and status.phase is StepPhase.RUNNING:
            steps.append(StepStatus(step.name, StepPhase.CANCELLED, status.attempts, status.start_time, None, None,
                                    CANCELLED_MESSAGE))
        else:
            steps.append(StepStatus(step.name, StepPhase.SKIPPED, message=NOT_RUN_WORKFLOW_FAILED))
    return EngineResult(steps, WorkflowPhase.FAILED, message)


def _cancel_futile_retries(ctx: EngineContext, observed: Observed, steps: Sequence[StepStatus]) -> None:
    """Tekton retries every failed TaskRun; kubernaut's contracts may say an exit code is not worth
    it. A step reported Failed (``sync``: a non-retryable exit code) whose TaskRun still runs is
    such a retry: cancel it (V1's podFailurePolicy never starts it; docs/engines.md)."""
    for step in steps:
        taskrun = observed.taskruns.get(step.name)
        if step.phase is not StepPhase.FAILED or taskrun is None or run_finished(taskrun):
            continue
        if (taskrun.get("spec") or {}).get("status") == t.TR_SPEC_CANCELLED:
            continue
        spec = {**(taskrun.get("spec") or {}), "status": t.TR_SPEC_CANCELLED,
                "statusMessage": "kubernaut: an attempt failed with a non-retryable exit code"}
        # A conflict (Tekton wrote it meanwhile) is retried by the next reconcile.
        with contextlib.suppress(NotFound, Conflict):
            ctx.cluster.update({**taskrun, "spec": spec})
