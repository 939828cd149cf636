"""The parity checker covers the interfaces: planted drift in env names, mounts and constraints
between the jobs and the tekton manifests is reported."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from interface_harness import GOLDEN

import targets.jobs
import targets.tekton
from compiler.frontend import compile_files
from targets.parity import compare_manifests

CONTRACTS = Path(__file__).resolve().parent / "contracts"
Docs = list[dict[str, Any]]


def _both(case: str) -> tuple[Docs, Docs, str]:
    source = GOLDEN / case / "workflow.yaml"
    (wf,) = compile_files([source], [CONTRACTS]).workflows
    workflow_docs = [d for d in yaml.safe_load_all(source.read_text()) if d]
    return [*targets.jobs.compile_workflow(wf), *workflow_docs], targets.tekton.compile_workflow(wf), wf.name


def _env_task(docs: Docs) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == "Task" and "-env-" in d["metadata"]["name"])


def _step(task: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in task["spec"]["steps"] if s["name"] == name)


def _job(docs: Docs, step: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == "Job" and d["metadata"]["labels"]["kubernaut.ai/step"] == step)


def _rename_tekton_env(docs: Docs) -> None:
    env = _step(_env_task(docs), "execute")["env"]
    next(e for e in env if e["name"] == "TARGET_NAME")["name"] = "TARGET"


def _swap_tekton_results(docs: Docs) -> None:
    env = {e["name"]: e for e in _step(_env_task(docs), "execute")["env"]}
    env["REPLICAS"]["value"], env["RATIO"]["value"] = env["RATIO"]["value"], env["REPLICAS"]["value"]


def _tekton_constraint(docs: Docs) -> None:
    pipeline = next(d for d in docs if d["kind"] == "Pipeline")
    task = next(t for t in pipeline["spec"]["tasks"] if t["name"] == "patch")
    param = next(p for p in task["params"] if p["name"] == "inputSchema")
    schema = json.loads(param["value"])
    next(d for d in schema["inputs"] if d["name"] == "REPLICAS")["maximum"] = 100
    param["value"] = json.dumps(schema)


def _tekton_secret_writable(docs: Docs) -> None:
    task = next(d for d in docs if d["kind"] == "Task" and d["metadata"]["name"] != "kubernaut-action")
    next(w for w in task["spec"]["workspaces"] if w["name"] == "secret-git-credentials")["readOnly"] = False


def _tekton_other_secret(docs: Docs) -> None:
    run = next(d for d in docs if d["kind"] == "PipelineRun")
    next(w for w in run["spec"]["workspaces"] if w["name"] == "secret-git-credentials")["secret"] = {
        "secretName": "admin-credentials"}


def _tekton_mount_path(docs: Docs) -> None:
    task = next(d for d in docs if d["kind"] == "Task" and d["metadata"]["name"] != "kubernaut-action")
    next(w for w in task["spec"]["workspaces"] if w["name"] == "configmap-git-settings")["mountPath"] = "/etc/git"


def _jobs_env_name(docs: Docs) -> None:
    env = _job(docs, "patch")["spec"]["template"]["spec"]["containers"][0]["env"]
    next(e for e in env if e["name"] == "MODE")["name"] = "mode"


def _jobs_missing_mount(docs: Docs) -> None:
    container = _job(docs, "clone")["spec"]["template"]["spec"]["containers"][0]
    container["volumeMounts"] = [m for m in container["volumeMounts"] if "secrets" not in m["mountPath"]]


def _jobs_constraint(docs: Docs) -> None:
    record = next(d for d in docs if d["kind"] == "ActionExecution" and d["spec"]["step"] == "patch")
    next(d for d in record["spec"]["contractInputs"] if d["name"] == "TARGET_NAME")["pattern"] = ".*"


@pytest.mark.parametrize(("case", "side", "plant", "expected"), [
    ("env-action", "tekton", _rename_tekton_env, "inputEnv.TARGET"),
    ("env-action", "tekton", _swap_tekton_results, "inputEnv.RATIO"),
    ("env-action", "tekton", _tekton_constraint, "contractInputs"),
    ("env-action", "jobs", _jobs_env_name, "inputEnv.mode"),
    ("env-action", "jobs", _jobs_constraint, "contractInputs"),
    ("secret-mounts", "tekton", _tekton_secret_writable, "mounts./run/kubernaut/secrets/git-credentials"),
    ("secret-mounts", "tekton", _tekton_other_secret, "mounts./run/kubernaut/secrets/git-credentials"),
    ("secret-mounts", "tekton", _tekton_mount_path, "mounts./etc/git"),
    ("secret-mounts", "jobs", _jobs_missing_mount, "mounts./run/kubernaut/secrets/git-credentials"),
], ids=lambda v: getattr(v, "__name__", None) or str(v))
def test_planted_drift_is_caught(case: str, side: str, plant: Callable[[Docs], None], expected: str) -> None:
    jobs, tekton, name = _both(case)
    assert compare_manifests(jobs, tekton, name) == []
    jobs, tekton = copy.deepcopy(jobs), copy.deepcopy(tekton)
    plant(jobs if side == "jobs" else tekton)
    found = compare_manifests(jobs, tekton, name)
    assert found, "the drift went unnoticed"
    assert any(expected in str(d) for d in found), found
