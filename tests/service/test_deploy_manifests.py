"""deploy/: every object passes the strict Kubernetes schema, the controller pod is restricted,
its image is the one the Tekton helper steps use, its flags exist, and kustomize lists it all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml
from support.kube_schema import validate_kube
from support.pss import check_restricted

from kubernaut.cli import app
from reconciler.routing import parse_policy
from targets.release import HELPER_IMAGE, IMAGE_NAME

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def controller_objects() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "controller").glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def test_every_object_passes_the_strict_schema() -> None:
    docs = controller_objects()
    assert {d["kind"] for d in docs} >= {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                         "Role", "RoleBinding", "ConfigMap", "Deployment"}
    for doc in docs:
        assert validate_kube(doc) == [], (doc["kind"], doc["metadata"]["name"])


def test_controller_pod_is_restricted_and_uses_the_release_image() -> None:
    (deployment,) = [d for d in controller_objects() if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    assert check_restricted(pod) == []
    # The name; the kustomization pins it to the released digest (tests/release checks the override).
    assert [c["image"] for c in pod["containers"]] == [IMAGE_NAME]
    (entry,) = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())["images"]
    assert entry["name"] == IMAGE_NAME and f"{entry['newName']}@{entry['digest']}" == HELPER_IMAGE


def test_deployment_flags_are_accepted_by_kubernaut_controller() -> None:
    (deployment,) = [d for d in controller_objects() if d["kind"] == "Deployment"]
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[0] == "controller"
    group = typer.main.get_command(app)
    command = group.commands["controller"]  # type: ignore[attr-defined]
    context = command.make_context("controller", list(args[1:]))  # raises on an unknown flag
    assert context.params["config_namespace"] == "kubernaut-system"
    assert context.params["metrics_port"] == 9090


def test_routing_configmap_holds_a_valid_policy() -> None:
    (config,) = [d for d in controller_objects() if d["kind"] == "ConfigMap"]
    loaded = parse_policy("configmap", config["data"]["routing.yaml"].encode())
    assert loaded.ok, loaded.render()
    assert loaded.policy is not None and loaded.policy.defaultEngine == "jobs"


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    listed = {DEPLOY / r for r in kustomization["resources"]}
    expected = set((DEPLOY / "controller").glob("*.yaml")) | set((DEPLOY / "crds").glob("*.yaml"))
    assert listed == expected
