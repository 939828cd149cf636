"""Secrets and ConfigMaps: mounted read-only on both engines, never inputs, a missing one fails
the workflow before any pod (DependencyMissing), and no emitted Role reads Secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from interface_harness import ENGINES, GOLDEN, final, load, run_workflow, steps

import targets.jobs
import targets.tekton
from compiler.frontend import compile_files
from reconciler.simulation import Simulation

SOURCE = GOLDEN / "secret-mounts" / "workflow.yaml"
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "git-credentials", "namespace": "ops"},
          "data": {"username": "Ym90", "password": "czNjcjN0"}}
CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "git-settings", "namespace": "ops"},
          "data": {"author": "kubernaut"}}


def _pod_creators(sim: Simulation) -> list[str]:
    return [o["metadata"]["name"] for kind in ("Job", "TaskRun", "Pod") for o in sim.cluster.objects(kind)]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_secret_fails_the_workflow_before_any_pod(engine: str) -> None:
    doc = load(SOURCE)
    sim = run_workflow(doc, engine, {}, objects=[CONFIG])
    wfe = final(sim, doc)
    status = wfe["status"]
    assert status["phase"] == "Failed"
    assert status["message"] == ("Secret 'git-credentials' (mounted by step 'clone') does not exist in "
                                 "namespace 'ops'")
    assert status["failureDetails"]["reason"] == "DependencyMissing"
    assert {s["phase"] for s in steps(wfe).values()} == {"Skipped"}
    assert _pod_creators(sim) == []
    # Events name the Secret, never anything in it.
    events = [e for e in sim.cluster.objects("Event") if e.get("reason") == "DependencyMissing"]
    assert events and all("git-credentials" in e["message"] for e in events)


@pytest.mark.parametrize("engine", ENGINES)
def test_with_its_secret_and_config_map_the_workflow_runs(engine: str) -> None:
    doc = load(SOURCE)
    wfe = final(run_workflow(doc, engine, {}, objects=[SECRET, CONFIG]), doc)
    assert wfe["status"]["phase"] == "Succeeded", wfe["status"]
    assert "s3cr3t" not in json.dumps(wfe) and "czNjcjN0" not in json.dumps(wfe)


def _compiled() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    (wf,) = compile_files([SOURCE]).workflows
    return targets.jobs.compile_workflow(wf), targets.tekton.compile_workflow(wf)


def test_mounts_are_read_only_at_their_paths_on_both_engines() -> None:
    jobs, tekton = _compiled()
    clone = next(d for d in jobs if d["kind"] == "Job" and "clone" in d["metadata"]["name"])
    pod = clone["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m for m in pod["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    secret = mounts["/run/kubernaut/secrets/git-credentials"]
    assert secret["readOnly"] is True and volumes[secret["name"]]["secret"] == {"secretName": "git-credentials"}
    config = mounts["/run/kubernaut/configmaps/git-settings"]
    assert config["readOnly"] is True and volumes[config["name"]]["configMap"] == {"name": "git-settings"}
    # The restart step mounts the workflow's ConfigMap only.
    restart = next(d for d in jobs if d["kind"] == "Job" and "restart" in d["metadata"]["name"])
    assert [m["mountPath"] for m in restart["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
            if m["mountPath"].startswith("/run/")] == ["/run/kubernaut/configmaps/git-settings"]
    # Never an input: no variable names or carries them.
    env = json.dumps(pod["containers"][0]["env"])
    assert "git-credentials" not in env
    run = next(d for d in tekton if d["kind"] == "PipelineRun")
    assert {"name": "secret-git-credentials", "secret": {"secretName": "git-credentials"}} in run["spec"]["workspaces"]
    task = next(d for d in tekton if d["kind"] == "Task" and d["metadata"]["name"] != "kubernaut-action")
    assert {"name": "secret-git-credentials", "description": "The secret 'git-credentials', read-only.",
            "mountPath": "/run/kubernaut/secrets/git-credentials", "readOnly": True} in task["spec"]["workspaces"]


def test_no_emitted_role_reads_secrets(tmp_path: Path) -> None:
    contracts = Path(__file__).resolve().parent / "contracts"
    (wf,) = compile_files([GOLDEN / "env-action" / "workflow.yaml"], [contracts]).workflows
    # acme/patch-config's contract asks for `get secrets`: it is left out, configmaps stay.
    for docs in (targets.jobs.compile_workflow(wf), targets.tekton.compile_workflow(wf)):
        roles = [d for d in docs if d["kind"] == "Role"]
        assert roles
        for role in roles:
            for rule in role["rules"]:
                assert "secrets" not in rule.get("resources", []) and "*" not in rule.get("resources", [])
        patch = next(r for r in roles if "patch-config" in r["metadata"]["name"])
        assert patch["rules"] == [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "patch"]}]
