"""What the PipelineRun controller concludes from its tasks and TaskRuns in one reconcile.

A model of Tekton's ``PipelineRunFacts`` (``pkg/reconciler/pipelinerun/resources``), rebuilt
from cluster state on every reconcile:

* a task is *done* when it succeeded, failed, was skipped or failed result validation;
* the *execution queue* is the tasks without a TaskRun whose parents are all done — empty once
  the run is stopping (a task failed), cancelled or gracefully stopped;
* *skipping* follows ``ResolvedPipelineTask.skip``, in its order: stopping, graceful
  cancel/stop, ``when`` false (parents done), a parent skipped for any reason but its ``when``,
  results of a ``when``-skipped task referenced, the pipeline timeout reached;
* result references are resolved all-or-nothing per task: when one cannot be resolved, none is
  applied and the ``when`` expressions compare the unresolved ``$(tasks...)`` text, as Tekton's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...cluster import JsonObject
from . import conditions as c
from .dag import Graph
from .params import Replacements, ResultRef, apply_to_param_values, apply_to_when, result_refs, task_texts

__all__ = ["Counts", "PipelineFacts"]


@dataclass(frozen=True)
class Counts:
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    skipped: int = 0
    skipped_due_to_timeout: int = 0
    validation_failed: int = 0
    incomplete: int = 0


class _Unresolved(Exception):
    def __init__(self, task: str, message: str) -> None:
        super().__init__(message)
        self.task = task
        self.message = message


def _result_value(taskrun: JsonObject, ref: ResultRef) -> Any:
    for result in (taskrun.get("status") or {}).get("results") or []:
        if result.get("name") == ref.result:
            return result.get("value")
    raise _Unresolved(ref.task, f"Could not find result with name {ref.result} for pipeline task {ref.task}")


class PipelineFacts:
    """The state of one PipelineRun's DAG tasks (no ``finally``: kubernaut emits none)."""

    def __init__(
        self,
        tasks: Sequence[JsonObject],
        taskruns: Mapping[str, JsonObject | None],
        graph: Graph,
        *,
        spec_status: str | None = None,
        pipeline_timed_out: bool = False,
        refs: Mapping[str, Sequence[ResultRef]] | None = None,
    ) -> None:
        """``refs``: the result references of each task, when the caller knows them already
        (they depend on the tasks only); else found here, once per task."""
        self.tasks = {str(t["name"]): t for t in tasks}
        self._refs: dict[str, Sequence[ResultRef]] = dict(refs or {})
        self.taskruns = dict(taskruns)
        self.graph = graph
        self.spec_status = spec_status
        self.pipeline_timed_out = pipeline_timed_out
        #: Tasks whose referenced results are missing from a task that succeeded (Tekton's
        #: ``ValidationFailedTask``), with the error; filled by :meth:`check_missing_results`.
        self.validation_failed: dict[str, str] = {}
        self._skips: dict[str, str | None] = {}
        # effective_task by name, computed once per decision round (it depends on the parents'
        # TaskRuns): skipping, scheduling and reporting all ask for it. Cleared with the skips.
        self._effective: dict[str, JsonObject] = {}
        self._stopping: bool | None = None

    # -- single tasks ---------------------------------------------------------------------------

    def taskrun(self, name: str) -> JsonObject | None:
        return self.taskruns.get(name)

    def successful(self, name: str) -> bool:
        tr = self.taskrun(name)
        return tr is not None and c.run_succeeded(tr)

    def failure(self, name: str) -> bool:
        tr = self.taskrun(name)
        return tr is not None and c.run_failed(tr)

    def cancelled(self, name: str) -> bool:
        tr = self.taskrun(name)
        return tr is not None and c.run_failed(tr) and c.condition_reason(tr) == c.TR_REASON_CANCELLED

    def cancelled_for_timeout(self, name: str) -> bool:
        tr = self.taskrun(name)
        return (tr is not None and self.cancelled(name)
                and (tr.get("spec") or {}).get("statusMessage") == c.TR_CANCELLED_BY_PIPELINE_TIMEOUT)

    def running(self, name: str) -> bool:
        return self.taskrun(name) is not None and not self.successful(name) and not self.failure(name)

    def done(self, name: str) -> bool:
        return (self.skip(name) is not None or self.successful(name) or self.failure(name)
                or name in self.validation_failed)

    def parents_done(self, name: str) -> bool:
        return all(self.done(p) for p in self.graph.parents[name])

    # -- the run as a whole -----------------------------------------------------------------------

    def is_stopping(self) -> bool:
        # Asked once per task while skips are decided: computed once per decision round.
        if self._stopping is None:
            self._stopping = bool(self.validation_failed) or any(self.failure(t) for t in self.graph.order)
        return self._stopping

    def any_running(self) -> bool:
        return any(self.running(t) for t in self.graph.order)

    @property
    def gracefully_cancelled(self) -> bool:
        return self.spec_status == c.PR_CANCELLED_RUN_FINALLY

    @property
    def gracefully_stopped(self) -> bool:
        return self.spec_status == c.PR_STOPPED_RUN_FINALLY

    # -- results and substitution -------------------------------------------------------------------

    def result_refs(self, name: str) -> Sequence[ResultRef]:
        """The results task ``name`` references (in its params and ``when``)."""
        refs = self._refs.get(name)
        if refs is None:
            refs = self._refs[name] = result_refs(task_texts(self.tasks[name]))
        return refs

    def resolve_results(self, name: str) -> Replacements:
        """The values of every result ``name`` references; raises _Unresolved on the first one
        that is not available (``convertToResultRefs``)."""
        repl = Replacements()
        for ref in self.result_refs(name):
            if ref.task not in self.tasks:
                raise _Unresolved(ref.task, f'could not find task "{ref.task}" referenced by result')
            if not (self.successful(ref.task) or self.failure(ref.task)):
                raise _Unresolved(ref.task, f'task "{ref.task}" referenced by result was not finished')
            taskrun = self.taskrun(ref.task)
            assert taskrun is not None
            value = _result_value(taskrun, ref)
            key = f"tasks.{ref.task}.results.{ref.result}"
            if isinstance(value, list):
                items = [str(v) for v in value]
                if ref.index not in (None, "*") and int(str(ref.index)) >= len(items):
                    raise _Unresolved(ref.task, f"array Result Index {ref.index} for Task {ref.task} Result "
                                                f"{ref.result} is out of bound of size {len(items)}")
                repl.arrays[key] = items
            else:
                repl.strings[key] = str(value)
        return repl

    def effective_task(self, name: str) -> JsonObject:
        """The pipeline task with its result references applied when all of them resolve
        (read-only: callers copy it to change it)."""
        known = self._effective.get(name)
        if known is None:
            known = self._effective[name] = self._effective_task(name)
        return known

    def _effective_task(self, name: str) -> JsonObject:
        task = self.tasks[name]
        if not self.result_refs(name):
            return task  # nothing to resolve
        try:
            repl = self.resolve_results(name)
        except _Unresolved:
            return task
        resolved = dict(task)
        if task.get("params"):
            resolved["params"] = apply_to_param_values(task["params"], repl)
        if task.get("when"):
            resolved["when"] = apply_to_when(task["when"], repl)
        return resolved

    def when_allows(self, name: str) -> bool:
        for expression in self.effective_task(name).get("when") or []:
            holds = expression.get("input") in (expression.get("values") or [])
            if expression.get("operator") == "notin":
                holds = not holds
            if not holds:
                return False
        return True

    # -- skipping ----------------------------------------------------------------------------------------

    def skip(self, name: str) -> str | None:
        """Why ``name`` is skipped (a Tekton SkippingReason), or None."""
        if name not in self._skips:
            # Parents first: a task's skip depends on its parents' (no deep recursion either).
            for task in self.graph.topological:
                if task not in self._skips:
                    self._skips[task] = self._skip(task)
        return self._skips[name]

    def reset_skips(self) -> None:
        self._skips.clear()
        self._effective.clear()
        self._stopping = None

    def _skip(self, name: str) -> str | None:
        if self.taskrun(name) is not None or name in self.validation_failed:
            return None
        if self.is_stopping():
            return c.SKIP_STOPPING
        if self.gracefully_cancelled:
            return c.SKIP_GRACEFULLY_CANCELLED
        if self.gracefully_stopped:
            return c.SKIP_GRACEFULLY_STOPPED
        parents_done = self.parents_done(name)
        if parents_done and not self.when_allows(name):
            return c.SKIP_WHEN
        if any(self.skip(p) not in (None, c.SKIP_WHEN) for p in self.graph.parents[name]):
            return c.SKIP_PARENT
        if parents_done and self._missing_results_of_when_skipped(name):
            return c.SKIP_MISSING_RESULTS
        if parents_done and self.pipeline_timed_out:
            return c.SKIP_PIPELINE_TIMEOUT
        return None

    def _missing_results_of_when_skipped(self, name: str) -> bool:
        try:
            self.resolve_results(name)
        except _Unresolved as exc:
            return exc.task in self.tasks and self.skip(exc.task) == c.SKIP_WHEN
        return False

    # -- scheduling ------------------------------------------------------------------------------------

    def execution_queue(self) -> list[str]:
        """Tasks to create TaskRuns for now, before skipping (``DAGExecutionQueue``)."""
        if self.spec_status in (c.PR_CANCELLED, c.PR_CANCELLED_RUN_FINALLY):
            return []
        if self.is_stopping() or self.gracefully_stopped:
            return []
        return [t for t in self.graph.candidates(self.done) if self.taskrun(t) is None]

    def check_missing_results(self, queue: Sequence[str]) -> bool:
        """Tekton's ``CheckMissingResultReferences`` on the queue: a referenced result missing
        from a task that *succeeded* fails result validation (no task is scheduled then).
        Returns whether any task failed validation."""
        for name in queue:
            if self.skip(name) is not None:
                continue
            for ref in self.result_refs(name):
                taskrun = self.taskrun(ref.task)
                if taskrun is None or not self.successful(ref.task):
                    continue
                try:
                    _result_value(taskrun, ref)
                except _Unresolved:
                    self.validation_failed[name] = (
                        f'task "{ref.task}" completed successfully but did not emit the result '
                        f'"{ref.result}", which is referenced by task "{name}"')
                    break
        if self.validation_failed:
            self.reset_skips()
        return bool(self.validation_failed)

    # -- reporting -------------------------------------------------------------------------------------------

    def counts(self) -> Counts:
        n = dict.fromkeys(Counts.__dataclass_fields__, 0)
        for name in self.graph.order:
            skip = self.skip(name)
            if self.successful(name):
                n["succeeded"] += 1
            elif self.cancelled_for_timeout(name):
                n["failed"] += 1
            elif self.cancelled(name):
                n["cancelled"] += 1
            elif self.failure(name):
                n["failed"] += 1
            elif name in self.validation_failed:
                n["validation_failed"] += 1
            elif skip == c.SKIP_PIPELINE_TIMEOUT:
                n["skipped"] += 1
                n["skipped_due_to_timeout"] += 1
            elif skip is not None:
                n["skipped"] += 1
            else:
                n["incomplete"] += 1
        return Counts(**n)

    def condition(self, pr_name: str) -> tuple[str, str, str]:
        """``(status, reason, message)`` of the ``Succeeded`` condition
        (``GetPipelineConditionStatus``; the pipeline timeout is handled by the caller)."""
        s = self.counts()
        completed = s.succeeded + s.failed + s.cancelled
        if s.incomplete == 0:
            message = (f"Tasks Completed: {completed} (Failed: {s.failed}, Cancelled {s.cancelled}), "
                       f"Skipped: {s.skipped}")
            if s.validation_failed:
                errors = "; ".join(self.validation_failed[k] for k in sorted(self.validation_failed))
                message += f", Failed Validation: {s.validation_failed} ({errors[:1024]}{'...' * (len(errors) > 1024)})"
            status, reason = "True", c.PR_REASON_COMPLETED if s.skipped else c.PR_REASON_SUCCEEDED
            if s.validation_failed:
                status, reason = "False", c.PR_REASON_VALIDATION_FAILED
            elif s.failed or s.skipped_due_to_timeout:
                status, reason = "False", c.PR_REASON_FAILED
            elif self.gracefully_cancelled or self.gracefully_stopped:
                status, reason, message = "False", c.PR_REASON_CANCELLED, f'PipelineRun "{pr_name}" was cancelled'
            elif s.cancelled:
                status, reason = "False", c.PR_REASON_CANCELLED
            return status, reason, message
        reason = c.PR_REASON_RUNNING
        if self.gracefully_cancelled:
            reason = c.PR_REASON_CANCELLED_RUNNING_FINALLY
        elif self.gracefully_stopped:
            reason = c.PR_REASON_STOPPED_RUNNING_FINALLY
        elif s.cancelled or s.failed:
            reason = c.PR_REASON_STOPPING
        return "Unknown", reason, (f"Tasks Completed: {completed} (Failed: {s.failed}, Cancelled {s.cancelled}), "
                                   f"Incomplete: {s.incomplete}, Skipped: {s.skipped}")

    def skipped_tasks(self) -> list[JsonObject]:
        out = []
        for name in self.graph.order:
            reason = self.skip(name)
            if reason is None:
                continue
            entry: JsonObject = {"name": name, "reason": reason}
            when = self.effective_task(name).get("when")
            if when:
                entry["whenExpressions"] = when
            out.append(entry)
        return out

    def child_references(self) -> list[JsonObject]:
        out = []
        for name in self.graph.order:
            taskrun = self.taskrun(name)
            if taskrun is None:
                continue
            ref: JsonObject = {"apiVersion": c.API_VERSION, "kind": "TaskRun",
                               "name": taskrun["metadata"]["name"], "pipelineTaskName": name}
            when = self.effective_task(name).get("when")
            if when:
                ref["whenExpressions"] = when
            out.append(ref)
        return out
