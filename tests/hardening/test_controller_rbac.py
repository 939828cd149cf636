"""Issue #15, item 2: the controller's RBAC is least privilege, and says so in one checked place.

* ``LEAST_PRIVILEGE`` below is the written list of exactly what each part of the controller needs
  (group, resource, verbs). The ClusterRole shipped in deploy/controller/rbac.yaml and the one
  docs/operations.md shows are both equal to it — not a superset.
* Nothing in it can grant a permission: no ``escalate``, ``bind`` or ``impersonate``, no write of
  any RBAC object. The action types' Roles and RoleBindings are the administrator's (applied from
  ``kubernaut compile``); the in-cluster controller (``action_rbac=require``) only reads them and
  fails a workflow whose RBAC is missing at once, naming what to apply.
* Every request the controllers make while running real workflows on both engines (a workspace,
  a privileged action type, a target lock, a mounted Secret, a cancellation) is covered by the list: a new
  request without a line here fails this test, so the list cannot silently fall behind.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.driving import WorkflowDriver
from support.workflows import step, workflow
from typer.testing import CliRunner

from compiler.contracts import load_catalog
from kubernaut.actions import LOCAL_ENTRYPOINTS
from kubernaut.cli import app as cli
from reconciler.app import AppConfig, install
from reconciler.cluster.memory import MemoryCluster
from reconciler.cluster.resources import default_registry
from reconciler.engines.action_rbac import ActionRbac
from reconciler.simulation import Simulation, parse_outcomes
from reconciler.simulation.tekton import add_tekton
from reconciler.simulation.wiring import simulated_pods
from reconciler.verification import ImagePolicy

ROOT = Path(__file__).resolve().parents[2]
RBAC_FILE = ROOT / "deploy" / "controller" / "rbac.yaml"
OPERATIONS = ROOT / "docs" / "operations.md"
CONTRACTS = ROOT / "tests" / "engines_parity" / "contracts"
WORKFLOWS = [ROOT / "examples" / "gitops-pr.yaml", ROOT / "examples" / "parallel-dependent.yaml",
             ROOT / "tests" / "engines_parity" / "workflows" / "remediate.yaml"]

#: What each part of the controller needs, cluster-wide: (part, apiGroup, resource, verbs). Server-side
#: apply is a ``patch`` that may create, so applied kinds need both.
LEAST_PRIVILEGE: list[tuple[str, str, str, tuple[str, ...]]] = [
    # The WorkflowExecution controller: its finalizer (update), its status, Events (a repeat
    # raises the count of the existing one), and target locks: Leases in the *target's* namespace.
    ("workflows", "workflowexecution.kubernaut.ai", "workflowexecutions", ("get", "list", "watch", "update")),
    ("workflows", "workflowexecution.kubernaut.ai", "workflowexecutions/status", ("patch",)),
    ("workflows", "", "events", ("get", "create", "update")),
    ("workflows", "coordination.k8s.io", "leases", ("get", "create", "update")),
    # V1: ActionExecutions (created; ``spec.cancel`` set by update), a Job per attempt (deleted
    # when it outlives its timeout or is cancelled), the workspace claim and the action types'
    # accounts (applied; accounts grant nothing), the pods' termination messages, the Secrets a
    # step mounts (checked to exist), and a read of the administrator's RBAC.
    ("jobs", "actionexecution.kubernaut.ai", "actionexecutions", ("get", "list", "watch", "create", "update")),
    ("jobs", "actionexecution.kubernaut.ai", "actionexecutions/status", ("patch",)),
    ("jobs", "batch", "jobs", ("get", "list", "watch", "create", "delete")),
    ("jobs", "", "pods", ("get", "list", "watch")),
    ("jobs", "", "persistentvolumeclaims", ("get", "create", "patch", "delete")),
    ("jobs", "", "serviceaccounts", ("get", "create", "patch")),
    ("jobs", "rbac.authorization.k8s.io", "roles", ("get",)),
    ("jobs", "rbac.authorization.k8s.io", "rolebindings", ("get",)),
    # V2 (where Tekton is installed): the shared meta-Task and the workflow's Pipeline (applied),
    # its run (created; cancelled by update), its TaskRuns (read; a futile retry cancelled).
    ("tekton", "tekton.dev", "tasks", ("get", "create", "patch")),
    ("tekton", "tekton.dev", "pipelines", ("get", "create", "patch")),
    ("tekton", "tekton.dev", "pipelineruns", ("get", "list", "watch", "create", "update")),
    ("tekton", "tekton.dev", "taskruns", ("get", "list", "watch", "update")),
    # The image policy verifier: policies, and the keys, roots and pull secrets they name (read
    # by name, never listed). Secrets are also read by the engines (mounts checked to exist).
    ("images", "policy.kubernaut.ai", "clusterimagepolicies", ("get", "list", "watch")),
    ("images", "", "secrets", ("get",)),
    ("images", "", "configmaps", ("get",)),
]

#: In the controller's own namespace only (a Role): leader election, and the routing ConfigMap
#: it lists and watches.
OWN_NAMESPACE: list[tuple[str, str, tuple[str, ...]]] = [
    ("coordination.k8s.io", "leases", ("get", "create", "update")),
    ("", "configmaps", ("get", "list", "watch")),
]

Grant = tuple[str, str, str]  # (group, resource, verb)


def _grants(rules: list[dict[str, Any]]) -> set[Grant]:
    return {(group, resource, verb) for rule in rules for group in rule.get("apiGroups") or []
            for resource in rule.get("resources") or [] for verb in rule.get("verbs") or []}


def _least_privilege() -> set[Grant]:
    return {(group, resource, verb) for _, group, resource, verbs in LEAST_PRIVILEGE for verb in verbs}


def _shipped() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(RBAC_FILE.read_text()) if d]


def _cluster_role(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (role,) = [d for d in docs if d["kind"] == "ClusterRole" and d["metadata"]["name"] == "kubernaut-controller"]
    return role


def _documented() -> list[dict[str, Any]]:
    text = OPERATIONS.read_text()
    section = text[text.index("## RBAC"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "docs/operations.md has no RBAC yaml block"
    return [d for d in yaml.safe_load_all(block.group(1)) if d]


def test_the_shipped_cluster_role_is_exactly_the_least_privilege_list() -> None:
    shipped = _grants(_cluster_role(_shipped())["rules"])
    assert shipped - _least_privilege() == set(), "granted but not needed"
    assert _least_privilege() - shipped == set(), "needed but not granted"


def test_the_shipped_namespaced_role_is_exactly_what_the_own_namespace_needs() -> None:
    (role,) = [d for d in _shipped() if d["kind"] == "Role"]
    assert role["metadata"]["namespace"] == "kubernaut-system"
    assert _grants(role["rules"]) == {(g, r, v) for g, r, verbs in OWN_NAMESPACE for v in verbs}
    bound = {(d["kind"], d["roleRef"]["kind"], d["roleRef"]["name"]) for d in _shipped() if "roleRef" in d}
    assert bound == {("ClusterRoleBinding", "ClusterRole", "kubernaut-controller"),
                     ("RoleBinding", "Role", role["metadata"]["name"])}


def test_docs_operations_shows_the_shipped_rbac() -> None:
    documented, shipped = _documented(), _shipped()
    assert _grants(_cluster_role(documented)["rules"]) == _grants(_cluster_role(shipped)["rules"])
    assert [_grants(d["rules"]) for d in documented if d["kind"] == "Role"] == \
        [_grants(d["rules"]) for d in shipped if d["kind"] == "Role"]


def test_nothing_shipped_can_grant_a_permission() -> None:
    for doc in _shipped():
        for group, resource, verb in _grants(doc.get("rules") or []):
            assert verb not in ("escalate", "bind", "impersonate", "*"), (doc["metadata"]["name"], resource, verb)
            assert resource != "*" and group != "*"
            if group == "rbac.authorization.k8s.io":
                assert verb in ("get",), (resource, verb)  # read the administrator's RBAC, never write it


# -- what the controllers really ask for ---------------------------------------------------------------

_REGISTRY = default_registry()
KUBERNAUT_CONTROLLERS = ("workflowexecutions", "actionexecutions")
_VERBS = {"get": "get", "list": "list", "watch": "watch", "create": "create", "update": "update",
          "apply": "patch", "delete": "delete"}


class RecordingCluster:
    """The controllers' view of the cluster: every request recorded as (group, resource, verb)."""

    def __init__(self, inner: MemoryCluster) -> None:
        self._inner = inner
        self.requests: set[Grant] = set()

    def _record(self, api_version: str, kind: str, verb: str, subresource: str = "") -> None:
        found = _REGISTRY.find(api_version, kind)
        plural = found.plural if found is not None else kind.lower() + "s"
        self.requests.add((api_version.rpartition("/")[0], plural + subresource, verb))

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name == "patch_status":
            def patch_status(api_version: str, kind: str, *args: Any, **kwargs: Any) -> Any:
                self._record(api_version, kind, "patch", "/status")
                return attr(api_version, kind, *args, **kwargs)
            return patch_status
        if name in ("create", "update"):
            def write(obj: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
                self._record(obj["apiVersion"], obj["kind"], name)
                return attr(obj, *args, **kwargs)
            return write
        if name in ("get", "list", "watch", "delete"):
            def read(api_version: str, kind: str, *args: Any, **kwargs: Any) -> Any:
                self._record(api_version, kind, name)
                return attr(api_version, kind, *args, **kwargs)
            return read
        if name == "apply":
            def apply(obj: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
                # A server-side apply may create the object: the API server checks both verbs.
                self._record(obj["apiVersion"], obj["kind"], "patch")
                self._record(obj["apiVersion"], obj["kind"], "create")
                return attr(obj, *args, **kwargs)
            return apply
        return attr


class Admin(WorkflowDriver):
    """An embedded cluster run like the in-cluster controller (``action_rbac=require``)."""

    def __init__(self) -> None:
        self.sim = Simulation(outcomes=parse_outcomes(OUTCOMES).outcomes, entrypoints=LOCAL_ENTRYPOINTS)
        add_tekton(self.sim)
        self.cluster = self.sim.cluster
        self.manager = self.sim.manager
        self.recording = RecordingCluster(self.cluster)
        catalog, problems = load_catalog([CONTRACTS])
        assert not problems
        install(self.manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods, catalog=catalog,
                                        action_rbac=ActionRbac.REQUIRE), cluster=self.recording)  # type: ignore[arg-type]

    def watched(self) -> set[Grant]:
        """What kubernaut's controllers list and watch (their informers use the manager's cluster)."""
        grants: set[Grant] = set()
        for controller in self.manager.controllers:
            if controller.name not in KUBERNAUT_CONTROLLERS:
                continue  # the simulated kubelet, job and Tekton controllers
            for spec in controller.watches:
                found = _REGISTRY.find(spec.api_version, spec.kind)
                plural = found.plural if found is not None else spec.kind.lower() + "s"
                grants |= {(spec.api_version.rpartition("/")[0], plural, verb) for verb in ("list", "watch")}
        return grants

    def apply_compiled_rbac(self, path: Path) -> list[str]:
        """What the administrator does: apply the Roles and RoleBindings of ``kubernaut compile``."""
        result = CliRunner().invoke(cli, ["compile", str(path), "--contracts", str(CONTRACTS)])
        assert result.exit_code == 0, result.stderr
        applied = []
        for doc in yaml.safe_load_all(result.stdout):
            if doc and doc["kind"] in ("Role", "RoleBinding"):
                self.cluster.create(doc)
                applied.append(f"{doc['kind']}/{doc['metadata']['name']}")
        return applied


def _workflow(path: Path, engine: str) -> dict[str, Any]:
    (doc,) = [d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == "WorkflowExecution"]
    doc = copy.deepcopy(doc)
    doc["spec"]["engine"] = engine
    return doc


def _documents(engine: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in WORKFLOWS:
        yield path, _workflow(path, engine)


def _others(path: Path) -> list[dict[str, Any]]:
    """What the file holds besides the workflow (a Secret it mounts)."""
    return [d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] != "WorkflowExecution"]


#: Outputs for the steps whose actions do not run here (their images are not pulled).
OUTCOMES = """
steps:
  scale-deployment: [{outputs: {previousReplicas: 3}}]
  git-commit: [{outputs: {commitSHA: abc123}}]
  fix: [{outputs: {target: payments}}]
  long: [{duration: 30m}]
"""


@pytest.mark.parametrize("engine", ["jobs", "tekton"])
def test_every_request_of_the_controllers_is_in_the_least_privilege_list(engine: str) -> None:
    h = Admin()
    privileged = []
    for path, doc in _documents(engine):
        privileged += h.apply_compiled_rbac(path)
        for other in _others(path):
            h.create(other)
        h.create(doc)
    assert privileged, "no workflow here exercises an action type with permissions"
    # And one that is cancelled while its step runs (V1 deletes the Job, V2 updates the run).
    h.create(workflow("cancelled", step("long"), spec=f"engine: {engine}"))
    assert h.manager.run_until(lambda: h.steps("cancelled").get("long") == ("Running", 1))
    cancelled = copy.deepcopy(h.wfe("cancelled"))
    cancelled["spec"]["cancel"] = True
    h.cluster.update(cancelled)
    assert h.run()
    phases = {w["metadata"]["name"]: (w["status"]["phase"], w["status"].get("message"))
              for w in h.cluster.objects("WorkflowExecution")}
    assert phases.pop("cancelled")[0] == "Cancelled"
    assert {phase for phase, _ in phases.values()} == {"Succeeded"}, phases
    assert h.watched(), "the controllers' watches were not found"
    unlisted = (h.recording.requests | h.watched()) - _least_privilege()
    assert unlisted == set(), f"the controllers made requests the least-privilege list lacks: {sorted(unlisted)}"
    # It never wrote RBAC: the administrator's objects are the only ones.
    written = {(g, r, v) for g, r, v in h.recording.requests if g == "rbac.authorization.k8s.io" and v != "get"}
    assert written == set()


@pytest.mark.parametrize("engine", ["jobs", "tekton"])
def test_without_the_administrators_rbac_the_workflow_fails_at_once_saying_what_to_apply(engine: str) -> None:
    h = Admin()
    doc = _workflow(ROOT / "examples" / "single-action.yaml", engine)
    h.create(doc)
    assert h.run()
    status = h.wfe(doc["metadata"]["name"], "production")["status"]
    assert status["phase"] == "Failed"
    assert status["failureDetails"]["reason"] == "DependencyMissing"
    message = status["failureDetails"]["message"]
    assert re.search(r"Role production/kubernaut-kubernetes-scale-deployment-[0-9a-f]{12} is missing", message)
    assert "kubernaut compile" in message
    assert not h.cluster.objects("Role") and not h.cluster.objects("RoleBinding")
    assert not h.cluster.objects("Job") and not h.cluster.objects("PipelineRun")


def test_a_role_that_grants_less_than_the_contract_is_refused() -> None:
    h = Admin()
    path = ROOT / "examples" / "single-action.yaml"
    h.apply_compiled_rbac(path)
    (installed,) = h.cluster.objects("Role")
    role = h.cluster.get("rbac.authorization.k8s.io/v1", "Role", installed["metadata"]["name"], "production")
    role["rules"] = [r for r in role["rules"] if "deployments/scale" not in r["resources"]]
    h.cluster.update(role)
    h.create(yaml.safe_load(path.read_text()))
    assert h.run()
    (wfe,) = h.cluster.objects("WorkflowExecution")
    assert wfe["status"]["failureDetails"]["reason"] == "DependencyMissing"
    assert "does not grant" in wfe["status"]["failureDetails"]["message"]


def test_in_apply_mode_the_rbac_lands_only_in_the_workflows_namespace() -> None:
    """``kubernaut run``'s embedded cluster (``apply``): the engine writes the action RBAC itself,
    and only where the workflow runs."""
    sim = Simulation(entrypoints=LOCAL_ENTRYPOINTS)
    install(sim.manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods))
    doc = _workflow(ROOT / "examples" / "single-action.yaml", "jobs")
    doc["metadata"]["namespace"] = "team-a"
    sim.cluster.create(doc)
    assert sim.run_until(lambda: (sim.cluster.objects("WorkflowExecution")[0].get("status") or {}).get("phase")
                         == "Succeeded", 3600)
    placed = {(kind, o["metadata"]["namespace"]) for kind in ("Role", "RoleBinding", "ServiceAccount")
              for o in sim.cluster.objects(kind)}
    assert placed == {("Role", "team-a"), ("RoleBinding", "team-a"), ("ServiceAccount", "team-a")}
