"""``kubernaut policy export``: kubernaut's ClusterImagePolicies as sigstore policy-controller's,
validated against that project's CRD schema (vendored in tests/data/policy-controller)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from compiler.policy import ClusterImagePolicy
from kubernaut.cli.app import app
from reconciler.supplychain.policy_export import SIGSTORE_POLICY_API_VERSION, to_policy_controller

ROOT = Path(__file__).resolve().parents[2]
CRD = ROOT / "tests" / "data" / "policy-controller" / "300-clusterimagepolicy.yaml"
EXAMPLE = ROOT / "examples" / "policies" / "kubernaut-actions.yaml"
KEY = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _strict(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
        if "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


@functools.cache
def _validator() -> jsonschema.Draft7Validator:
    crd = yaml.safe_load(CRD.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == SIGSTORE_POLICY_API_VERSION.rpartition("/")[2]]
    schema = _strict(version["schema"]["openAPIV3Schema"])
    # The API server adds the object's own fields to every CRD schema.
    schema["properties"] = {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                            "metadata": {"type": "object"}, **schema["properties"]}
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def schema_errors(doc: dict[str, Any]) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator().iter_errors(doc)]


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["policy", "export", *args], catch_exceptions=False)


def test_the_strict_schema_rejects_what_policy_controller_would() -> None:
    assert schema_errors({"apiVersion": SIGSTORE_POLICY_API_VERSION, "kind": "ClusterImagePolicy",
                          "spec": {"images": [{"glob": "*"}], "authorities": [{"name": "a", "keys": {}}]}})


def test_the_example_policies_export_and_validate() -> None:
    result = run(str(EXAMPLE))
    assert result.exit_code == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    assert [d["metadata"]["name"] for d in docs] == ["kubernaut-actions", "ci-built"]
    for doc in docs:
        assert schema_errors(doc) == []
    actions, ci = docs
    # signatureFormat any: one authority per cosign format (any one authority suffices in both tools).
    assert [(a["name"], a["signatureFormat"]) for a in actions["spec"]["authorities"]] == [
        ("release-legacy", "legacy"), ("release-bundle", "bundle"),
        ("rotation-legacy", "legacy"), ("rotation-bundle", "bundle")]
    assert actions["spec"]["authorities"][2]["key"] == {"secretRef": {"name": "kubernaut-release-keys"},
                                                        "hashAlgorithm": "sha256"}
    assert ci["spec"]["mode"] == "warn"
    assert ci["spec"]["authorities"] == [{
        "name": "github-actions",
        "keyless": {"identities": [{
            "subjectRegExp": r"^https://github\.com/example/remediation/\.github/workflows/release\.yml@refs/tags/v.*$",
            "issuer": "https://token.actions.githubusercontent.com"}],
            "trustRootRef": "sigstore-trusted-root"},
        "signatureFormat": "bundle"}]
    assert "create TrustRoot sigstore-trusted-root from the trusted root in ConfigMap sigstore-trusted-root" \
        in result.stderr


def test_export_is_deterministic() -> None:
    assert run(str(EXAMPLE)).stdout == run(str(EXAMPLE)).stdout


@pytest.mark.parametrize(("spec", "note"), [
    ({"allowHttpRegistry": True}, "allowHttpRegistry has no per-policy equivalent"),
    ({"images": [{"glob": "docker.io/library/*"}]}, "rewritten to index.docker.io"),
    ({"authorities": [{"name": "k", "key": {"secretRef": {"name": "keys", "key": "a.pub"}}}]},
     "uses the whole Secret as the key"),
])
def test_differences_are_notes_not_silent_drops(spec: dict[str, Any], note: str) -> None:
    base = {"images": [{"glob": "registry.example/**"}], "authorities": [{"name": "k", "key": {"data": KEY}}]}
    loaded = ClusterImagePolicy.model_validate({"metadata": {"name": "p"}, "spec": {**base, **spec}})
    exported = to_policy_controller("p", loaded.spec)
    assert any(note in n for n in exported.notes), exported.notes
    assert schema_errors(exported.manifest) == []


def test_docker_hub_globs_use_policy_controllers_name() -> None:
    loaded = ClusterImagePolicy.model_validate({"metadata": {"name": "p"}, "spec": {
        "images": [{"glob": "docker.io/library/*"}], "authorities": [{"name": "k", "key": {"data": KEY}}],
        "signatureFormat": "legacy"}})
    manifest = to_policy_controller("p", loaded.spec).manifest
    assert manifest["spec"]["images"] == [{"glob": "index.docker.io/library/*"}]
    assert [a["name"] for a in manifest["spec"]["authorities"]] == ["k"]


def test_an_invalid_policy_is_a_located_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: policy.kubernaut.ai/v1alpha1\nkind: ClusterImagePolicy\nmetadata: {name: p}\n"
                   "spec:\n  images: [{glob: '**'}]\n  authorities:\n    - name: k\n      kee: {data: x}\n"
                   "  mode: block\n")
    result = run(str(bad))
    assert result.exit_code == 1 and result.stdout == ""
    assert f"{bad}:8:7: error[KN005]: unknown field 'kee' in spec.authorities.0" in result.stderr
    assert f"{bad}:9:9: error[KN007]: spec.mode: Input should be 'enforce' or 'warn'" in result.stderr


def test_a_workflow_is_not_a_policy(tmp_path: Path) -> None:
    other = tmp_path / "wf.yaml"
    other.write_text("apiVersion: workflowexecution.kubernaut.ai/v1alpha1\nkind: WorkflowExecution\n")
    result = run(str(other))
    assert result.exit_code == 1 and "error[KN004]: expected apiVersion 'policy.kubernaut.ai/v1alpha1'" in result.stderr


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run(str(tmp_path / "absent.yaml"))
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_the_example_policies_fit_kubernauts_own_crd() -> None:
    from targets.crds import cluster_image_policy_crd

    schema = _strict(cluster_image_policy_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    validator = jsonschema.Draft7Validator(schema)
    for doc in yaml.safe_load_all(EXAMPLE.read_text()):
        assert [e.message for e in validator.iter_errors(doc)] == []
        assert ClusterImagePolicy.model_validate(doc).spec.authorities
