"""The V1 side: a :class:`WorkflowModel` from jobs manifests (ActionExecution, Job, PVC).

The WorkflowExecution itself belongs to the V1 side too: the V1 engine reads the workflow
timeout from it (the jobs target emits no object that carries it). Pass it among the documents.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from compiler.expressions import WORKSPACE_PATH
from targets.common.labels import STEP as STEP_LABEL
from targets.common.labels import WORKFLOW as WORKFLOW_LABEL
from targets.parity.guards import normal_from_source
from targets.parity.manifests import (
    Manifest,
    as_int,
    as_list,
    as_map,
    container_env,
    duration_seconds,
    labels_of,
    name_of,
    of_kind,
    read_only_sources,
)
from targets.parity.model import ManifestError, StepModel, WorkflowModel

ACTION_EXECUTION = "ActionExecution"
WORKFLOW_EXECUTION = "WorkflowExecution"
DEFAULT_WORKFLOW_TIMEOUT = "1h"
_ENV_INPUTS: Any = object()  # marker: the inputs are in the ActionExecution's record


def _workflow_timeout(docs: Sequence[Manifest], workflow: str) -> int | None:
    for doc in of_kind(docs, WORKFLOW_EXECUTION):
        if name_of(doc) == workflow:
            spec = as_map(doc.get("spec"), "WorkflowExecution.spec")
            timeout = spec.get("timeout")  # null is absent, for the front end as for the API server
            return duration_seconds(DEFAULT_WORKFLOW_TIMEOUT if timeout is None else timeout,
                                    "WorkflowExecution.spec.timeout")
    return None


def _workspace(docs: Sequence[Manifest], workflow: str) -> dict[str, Any] | None:
    for doc in of_kind(docs, "PersistentVolumeClaim"):
        if labels_of(doc).get(WORKFLOW_LABEL) != workflow:
            continue
        spec = as_map(doc.get("spec"), "PersistentVolumeClaim.spec")
        requests = as_map(as_map(spec.get("resources"), "spec.resources").get("requests"), "requests")
        return {"size": requests.get("storage"), "storageClassName": spec.get("storageClassName")}
    return None


def _job(docs: Sequence[Manifest], workflow: str, step: str) -> Manifest | None:
    # The compiled Job is the first attempt's; later attempts are the controller's copies of it.
    for doc in of_kind(docs, "Job"):
        labels = labels_of(doc)
        if labels.get(WORKFLOW_LABEL) == workflow and labels.get(STEP_LABEL) == step:
            return doc
    return None


def _action_container(pod: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    containers = [as_map(c, f"{where}.containers[]") for c in as_list(pod.get("containers"), f"{where}.containers")]
    for container in containers:
        if any(as_map(e, "env[]").get("name") == "ACTION_INPUTS" for e in as_list(container.get("env"), "env")):
            return container
    if not containers:
        raise ManifestError(f"{where} has no containers")
    return containers[0]


def _job_view(job: Manifest, where: str) -> dict[str, Any]:
    """What the Job actually runs: image, inputs, workspace, deadline, account, security."""
    spec = as_map(job.get("spec"), f"{where}.spec")
    pod = as_map(as_map(spec.get("template"), f"{where}.spec.template").get("spec"), f"{where} pod spec")
    container = _action_container(pod, where)
    env = container_env(container, where)
    inputs: Any = None
    if "ACTION_INPUTS" in env:
        try:
            inputs = json.loads(env["ACTION_INPUTS"])
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{where}: ACTION_INPUTS is not JSON: {exc}") from None
    elif "command" not in container:
        inputs = _ENV_INPUTS  # an env action: its record holds the input template
    mounts = as_list(container.get("volumeMounts"), f"{where}.volumeMounts")
    deadline = spec.get("activeDeadlineSeconds")
    env_interface = "command" not in container
    return {
        "interface": "env" if env_interface else "kubernaut",
        # V1 sets each input's variable itself: the name is the input.
        "input_env": {n: n for n in env if env_interface and not n.startswith("KUBERNAUT_")},
        "mounts": _mounts(pod, mounts, where),
        "image": container.get("image"),
        "inputs": inputs,
        "uses_workspace": any(as_map(m, "volumeMounts[]").get("mountPath") == WORKSPACE_PATH for m in mounts),
        "timeout_seconds": deadline if isinstance(deadline, int) else None,
        "service_account": pod.get("serviceAccountName"),
        "pod_security": dict(as_map(pod.get("securityContext"), "securityContext")),
        "container_security": dict(as_map(container.get("securityContext"), "securityContext")),
        "api_token": pod.get("automountServiceAccountToken"),
        "resources": dict(as_map(container.get("resources"), "resources")),
    }


def _mounts(pod: Mapping[str, Any], mounts: list[Any], where: str) -> dict[str, str]:
    """mount path -> "secret:<name>" / "configMap:<name>" of the read-only Secret/ConfigMap mounts."""
    sources = read_only_sources(pod.get("volumes"), f"{where}.volumes")
    found: dict[str, str] = {}
    for mount in mounts:
        mount = as_map(mount, "volumeMounts[]")
        source = sources.get(str(mount.get("name")))
        if source is not None:
            found[str(mount.get("mountPath"))] = source + ("" if mount.get("readOnly") else " (writable)")
    return found


def _step(docs: Sequence[Manifest], workflow: str, record: Manifest) -> tuple[str, StepModel]:
    spec = as_map(record.get("spec"), "ActionExecution.spec")
    step = str(spec.get("step", ""))
    where = f"ActionExecution {name_of(record)}"
    job = _job(docs, workflow, step)
    # Without a Job (a partial manifest set), the ActionExecution's record stands in for it.
    view = _job_view(job, f"Job {name_of(job)}") if job is not None else {
        "image": spec.get("image"), "inputs": spec.get("inputs"), "uses_workspace": bool(spec.get("usesWorkspace")),
        "timeout_seconds": spec.get("timeoutSeconds"), "service_account": spec.get("serviceAccountName"),
        "pod_security": {}, "container_security": {}, "api_token": None, "resources": {},
        "interface": "kubernaut", "input_env": {}, "mounts": {},
    }
    if view["inputs"] is _ENV_INPUTS:
        view["inputs"] = spec.get("inputs")
    guards = frozenset(normal_from_source(str(g), f"{where}.spec.when")
                       for g in as_list(spec.get("when"), f"{where}.spec.when"))
    return step, StepModel(
        image=view["image"],
        inputs=view["inputs"],
        dependencies=frozenset(str(d) for d in as_list(spec.get("dependencies"), f"{where}.spec.dependencies")),
        uses_workspace=view["uses_workspace"],
        retries=as_int(spec.get("retries"), f"{where}.spec.retries"),
        timeout_seconds=view["timeout_seconds"],
        guards=guards,
        service_account=view["service_account"],
        pod_security=view["pod_security"],
        container_security=view["container_security"],
        api_token=view["api_token"],
        resources=view["resources"],
        interface=view["interface"],
        input_env=view["input_env"],
        mounts=view["mounts"],
        contract_inputs=spec.get("contractInputs"),
    )


def jobs_workflows(docs: Sequence[Manifest]) -> list[str]:
    """Names of the workflows the manifests hold, in order of first appearance."""
    names = [str(as_map(d.get("spec"), "spec").get("workflowName", "")) for d in of_kind(docs, ACTION_EXECUTION)]
    return list(dict.fromkeys(names))


def jobs_model(docs: Sequence[Manifest], workflow: str) -> WorkflowModel:
    records = [d for d in of_kind(docs, ACTION_EXECUTION)
               if as_map(d.get("spec"), "spec").get("workflowName") == workflow]
    if not records:
        raise ManifestError(f"the jobs manifests have no ActionExecution of workflow '{workflow}'")
    steps = dict(_step(docs, workflow, record) for record in records)
    return WorkflowModel(name=workflow, timeout_seconds=_workflow_timeout(docs, workflow),
                         workspace=_workspace(docs, workflow), steps=steps)
