"""The command line through the controller's policy verifier: ``kubernaut run --verify`` with
cosign's trust flags (images pushed and signed in the real local registry)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from support.oci import build_image, layer, make_key, public_pem
from support.registry import RunningRegistry
from support.signed_images import SignedImages
from typer.testing import CliRunner

from kubernaut.cli.app import app
from reconciler.supplychain.authority import KeyAuthority, KeylessAuthority
from reconciler.supplychain.policy import parse_policy
from reconciler.supplychain.policy_local import FLAGS_POLICY, flag_policy_objects


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def workflow_file(tmp_path: Path, image: str, name: str = "verified") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"""apiVersion: workflowexecution.kubernaut.ai/v1alpha1
kind: WorkflowExecution
metadata: {{name: {name}}}
spec:
  steps:
    - name: hello
      actionType: kubernaut/echo
      image: {image}
      inputs: {{message: hi}}
""")
    return path


def key_file(tmp_path: Path, images: SignedImages) -> Path:
    path = tmp_path / "cosign.pub"
    path.write_text(public_pem(images.key))
    return path


def test_run_verify_runs_a_signed_image(registry: RunningRegistry, tmp_path: Path) -> None:
    images = SignedImages(registry.host)
    result = cli("run", str(workflow_file(tmp_path, images.image())), "--verify", "--key",
                 str(key_file(tmp_path, images)), "--allow-http-registry", "--output", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["status"]["phase"] == "Succeeded"


def test_run_verify_refuses_an_unsigned_image(registry: RunningRegistry, tmp_path: Path) -> None:
    images = SignedImages(registry.host)
    image = images.image(signed=False)
    result = cli("run", str(workflow_file(tmp_path, image)), "--verify", "--key", str(key_file(tmp_path, images)),
                 "--allow-http-registry", "--output", "json")
    assert result.exit_code == 1
    status = json.loads(result.stdout)["status"]
    step = status["steps"][0]
    assert (step["phase"], step["failure"]["reason"]) == ("Failed", "SignatureVerificationFailed")
    assert step["message"].startswith(f"image verification failed for {image}: policy {FLAGS_POLICY}: ")


def test_run_verify_with_another_key_refuses(registry: RunningRegistry, tmp_path: Path) -> None:
    images = SignedImages(registry.host)
    other = tmp_path / "other.pub"
    other.write_text(public_pem(make_key()))
    result = cli("run", str(workflow_file(tmp_path, images.image())), "--verify", "--key", str(other),
                 "--allow-http-registry", "--output", "json")
    assert result.exit_code == 1


def test_run_without_verify_still_skips(registry: RunningRegistry, tmp_path: Path) -> None:
    images = SignedImages(registry.host)
    result = cli("run", str(workflow_file(tmp_path, images.image(signed=False))), "--output", "json")
    assert result.exit_code == 0


def test_trust_flags_need_verify_and_verify_needs_trust(tmp_path: Path) -> None:
    wf = workflow_file(tmp_path, "ghcr.io/kubernaut/actions/echo@sha256:" + "a" * 64)
    key = tmp_path / "k.pub"
    key.write_text(public_pem(make_key()))
    without_verify = cli("run", str(wf), "--key", str(key))
    assert without_verify.exit_code == 2 and "only with --verify" in without_verify.stderr
    without_trust = cli("run", str(wf), "--verify")
    assert without_trust.exit_code == 2 and "nothing to trust" in without_trust.stderr


def test_flags_become_one_policy_for_every_image() -> None:
    objects = flag_policy_objects(
        [KeyAuthority("key a.pub", ("PEM-A", "PEM-B")),
         KeylessAuthority("keyless", "me@example.com", None, None, "https://.*", '{"root": 1}')],
        "bundle", allow_http=True, namespace="kubernaut-system")
    root, policy = objects
    assert root["kind"] == "ConfigMap" and root["data"] == {"trusted_root.json": '{"root": 1}'}
    loaded = parse_policy(policy)
    assert loaded.error is None and loaded.globs == ("**",)
    assert loaded.spec is not None and loaded.spec.signatureFormat == "bundle" and loaded.spec.allowHttpRegistry
    assert [a.name for a in loaded.spec.authorities] == ["flag-1-1", "flag-1-2", "flag-2"]




# -- validate / compile --contracts-from-registry ----------------------------------------------------

TYPED = b"""apiVersion: kubernaut.ai/v1alpha1
kind: ActionContract
metadata: {name: kubernaut/echo}
spec:
  inputs:
    - {name: message, type: integer, required: true}
"""


def two_steps(tmp_path: Path, first: str, second: str) -> Path:
    path = tmp_path / "two.yaml"
    path.write_text(f"""apiVersion: workflowexecution.kubernaut.ai/v1alpha1
kind: WorkflowExecution
metadata: {{name: two}}
spec:
  steps:
    - name: a
      actionType: kubernaut/echo
      image: {first}
      inputs: {{message: hi}}
    - name: b
      actionType: kubernaut/echo
      image: {second}
      inputs: {{message: hi}}
""")
    return path


def registry_args(tmp_path: Path, images: SignedImages) -> list[str]:
    return ["--contracts-from-registry", "--key", str(key_file(tmp_path, images)), "--allow-http-registry"]


def test_validate_uses_the_verified_contract_of_each_image(registry: RunningRegistry, tmp_path: Path) -> None:
    images = SignedImages(registry.host)
    typed = images.image(contract=TYPED)
    wf = workflow_file(tmp_path, typed)
    # The catalog's echo contract accepts anything; the image's own contract wants an integer.
    assert cli("validate", str(wf)).exit_code == 0
    result = cli("validate", str(wf), *registry_args(tmp_path, images))
    assert result.exit_code == 1
    assert f"{wf}:9:25: error[KN041]: input 'message' of 'kubernaut/echo' must be integer, not string" in result.stderr


def test_an_unsigned_image_is_a_located_error_on_its_image_line(registry: RunningRegistry, tmp_path: Path) -> None:
    images = SignedImages(registry.host)
    signed, unsigned = images.image(), images.image(signed=False)
    wf = two_steps(tmp_path, signed, unsigned)
    result = cli("validate", str(wf), *registry_args(tmp_path, images))
    assert result.exit_code == 1
    assert f"{wf}:12:14: error[KN090]: the contract of {unsigned} cannot be used: policy {FLAGS_POLICY}: " \
        in result.stderr
    assert result.stderr.count("error[KN090]") == 1


def test_an_image_without_a_contract_or_of_another_type(registry: RunningRegistry, tmp_path: Path) -> None:
    images = SignedImages(registry.host)
    other = images.image(contract=TYPED.replace(b"kubernaut/echo", b"git/clone"))
    bare = images.pusher.push_image("kubernaut/actions/bare", build_image(layer({"action-entrypoint": b"x"}),
                                                                         marker=public_pem(images.key)))
    images.pusher.sign_legacy("kubernaut/actions/bare", bare, images.key)
    no_contract = images.pusher.image_ref("kubernaut/actions/bare", bare)
    wf = two_steps(tmp_path, other, no_contract)
    result = cli("compile", str(wf), *registry_args(tmp_path, images))
    assert result.exit_code == 1 and result.stdout == ""
    assert f"{wf}:8:14: error[KN090]: image {other} implements 'git/clone', not 'kubernaut/echo'" in result.stderr
    assert f"{wf}:12:14: error[KN090]: image {no_contract} has no /action-contract.yaml" in result.stderr


def test_compile_with_registry_contracts(registry: RunningRegistry, tmp_path: Path) -> None:
    images = SignedImages(registry.host)
    wf = workflow_file(tmp_path, images.image())
    result = cli("compile", str(wf), *registry_args(tmp_path, images))
    assert result.exit_code == 0, result.stderr
    assert "kind: ActionExecution" in result.stdout


def test_registry_trust_flags_need_the_registry_switch(tmp_path: Path) -> None:
    wf = workflow_file(tmp_path, "ghcr.io/kubernaut/actions/echo@sha256:" + "a" * 64)
    key = tmp_path / "k.pub"
    key.write_text(public_pem(make_key()))
    result = cli("validate", str(wf), "--key", str(key))
    assert result.exit_code == 2 and "only with --contracts-from-registry" in result.stderr
    assert cli("validate", str(wf), "--contracts-from-registry").exit_code == 2


# -- verify --policy --------------------------------------------------------------------------------


def policy_file(tmp_path: Path, images: SignedImages, **spec: Any) -> Path:
    path = tmp_path / "policy.yaml"
    policy = images.policy(**spec)
    policy["spec"]["authorities"] = [{"name": "release", "key": {"secretRef": {"name": "release-keys"}}}]
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "release-keys"},
              "stringData": {"cosign.pub": public_pem(images.key)}}
    path.write_text(yaml.safe_dump_all([secret, policy]))
    return path


def test_verify_with_a_policy_file_as_the_controller_would(registry: RunningRegistry, tmp_path: Path) -> None:
    images = SignedImages(registry.host)
    signed, unsigned = images.image(), images.image(signed=False)
    path = policy_file(tmp_path, images)
    result = cli("verify", signed, unsigned, "--policy", str(path), "--allow-http-registry")
    assert result.exit_code == 1
    assert result.stdout == f"{signed}: verified: verified by policy actions (authority release)\n"
    assert result.stderr.startswith(f"{unsigned}: rejected: policy actions: ")


def test_verify_with_a_policy_that_matches_nothing_denies(registry: RunningRegistry, tmp_path: Path) -> None:
    images = SignedImages(registry.host)
    path = policy_file(tmp_path, images, glob="elsewhere.example/**")
    image = images.image()
    result = cli("verify", image, "--policy", str(path), "--allow-http-registry")
    assert result.exit_code == 1
    assert "no ClusterImagePolicy matches" in result.stderr


def test_verify_policy_and_trust_flags_must_both_pass(registry: RunningRegistry, tmp_path: Path) -> None:
    images = SignedImages(registry.host)
    other = tmp_path / "other.pub"
    other.write_text(public_pem(make_key()))
    result = cli("verify", images.image(), "--policy", str(policy_file(tmp_path, images)), "--key", str(other),
                 "--allow-http-registry")
    assert result.exit_code == 1 and f"policy {FLAGS_POLICY}:" in result.stderr


def test_a_bad_policy_file_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n")
    result = cli("verify", "registry.example/x@sha256:" + "a" * 64, "--policy", str(path))
    assert result.exit_code == 1
    assert f"{path}:2:7: error[KN004]: expected apiVersion 'policy.kubernaut.ai/v1alpha1' and kind " \
           "'ClusterImagePolicy' or a Secret or ConfigMap" in result.stderr
