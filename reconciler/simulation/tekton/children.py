"""The objects the PipelineRun controller creates: TaskRuns and workspace PVCs, shaped as
Tekton's ``createTaskRun`` and ``volumeclaim`` handler shape them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from targets.common.naming import child_name

from ...cluster import JsonObject
from . import conditions as c

__all__ = ["controller_ref", "pvc_for", "pvc_name", "task_run", "task_run_spec", "taskrun_name", "taskrun_names"]

# Annotations Tekton does not copy from a PipelineRun to its children (reserved prefixes).
_RESERVED_ANNOTATION_PREFIXES = ("tekton.dev/", "chains.tekton.dev/", "results.tekton.dev/")


def controller_ref(obj: Mapping[str, Any]) -> JsonObject:
    """``kmeta.NewControllerRef``: the owner reference Tekton puts on its children."""
    meta = obj["metadata"]
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def taskrun_name(pr: Mapping[str, Any], task: str, recorded: Mapping[str, str] | None = None) -> str:
    """The TaskRun of ``task``: the one recorded in ``childReferences`` (``recorded``: what
    :func:`taskrun_names` found there, when the caller has it), else
    ``kmeta.ChildName(pr, "-" + task)`` (``GetTaskRunName``)."""
    names = taskrun_names(pr) if recorded is None else recorded
    return names.get(task) or child_name(pr["metadata"]["name"], f"-{task}")


def taskrun_names(pr: Mapping[str, Any]) -> dict[str, str]:
    """The TaskRun names recorded in ``childReferences``, by pipeline task (the first of each)."""
    names: dict[str, str] = {}
    for ref in (pr.get("status") or {}).get("childReferences") or ():
        if ref.get("kind") == "TaskRun":
            names.setdefault(str(ref.get("pipelineTaskName")), str(ref["name"]))
    return names


def task_run_spec(pr: Mapping[str, Any], task: str) -> JsonObject:
    """``PipelineRun.GetTaskRunSpec``: ``taskRunTemplate`` overridden by the task's
    ``taskRunSpecs`` entry (its service account when set; pod templates merged field by field)."""
    spec = pr.get("spec") or {}
    template = spec.get("taskRunTemplate") or {}
    out: JsonObject = {"serviceAccountName": template.get("serviceAccountName") or "",
                       "podTemplate": template.get("podTemplate")}
    for entry in spec.get("taskRunSpecs") or []:
        if entry.get("pipelineTaskName") != task:
            continue
        if entry.get("podTemplate") is not None:
            out["podTemplate"] = {**(out["podTemplate"] or {}), **entry["podTemplate"]}
        if entry.get("serviceAccountName"):
            out["serviceAccountName"] = entry["serviceAccountName"]
        for key in ("stepSpecs", "sidecarSpecs", "metadata", "computeResources", "timeout"):
            out[key] = entry.get(key)
    return out


def pvc_name(binding: Mapping[str, Any], owner_uid: str) -> str:
    """``GeneratePVCNameFromWorkspaceBinding``: ``<claim name or "pvc">-<10 hex of
    sha256(workspace name + owner uid)>``."""
    template_name = ((binding.get("volumeClaimTemplate") or {}).get("metadata") or {}).get("name") or "pvc"
    digest = hashlib.sha256(f"{binding.get('name')}{owner_uid}".encode()).hexdigest()[:10]
    return f"{template_name}-{digest}"


def pvc_for(pr: Mapping[str, Any], binding: Mapping[str, Any]) -> JsonObject:
    """The PVC made from a ``volumeClaimTemplate`` binding, owned by the PipelineRun."""
    template = binding.get("volumeClaimTemplate") or {}
    meta = dict(template.get("metadata") or {})
    meta.update(name=pvc_name(binding, pr["metadata"]["uid"]), namespace=pr["metadata"]["namespace"],
                ownerReferences=[controller_ref(pr)])
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
            "spec": dict(template.get("spec") or {})}


def _workspaces(pr: Mapping[str, Any], task: Mapping[str, Any]) -> list[JsonObject]:
    bindings = {b.get("name"): b for b in (pr.get("spec") or {}).get("workspaces") or []}
    out = []
    for ws in task.get("workspaces") or []:
        binding = bindings.get(ws.get("workspace") or ws.get("name"))
        if binding is None:
            continue  # an optional workspace of the Task left unbound
        sub_path = "/".join(p for p in (binding.get("subPath"), ws.get("subPath")) if p)
        if binding.get("volumeClaimTemplate") is not None:
            bound: JsonObject = {"name": ws["name"],
                                 "persistentVolumeClaim": {"claimName": pvc_name(binding, pr["metadata"]["uid"])}}
        else:
            bound = {k: v for k, v in binding.items() if k != "subPath"}
            bound["name"] = ws["name"]
        if sub_path:
            bound["subPath"] = sub_path
        out.append(bound)
    return out


def _add_missing(target: dict[str, str], added: Mapping[str, str] | None) -> None:
    # Tekton's addMetadataByPrecedence: what is already there wins.
    for key, value in (added or {}).items():
        target.setdefault(key, value)


def task_run(pr: Mapping[str, Any], task: Mapping[str, Any], name: str) -> JsonObject:
    """The TaskRun for pipeline task ``task`` (its params already fully substituted)."""
    meta = pr["metadata"]
    trs = task_run_spec(pr, str(task["name"]))
    trs_meta = trs.get("metadata") or {}
    labels: dict[str, str] = {}
    _add_missing(labels, trs_meta.get("labels"))
    _add_missing(labels, {**(meta.get("labels") or {}), c.LABEL_PIPELINE_RUN: meta["name"],
                          c.LABEL_PIPELINE_RUN_UID: meta["uid"], c.LABEL_PIPELINE_TASK: str(task["name"]),
                          c.LABEL_MEMBER_OF: c.MEMBER_OF_TASKS})
    annotations: dict[str, str] = {}
    _add_missing(annotations, trs_meta.get("annotations"))
    _add_missing(annotations, {k: v for k, v in (meta.get("annotations") or {}).items()
                               if not k.startswith(_RESERVED_ANNOTATION_PREFIXES)})
    tr_meta: JsonObject = {"name": name, "namespace": meta["namespace"], "labels": labels,
                           "ownerReferences": [controller_ref(pr)]}
    if annotations:
        tr_meta["annotations"] = annotations
    spec: JsonObject = {}
    if task.get("retries"):
        spec["retries"] = int(task["retries"])
    spec["params"] = list(task.get("params") or [])
    if trs["serviceAccountName"]:
        spec["serviceAccountName"] = trs["serviceAccountName"]
    for key in ("podTemplate", "stepSpecs", "sidecarSpecs", "computeResources"):
        if trs.get(key):
            spec[key] = trs[key]
    timeout = trs.get("timeout") or task.get("timeout")
    if timeout is not None:
        seconds = c.parse_go_duration(timeout)
        spec["timeout"] = c.go_duration(seconds) if seconds is not None else timeout
    spec["taskRef"] = task.get("taskRef")
    workspaces = _workspaces(pr, task)
    if workspaces:
        spec["workspaces"] = workspaces
    return {"apiVersion": c.API_VERSION, "kind": "TaskRun", "metadata": tr_meta, "spec": spec}
