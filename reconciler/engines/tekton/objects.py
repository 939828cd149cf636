"""The Tekton objects of one workflow, made ready for the cluster, and how they get there.

``targets.tekton.compile_workflow`` is a static compile: it cannot know the WorkflowExecution's
uid (the PipelineRun's ``workflowUid`` param says ``$(context.pipelineRun.uid)``) nor own
anything. Here the per-workflow objects get an ownerReference to the WorkflowExecution (garbage
collection removes them with it) and the PipelineRun the real uid.

Two ways to the cluster, because the objects differ in what may change:

* the shared RBAC, the meta-Task and the Pipeline go through the generic diff-based loop
  (``reconciler.apply``): the RBAC and the Task carry no workflow label, so they are never
  pruned; the Pipeline carries it;
* the PipelineRun is **created once**. Tekton rejects spec changes of a started run (except
  cancellation), so it is never applied again: "already exists" is success, and the existing
  run is what the engine follows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from compiler import ir
from targets.tekton import TektonOptions, compile_workflow
from targets.tekton import interface as i

from ...apply import execute, ownership_selector, plan
from ...cluster import Cluster, Conflict, JsonObject, NotFound
from ...controller import TransientError
from ..in_sync import InSync
from . import vocabulary as t

__all__ = ["WorkflowObjects", "apply_shared", "create_pipelinerun", "owned_by", "workflow_objects"]


@dataclass(frozen=True)
class WorkflowObjects:
    applied: list[JsonObject]  # RBAC, meta-Task, Pipeline, in apply order
    pipelinerun: JsonObject


def owned_by(obj: JsonObject, uid: str) -> bool:
    """Whether ``uid`` owns ``obj`` (an empty uid — no object yet — accepts anything)."""
    refs = obj["metadata"].get("ownerReferences") or []
    return not uid or any(ref.get("uid") == uid for ref in refs)


def _set_param(params: list[dict[str, Any]], name: str, value: str) -> None:
    for param in params:
        if param.get("name") == name:
            param["value"] = value
            return
    params.append({"name": name, "value": value})


def workflow_objects(wf: ir.Workflow, namespace: str, owner: dict[str, Any], uid: str,
                     options: TektonOptions | None = None) -> WorkflowObjects:
    """The compiled objects in ``namespace``; raises ``NotExpressibleError`` like the target."""
    # The compile's objects are its own, new ones: only what is set below is copied first.
    objects = [{**o, "metadata": dict(o["metadata"])} for o in compile_workflow(wf, options or TektonOptions())]
    applied: list[JsonObject] = []
    pipelinerun: JsonObject | None = None
    for obj in objects:
        # The WorkflowExecution's namespace wins: a spec naming another is not where it runs.
        obj["metadata"]["namespace"] = namespace
        if obj["kind"] == t.PIPELINE_RUN:
            pipelinerun = obj
            continue
        if obj["kind"] == t.PIPELINE:
            obj["metadata"]["ownerReferences"] = [owner]
        applied.append(obj)
    if pipelinerun is None:
        raise ValueError(f"the tekton target emitted no PipelineRun for workflow '{wf.name}'")
    pipelinerun["metadata"]["ownerReferences"] = [owner]
    if uid:
        spec = pipelinerun["spec"] = dict(pipelinerun["spec"])
        spec["params"] = [dict(param) for param in spec.get("params") or []]
        _set_param(spec["params"], i.PARAM_WORKFLOW_UID, uid)
    return WorkflowObjects(applied, pipelinerun)


def apply_shared(cluster: Cluster, objects: Sequence[JsonObject], workflow: str, namespace: str,
                 in_sync: InSync | None = None) -> None:
    """Apply the objects with the diff-based loop, observed by name (the names are fixed, and a
    get is cheaper than a labelled list of every object of the kind). ``in_sync``: skip diffing
    the objects it found in sync at their current version."""
    observed = []
    for obj in objects:
        with contextlib.suppress(NotFound):
            observed.append(cluster.get(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], namespace))
    planner = in_sync.plan if in_sync is not None else plan
    the_plan = planner(objects, observed, owned_selector=ownership_selector(workflow), default_namespace=namespace)
    waiting = [str(c.key) for c in the_plan.changes if c.waiting]
    if waiting:
        # Left over from an earlier workflow of the same name: a run started now could read the
        # old Pipeline. Garbage collection finishes soon; try again then.
        raise TransientError(f"waiting for {', '.join(waiting)} to be deleted before starting")
    execute(cluster, the_plan)


def create_pipelinerun(cluster: Cluster, pipelinerun: JsonObject, uid: str) -> JsonObject:
    """Create the run; an existing one of this workflow is the answer (a lost response, a restart)."""
    meta = pipelinerun["metadata"]
    try:
        return cluster.create(pipelinerun)
    except Conflict as exc:
        if not exc.already_exists:
            raise
    existing = cluster.get(t.API_VERSION, t.PIPELINE_RUN, meta["name"], meta["namespace"])
    if not owned_by(existing, uid):
        raise TransientError(f"PipelineRun {meta['namespace']}/{meta['name']} belongs to an earlier workflow of "
                             "the same name and is still being deleted")
    return existing
