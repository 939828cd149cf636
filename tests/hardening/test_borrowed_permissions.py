"""Issue 15, item 3: an image cannot borrow an action type's permissions.

The account (and its Role) of an action type is named after the action type *and* the image
digest the workflow was compiled with; once the image is verified, a step whose image's signed
contract is for another action type, or declares other permissions than the Role grants, fails with
``PermissionsNotDeclared`` (status and Event) before anything of it runs — on both engines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from support.driving import WorkflowDriver
from support.verifiers import FakeVerifier

from kubernaut.actions import LOCAL_ENTRYPOINTS
from reconciler.app import AppConfig, install
from reconciler.engines.action_rbac import ActionRbac
from reconciler.simulation import Simulation, parse_outcomes
from reconciler.simulation.tekton import add_tekton
from reconciler.simulation.wiring import simulated_pods
from reconciler.verification import ImagePolicy
from targets.common.accounts import action_service_account

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "single-action.yaml"  # kubernetes/scale_deployment in `production`
OUTCOMES = "steps:\n  scale-deployment: [{outputs: {previousReplicas: 3}}]\n"

SCALE_PERMISSIONS = """
  permissions:
    - {apiGroups: [apps], resources: [deployments], verbs: [get]}
    - {apiGroups: [apps], resources: [deployments/scale], verbs: [get, update, patch]}
"""


def _contract(action_type: str, permissions: str) -> bytes:
    return (f"apiVersion: kubernaut.ai/v1alpha1\nkind: ActionContract\nmetadata: {{name: {action_type}}}\n"
            f"spec:\n  inputs:\n    - {{name: deployment, type: string}}\n    - {{name: replicas, type: integer}}\n"
            f"  outputs:\n    - {{name: previousReplicas, type: integer}}\n{permissions}").encode()


class Cluster(WorkflowDriver):
    def __init__(self, contract: bytes | None, action_rbac: ActionRbac = ActionRbac.APPLY) -> None:
        self.sim = Simulation(outcomes=parse_outcomes(OUTCOMES).outcomes, entrypoints=LOCAL_ENTRYPOINTS)
        add_tekton(self.sim)
        self.cluster = self.sim.cluster
        self.manager = self.sim.manager
        doc = self.document("jobs")
        image = doc["spec"]["steps"][0]["image"]
        verifier = FakeVerifier(contracts={image: contract} if contract is not None else {})
        install(self.manager, AppConfig(image_policy=ImagePolicy("verify", verifier), pod_lookup=simulated_pods,
                                        action_rbac=action_rbac))

    @staticmethod
    def document(engine: str) -> dict[str, Any]:
        doc: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
        doc["spec"]["engine"] = engine
        return doc

    def run_example(self, engine: str) -> dict[str, Any]:
        doc = self.document(engine)
        self.create(doc)
        assert self.run()
        return self.wfe(doc["metadata"]["name"], "production")


def _refused(h: Cluster, wfe: dict[str, Any], words: str) -> None:
    status = wfe["status"]
    assert status["phase"] == "Failed"
    step = status["steps"][0] if isinstance(status["steps"], list) else status["steps"]["scale-deployment"]
    assert step["failure"]["reason"] == "PermissionsNotDeclared"
    assert words in step["failure"]["message"]
    events = [e for e in h.cluster.objects("Event") if e.get("reason") == "PermissionsNotDeclared"]
    assert events and words in events[0]["message"]
    assert not h.cluster.objects("Job") and not h.cluster.objects("PipelineRun")


@pytest.mark.parametrize("engine", ["jobs", "tekton"])
def test_an_image_of_another_action_type_does_not_get_the_role(engine: str) -> None:
    h = Cluster(_contract("git/clone", ""))
    _refused(h, h.run_example(engine), "is for action type 'git/clone', not 'kubernetes/scale_deployment'")


@pytest.mark.parametrize("engine", ["jobs", "tekton"])
def test_an_image_declaring_less_than_the_role_grants_does_not_get_it(engine: str) -> None:
    declares_less = "  permissions:\n    - {apiGroups: [apps], resources: [deployments], verbs: [get]}\n"
    h = Cluster(_contract("kubernetes/scale_deployment", declares_less))
    _refused(h, h.run_example(engine), "which the signed contract of")


@pytest.mark.parametrize("engine", ["jobs", "tekton"])
def test_an_image_declaring_other_permissions_does_not_get_the_role(engine: str) -> None:
    # More than compiled: the Role was reviewed for other permissions than the image says it needs.
    declares_more = SCALE_PERMISSIONS + "    - {apiGroups: [apps], resources: [deployments], verbs: [delete]}\n"
    h = Cluster(_contract("kubernetes/scale_deployment", declares_more))
    _refused(h, h.run_example(engine), "which the Role")


@pytest.mark.parametrize("engine", ["jobs", "tekton"])
@pytest.mark.parametrize("contract", [_contract("kubernetes/scale_deployment", SCALE_PERMISSIONS), None],
                         ids=["declared", "no-signed-contract"])
def test_an_image_declaring_the_permissions_runs_under_the_account_of_its_digest(engine: str,
                                                                               contract: bytes | None) -> None:
    h = Cluster(contract)
    assert h.run_example(engine)["status"]["phase"] == "Succeeded"
    image = Cluster.document(engine)["spec"]["steps"][0]["image"]
    account = action_service_account("kubernetes/scale_deployment", image)
    (role,) = h.cluster.objects("Role")
    assert role["metadata"]["name"] == account
    assert role["metadata"]["annotations"]["kubernaut.ai/image-digest"] == image.rpartition("@")[2]


@pytest.mark.parametrize("engine", ["jobs", "tekton"])
def test_an_installed_role_granting_more_than_the_signed_contract_is_refused_on_both_engines(engine: str) -> None:
    # In the cluster the administrator applies the action RBAC (`require`). Their Role under the
    # image's account grants more than the signed contract declares (and more than was compiled):
    # neither engine hands it to the image. V2 judged only the compiled Role before, so the same
    # step was refused on V1 and ran on V2.
    h = Cluster(_contract("kubernetes/scale_deployment", SCALE_PERMISSIONS), ActionRbac.REQUIRE)
    image = Cluster.document(engine)["spec"]["steps"][0]["image"]
    account = action_service_account("kubernetes/scale_deployment", image)
    rules = [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]},
             {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["get", "update", "patch"]},
             {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
    rbac = "rbac.authorization.k8s.io/v1"
    h.cluster.create({"apiVersion": rbac, "kind": "Role", "metadata": {"name": account, "namespace": "production"},
                      "rules": rules})
    h.cluster.create({"apiVersion": rbac, "kind": "RoleBinding",
                      "metadata": {"name": account, "namespace": "production"},
                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account},
                      "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": "production"}]})
    _refused(h, h.run_example(engine), "which the signed contract of")
