"""A simulated Tekton PipelineRun controller for ``MemoryCluster``.

``PipelineRunSimulator`` is a level-triggered controller over PipelineRuns (woken by their
TaskRuns too). Each reconcile rebuilds everything from the cluster, as Tekton's does:

1. a new run gets ``startTime`` and the ``tekton.dev/pipeline`` label; ``spec.status: Cancelled``
   cancels its TaskRuns and ends it (``Cancelled``);
2. the Pipeline is read once and kept in ``status.pipelineSpec`` (the source of truth from then
   on; missing: ``CouldntGetPipeline``), its graph checked (``PipelineInvalidGraph``), params and
   workspaces bound (``ParameterMissing``, ``InvalidWorkspaceBindings``), every task's Task
   resolved (``CouldntGetTask``), params then context variables substituted;
3. :class:`~.facts.PipelineFacts` decides what is ready, skipped and done; ready tasks get a
   TaskRun (``kmeta.ChildName(run, "-" + task)``), the first of them after the workspace PVCs;
4. the pipeline timeout (``spec.timeouts.pipeline``, default 1h, ``0s`` none) cancels running
   TaskRuns and ends the run with ``PipelineRunTimeout``;
5. ``status`` gets the ``Succeeded`` condition, ``childReferences``, ``skippedTasks`` and, once
   finished, ``completionTime``. It is written only when it changed.

Not simulated: admission webhooks (an invalid Pipeline is not refused at create time), remote
resolution, custom tasks, matrix, ``finally`` tasks (kubernaut emits none), affinity assistants,
pipeline results, Events and metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...clock import Clock, parse_rfc3339, rfc3339
from ...cluster import Cluster, Conflict, JsonObject, NotFound
from ...cluster.snapshots import freeze
from ...controller import Controller, Key, Result, WatchSpec, object_key, owner_key
from ..informer_reads import InformerReads
from ..own_writes import same_but_status
from . import conditions as c
from .children import pvc_for, task_run, taskrun_name, taskrun_names
from .dag import Graph, GraphError, build_graph
from .facts import PipelineFacts
from .params import (
    ParamError,
    Replacements,
    ResultRef,
    apply_to_param_values,
    apply_to_when,
    param_values,
    result_refs,
    task_texts,
)

__all__ = ["PipelineRunSimulator"]

log = logging.getLogger(__name__)

_EPSILON = 1e-6  # timers computed in floating point may fire a hair early


@dataclass(frozen=True)
class _Failure:
    reason: str
    message: str


@dataclass(frozen=True)
class _Prepared:
    spec: JsonObject  # the Pipeline spec as stored in status.pipelineSpec
    tasks: list[JsonObject]  # its tasks with params and context substituted (read-only)
    graph: Graph
    refs: Mapping[str, Sequence[ResultRef]]  # the result references of each task


@dataclass(frozen=True)
class _PreparedFor:
    """A run's prepared Pipeline and what it was prepared from (its uid, ``spec`` and
    ``status.pipelineSpec``): still valid while those are equal."""

    uid: str
    run_spec: Mapping[str, Any]
    pipeline_spec: Mapping[str, Any]
    prepared: _Prepared

    def matches(self, uid: str, run_spec: Mapping[str, Any], pipeline_spec: Mapping[str, Any]) -> bool:
        # Read-only snapshots: the same object is the same content (the cheap check first).
        return (uid == self.uid and (run_spec is self.run_spec or run_spec == self.run_spec)
                and (pipeline_spec is self.pipeline_spec or pipeline_spec == self.pipeline_spec))


#: What a run's reconcile reads of one task's TaskRun (None: no TaskRun of the run): its name,
#: ``spec``, the ``Succeeded`` state when finished (and reason when failed: cancelled or not)
#: and ``results``. Labels, start time, steps and the rest of ``status`` never change a decision.
_TaskRunInputs = tuple[str, Any, Any, Any, Any] | None


@dataclass(frozen=True)
class _Decided:
    """The state one reconcile of a run left behind, with nothing more to do in it: the run's
    version (uid, resourceVersion: a version's content never changes), what it knew of each
    TaskRun, whether the pipeline timeout had passed; and whether the run was still going."""

    run: tuple[str, str]
    taskruns: tuple[_TaskRunInputs, ...]
    timed_out: bool
    unfinished: bool


def _taskrun_inputs(taskrun: Mapping[str, Any] | None) -> _TaskRunInputs:
    if taskrun is None:
        return None
    failed = c.run_failed(taskrun)
    finished = "False" if failed else "True" if c.run_succeeded(taskrun) else None
    reason = c.condition_reason(taskrun) if failed else None
    return (taskrun["metadata"]["name"], taskrun.get("spec"), finished, reason,
            (taskrun.get("status") or {}).get("results"))


def _version(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj["metadata"]
    return str(meta.get("uid")), str(meta.get("resourceVersion"))


class PipelineRunSimulator:
    """The simulated PipelineRun reconciler. Add :meth:`controller` to a ``Manager``."""

    def __init__(self, cluster: Cluster, clock: Clock, *, name: str = "tekton-pipelinerun-simulator",
                 reads: InformerReads | None = None) -> None:
        """``reads``: the informers of Tekton's controller process (shared with the TaskRun
        simulator; by default its own)."""
        self.cluster = cluster
        self.clock = clock
        self.name = name
        self._reads = reads or InformerReads(cluster, clock, c.INFORMER_KINDS)
        self._api = self._reads.api  # writes: their answers go into the informers
        # Each running PipelineRun's prepared Pipeline by (namespace, name). A run is reconciled
        # on every change of it and of its TaskRuns, and preparing (graph, params, context
        # substitution) was a fifth of each reconcile; from its second reconcile on a run's
        # Pipeline comes from its own status.pipelineSpec, so the result is reused while that
        # and the run's spec are equal (content, not version: status writes do not invalidate).
        self._prepared: dict[tuple[str, str], _PreparedFor] = {}
        # The state each running PipelineRun's last reconcile left behind, by (namespace, name).
        # A run is woken by every write to its TaskRuns (a TaskRun is relabelled, started, then
        # finished) and by its own writes, most of which change nothing it decides from. A
        # reconcile that finds the run at the version the last one wrote (or read, writing
        # nothing) and its TaskRuns as it left them would decide the same and write nothing:
        # it ends early, before the DAG is walked again.
        self._decided: dict[tuple[str, str], _Decided] = {}
        self._owner = owner_key("PipelineRun", c.API_VERSION)

    def controller(self, workers: int = 1) -> Controller:
        return Controller(
            self.name,
            self.reconcile,
            [WatchSpec(c.API_VERSION, "PipelineRun", self._changed_run),
             WatchSpec(c.API_VERSION, "TaskRun", self._run_of_changed_taskrun)],
            workers=workers,
            informers=self._reads.informers,
        )

    def _changed_run(self, pr: JsonObject) -> list[Key]:
        """The run itself, unless this is the version its last reconcile wrote (or read and
        left): that reconcile would end early anyway (see ``reconcile``), so it is not queued.
        A deleted run (no longer the informer's) is always queued."""
        keys = object_key(pr)
        meta = pr["metadata"]
        decided = self._decided.get((meta.get("namespace") or "default", meta["name"]))
        if decided is None or decided.run != _version(pr):
            return keys
        if self._reads.peek(c.API_VERSION, "PipelineRun", meta["name"], meta["namespace"]) is not pr:
            return keys
        return []

    def _run_of_changed_taskrun(self, taskrun: JsonObject) -> list[Key]:
        """The run a TaskRun event wakes: its owner, unless the run's last reconcile left this
        TaskRun as it is now in everything it decides from (a relabel, a start, a resync): that
        reconcile would end early anyway (see ``reconcile``), so it is not queued at all. A
        deleted TaskRun (no longer the informer's) always wakes its run."""
        keys = list(self._owner(taskrun))
        if len(keys) != 1:
            return keys
        decided = self._decided.get((keys[0].namespace or "default", keys[0].name))
        if decided is None:
            return keys
        meta = taskrun["metadata"]
        if self._reads.peek(c.API_VERSION, "TaskRun", meta["name"], meta["namespace"]) is not taskrun:
            return keys
        return [] if _taskrun_inputs(taskrun) in decided.taskruns else keys

    # -- reconcile ------------------------------------------------------------------------------------

    def reconcile(self, key: Key) -> Result | None:
        # Read-only snapshots (never mutated here): every change is built as a new dict.
        pr = self._reads.peek(c.API_VERSION, "PipelineRun", key.name, key.namespace or "default")
        if pr is None or pr["metadata"].get("deletionTimestamp") or c.run_finished(pr):
            self._prepared.pop((key.namespace or "default", key.name), None)
            self._decided.pop((key.namespace or "default", key.name), None)
            return None
        status: JsonObject = dict(pr.get("status") or {})
        spec = pr.get("spec") or {}
        name = pr["metadata"]["name"]
        if spec.get("status") == c.PR_PENDING and not status.get("startTime"):
            # Not started until a user clears spec.status: no start time, no TaskRuns.
            self._write(pr, status, ("Unknown", c.PR_REASON_PENDING, f'PipelineRun "{name}" is pending'))
            return None
        status.setdefault("startTime", rfc3339(self.clock.now()))
        if spec.get("status") == c.PR_CANCELLED:
            self._cancel_children(pr, c.TR_CANCELLED_BY_PIPELINE)
            self._write(pr, status, ("False", c.PR_REASON_CANCELLED, f'PipelineRun "{name}" was cancelled'))
            return None
        prepared = self._prepare(pr, status)
        if isinstance(prepared, _Failure):
            self._write(pr, status, ("False", prepared.reason, prepared.message))
            return None
        status["pipelineSpec"] = prepared.spec
        pr = self._label(pr, prepared)
        recorded = taskrun_names(pr)  # read once, not once per task
        taskruns = {t["name"]: self._taskrun(pr, taskrun_name(pr, t["name"], recorded)) for t in prepared.tasks}
        missing_task = self._missing_task(pr, prepared, taskruns)
        if missing_task is not None:
            self._write(pr, status, ("False", c.PR_REASON_COULDNT_GET_TASK, missing_task))
            return None

        timeout = self._timeout(pr)
        elapsed = (self.clock.now() - parse_rfc3339(status["startTime"])).total_seconds()
        timed_out = timeout > 0 and elapsed >= timeout - _EPSILON
        run_key = (pr["metadata"]["namespace"], name)
        inputs = tuple(_taskrun_inputs(tr) for tr in taskruns.values())
        last = self._decided.get(run_key)
        if (last is not None and last.run == _version(pr) and last.timed_out == timed_out
                and last.taskruns == inputs):
            # Nothing it decides from changed since the last reconcile finished its work.
            if last.unfinished and timeout > 0:
                return Result(requeue_after=max(timeout - elapsed, 0.0))
            return None
        facts = PipelineFacts(prepared.tasks, taskruns, prepared.graph, spec_status=spec.get("status"),
                              pipeline_timed_out=timed_out, refs=prepared.refs)
        if all(tr is None for tr in taskruns.values()):
            self._create_pvcs(pr)
        if facts.gracefully_cancelled and facts.any_running():
            self._cancel_children(pr, c.TR_CANCELLED_BY_PIPELINE, facts)
        self._schedule(pr, facts)
        facts.reset_skips()  # new TaskRuns change what is skipped
        status["childReferences"] = facts.child_references()
        if timed_out:
            self._cancel_children(pr, c.TR_CANCELLED_BY_PIPELINE_TIMEOUT, facts)
            condition = ("False", c.PR_REASON_TIMEOUT,
                         f'PipelineRun "{name}" failed to finish within "{c.go_duration(timeout)}"')
        else:
            condition = facts.condition(name)
        status["skippedTasks"] = facts.skipped_tasks()
        written = self._write(pr, status, condition)
        # Left behind: the run as written (or as read), the TaskRuns as created. Not after a
        # reconcile whose other writes (cancellations, PVCs) the next one must see done, nor
        # when the status write's answer carries someone else's change made meanwhile (another
        # thread's spec or metadata edit): the next reconcile must decide on that.
        if (not timed_out and not facts.gracefully_cancelled and any(tr is not None for tr in facts.taskruns.values())
                and (written is None or same_but_status(written, pr))):
            after = tuple(_taskrun_inputs(tr) for tr in facts.taskruns.values())
            self._decided[run_key] = _Decided(_version(written or pr), after, timed_out, condition[0] == "Unknown")
        else:
            self._decided.pop(run_key, None)
        if condition[0] == "Unknown" and timeout > 0:
            return Result(requeue_after=max(timeout - elapsed, 0.0))  # wake up for the timeout
        return None

    # -- resolution -----------------------------------------------------------------------------------

    def _prepare(self, pr: JsonObject, status: Mapping[str, Any]) -> _Prepared | _Failure:
        meta, spec = pr["metadata"], pr.get("spec") or {}
        stored = status.get("pipelineSpec")
        key = (meta["namespace"], meta["name"])
        known = self._prepared.get(key)
        # Without a stored spec the Pipeline is read again (it may have changed meanwhile).
        if stored is not None and known is not None and known.matches(meta["uid"], spec, stored):
            return known.prepared
        prepared = self._prepare_anew(pr, status)
        if isinstance(prepared, _Prepared):
            # Kept with the spec it goes on to store: the next reconcile finds it there.
            self._prepared[key] = _PreparedFor(meta["uid"], spec, prepared.spec, prepared)
        return prepared

    def _prepare_anew(self, pr: JsonObject, status: Mapping[str, Any]) -> _Prepared | _Failure:
        meta, spec = pr["metadata"], pr.get("spec") or {}
        ns, name = meta["namespace"], meta["name"]
        pipeline_name = str((spec.get("pipelineRef") or {}).get("name") or "")
        pipeline_spec = status.get("pipelineSpec")
        if pipeline_spec is None:
            if spec.get("pipelineSpec") is not None:
                pipeline_spec = spec["pipelineSpec"]
            else:
                try:
                    pipeline = self._reads.get(c.API_VERSION, "Pipeline", pipeline_name, ns, copy=False)
                    pipeline_spec = pipeline.get("spec") or {}
                except NotFound as exc:
                    return _Failure(c.PR_REASON_COULDNT_GET_PIPELINE,
                                    f"Error retrieving pipeline for pipelinerun {ns}/{name}: "
                                    f"error when getting Pipeline for PipelineRun {name}: {exc.message}")
        tasks = [dict(t) for t in pipeline_spec.get("tasks") or []]
        try:
            graph = build_graph(tasks)
        except GraphError as exc:
            return _Failure(c.PR_REASON_INVALID_GRAPH, f"PipelineRun {ns}/{name}'s Pipeline DAG is invalid: {exc}")
        try:
            params = param_values(pipeline_spec.get("params") or [], spec.get("params") or [])
        except ParamError as exc:
            return _Failure(c.PR_REASON_PARAMETER_MISSING,
                            f"PipelineRun {ns}/{name} is missing some parameters required by Pipeline "
                            f"{ns}/{pipeline_name}: {exc}")
        bound = {b.get("name") for b in spec.get("workspaces") or []}
        for ws in pipeline_spec.get("workspaces") or []:
            if ws.get("name") not in bound and not ws.get("optional"):
                return _Failure(c.PR_REASON_INVALID_WORKSPACE_BINDING,
                                f"PipelineRun {ns}/{name} doesn't bind Pipeline {ns}/{pipeline_name}'s Workspaces "
                                f'correctly: pipeline requires workspace with name "{ws.get("name")}" be provided '
                                "by pipelinerun")
        context = Replacements({"context.pipelineRun.name": name, "context.pipelineRun.namespace": ns,
                                "context.pipelineRun.uid": meta["uid"], "context.pipeline.name": pipeline_name})
        # Two passes, params first: a param whose value is a context variable resolves too.
        for repl in (params, context):
            for task in tasks:
                if task.get("params"):
                    task["params"] = apply_to_param_values(task["params"], repl)
                if task.get("when"):
                    task["when"] = apply_to_when(task["when"], repl)
        # Read-only: the prepared tasks are shared by every later reconcile of the run.
        refs = {str(task["name"]): result_refs(task_texts(task)) for task in tasks}
        return _Prepared(pipeline_spec, [freeze(task) for task in tasks], graph, refs)

    def _missing_task(self, pr: JsonObject, prepared: _Prepared,
                      taskruns: Mapping[str, JsonObject | None]) -> str | None:
        """The CouldntGetTask message when a task's Task cannot be read. A task whose TaskRun
        recorded its Task spec does not need the Task any more (as in Tekton)."""
        ns = pr["metadata"]["namespace"]
        pipeline = str(((pr.get("spec") or {}).get("pipelineRef") or {}).get("name") or pr["metadata"]["name"])
        found: set[str] = set()  # every task of a kubernaut Pipeline names the same Task: read it once
        for task in prepared.tasks:
            taskrun = taskruns.get(task["name"])
            if taskrun is not None and (taskrun.get("status") or {}).get("taskSpec") is not None:
                continue
            if task.get("taskSpec") is not None:
                continue
            ref = str((task.get("taskRef") or {}).get("name") or "")
            if ref in found:
                continue
            try:
                self._reads.get(c.API_VERSION, "Task", ref, ns, copy=False)
            except NotFound as exc:
                return (f"Pipeline {ns}/{pipeline} can't be Run; it contains Tasks that don't exist: "
                        f'Couldn\'t retrieve Task "{ref}": {exc.message}')
            found.add(ref)
        return None

    def _timeout(self, pr: JsonObject) -> float:
        timeouts = (pr.get("spec") or {}).get("timeouts") or {}
        seconds = c.parse_go_duration(timeouts.get("pipeline"))
        return c.DEFAULT_TIMEOUT_SECONDS if seconds is None else seconds

    # -- children -------------------------------------------------------------------------------------

    def _taskrun(self, pr: JsonObject, name: str) -> JsonObject | None:
        taskrun = self._reads.peek(c.API_VERSION, "TaskRun", name, pr["metadata"]["namespace"])
        if taskrun is None:
            return None
        owned = any(ref.get("uid") == pr["metadata"]["uid"] for ref in taskrun["metadata"].get("ownerReferences") or [])
        return taskrun if owned else None

    def _schedule(self, pr: JsonObject, facts: PipelineFacts) -> None:
        queue = facts.execution_queue()
        if not queue or facts.check_missing_results(queue):
            return
        for name in queue:
            if facts.skip(name) is not None:
                continue
            task = dict(facts.effective_task(name))
            desired = task_run(pr, task, taskrun_name(pr, name))
            try:
                created = self._api.create(desired)
            except Conflict as exc:
                if not exc.already_exists:
                    raise
                # Deterministic name: an earlier reconcile created it and its answer was lost.
                created = self._api.get_fresh(c.API_VERSION, "TaskRun", desired["metadata"]["name"],
                                              desired["metadata"]["namespace"])
            facts.taskruns[name] = created

    def _create_pvcs(self, pr: JsonObject) -> None:
        for binding in (pr.get("spec") or {}).get("workspaces") or []:
            if binding.get("volumeClaimTemplate") is None:
                continue
            try:
                self._api.create(pvc_for(pr, binding))
            except Conflict as exc:
                if not exc.already_exists:
                    raise

    def _cancel_children(self, pr: JsonObject, message: str, facts: PipelineFacts | None = None) -> None:
        """Set ``spec.status: TaskRunCancelled`` on every unfinished TaskRun of the run."""
        if facts is not None:
            names = [tr["metadata"]["name"] for tr in facts.taskruns.values() if tr is not None]
        else:
            names = [r["name"] for r in (pr.get("status") or {}).get("childReferences") or []
                     if r.get("kind") == "TaskRun"]
        for name in names:
            try:
                taskrun = self._api.get_fresh(c.API_VERSION, "TaskRun", name, pr["metadata"]["namespace"])
            except NotFound:
                continue
            spec = taskrun.get("spec") or {}
            if c.run_finished(taskrun) or spec.get("status") == c.TR_CANCELLED:
                continue
            # A stale resourceVersion raises Conflict, which the controller retries after a re-read.
            self._api.update({**taskrun, "spec": {**spec, "status": c.TR_CANCELLED, "statusMessage": message}})

    def _label(self, pr: JsonObject, prepared: _Prepared) -> JsonObject:
        """Add the ``tekton.dev/pipeline`` label to the run, as Tekton's
        ``propagatePipelineNameLabelToPipelineRun`` and metadata sync do."""
        labels = dict(pr["metadata"].get("labels") or {})
        ref = ((pr.get("spec") or {}).get("pipelineRef") or {}).get("name")
        wanted = dict(labels)
        wanted.setdefault(c.LABEL_PIPELINE, str(ref or pr["metadata"]["name"]))
        if wanted == labels:
            return pr
        updated = dict(pr)
        updated["metadata"] = {**pr["metadata"], "labels": wanted}
        return self._api.update(updated)

    # -- status ----------------------------------------------------------------------------------------

    def _write(self, pr: JsonObject, status: JsonObject, condition: tuple[str, str, str]) -> JsonObject | None:
        """Set the ``Succeeded`` condition and write ``status`` if it changed (returns the run as
        written, None when unchanged). Empty lists are left out, as Go's ``omitempty`` leaves
        them out."""
        now = rfc3339(self.clock.now())
        state, reason, message = condition
        status["conditions"] = c.with_condition(status, state, reason, message, now)
        if state != "Unknown":
            status.setdefault("completionTime", now)
        new = {k: v for k, v in status.items() if v not in (None, [])}
        old = pr.get("status") or {}
        if new != old:
            patch: JsonObject = {k: v for k, v in new.items() if old.get(k) != v}
            patch.update({k: None for k in old if k not in new})
            meta = pr["metadata"]
            return self._api.patch_status(c.API_VERSION, "PipelineRun", meta["name"], meta["namespace"], patch)
        return None
