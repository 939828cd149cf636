"""`kubernaut verify` and `kubernaut contract` through the real entry point, against docker-registry."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from support.oci import CONTRACT, Pusher, build_image, layer, make_key, public_pem
from support.registry import fake_registry
from typer.testing import CliRunner

from kubernaut.cli import app

REPO = "kubernaut/actions/cli"
DATA = Path(__file__).resolve().parents[1] / "data" / "cosign"


@pytest.fixture
def runner(tmp_path: Path) -> CliRunner:
    # An empty DOCKER_CONFIG: the developer's own credentials never leak into a test.
    return CliRunner(env={"DOCKER_CONFIG": str(tmp_path / "no-docker-config")})


@pytest.fixture
def signed(pusher: Pusher, tmp_path: Path) -> tuple[str, Path]:
    """A legacy-signed and bundle-signed image and the public key file."""
    key = make_key()
    digest = pusher.push_image(REPO, build_image(marker="cli-signed"))
    pusher.sign_legacy(REPO, digest, key)
    pusher.sign_bundle(REPO, digest, key)
    path = tmp_path / "cosign.pub"
    path.write_text(public_pem(key))
    return pusher.image_ref(REPO, digest), path


def test_verify_signed_image(runner: CliRunner, signed: tuple[str, Path]) -> None:
    image, key = signed
    for signature_format in ("legacy", "bundle", "any"):
        result = runner.invoke(app, ["verify", image, "--key", str(key), "--allow-http-registry",
                                     "--signature-format", signature_format])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"{image}: verified: ")
        assert result.stderr == ""


def test_verify_rejects_unsigned_and_tag_references_one_line_each(
        runner: CliRunner, signed: tuple[str, Path], pusher: Pusher) -> None:
    image, key = signed
    unsigned = pusher.image_ref(REPO, pusher.push_image(REPO, build_image(marker="cli-unsigned")))
    tag = f"{pusher.host}/{REPO}:latest"
    result = runner.invoke(app, ["verify", image, unsigned, tag, "--key", str(key), "--allow-http-registry"])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{unsigned}: rejected: ") and "is not signed" in lines[0]
    assert lines[1].startswith(f"{tag}: rejected: ") and "has no digest" in lines[1]
    assert result.stdout == f"{image}: verified: legacy cosign signature verified by key cosign.pub\n"


def test_verify_wrong_key(runner: CliRunner, signed: tuple[str, Path], tmp_path: Path) -> None:
    image, _ = signed
    other = tmp_path / "other.pub"
    other.write_text(public_pem(make_key("ed25519")))
    result = runner.invoke(app, ["verify", image, "--key", str(other), "--allow-http-registry"])
    assert result.exit_code == 1
    assert "does not verify with any trusted public key" in result.stderr


def test_verify_json_output(runner: CliRunner, signed: tuple[str, Path]) -> None:
    image, key = signed
    result = runner.invoke(app, ["verify", image, "--key", str(key), "--allow-http-registry", "-o", "json",
                                 "--signature-format", "bundle"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"image": image, "verified": True, "authority": "key cosign.pub",
                                          "reason": "cosign v3 bundle verified by key cosign.pub",
                                          "retryable": False}]


def test_verify_without_http_permission_fails_closed(runner: CliRunner, signed: tuple[str, Path]) -> None:
    image, key = signed
    result = runner.invoke(app, ["verify", image, "--key", str(key)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{image}: rejected: cannot verify")


@pytest.mark.parametrize(("arguments", "message"), [
    (["--key", "/nonexistent/cosign.pub"], "cannot read public key /nonexistent/cosign.pub"),
    ([], "nothing to trust"),
    (["--certificate-identity", "a@b.c"], "needs --certificate-oidc-issuer"),
    (["--certificate-identity", "a@b.c", "--certificate-identity-regexp", ".*",
      "--certificate-oidc-issuer", "https://x"], "not both"),
    (["--certificate-identity", "a@b.c", "--certificate-oidc-issuer", "https://x"], "needs --trusted-root"),
    (["--certificate-identity-regexp", "(", "--certificate-oidc-issuer", "https://x",
      "--trusted-root", str(DATA / "trusted_root.json")], "bad regexp"),
    (["--certificate-identity", "a@b.c", "--certificate-oidc-issuer", "https://x",
      "--trusted-root", str(DATA / "cimage" / "cosign.pub")], "unusable Sigstore trusted root"),
])
def test_usage_errors_exit_2(runner: CliRunner, arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["verify", f"ghcr.io/a/b@sha256:{'a' * 64}", *arguments])
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_key_that_is_not_a_public_key_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pub"
    bad.write_text("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    result = runner.invoke(app, ["verify", f"ghcr.io/a/b@sha256:{'a' * 64}", "--key", str(bad)])
    assert result.exit_code == 2
    assert "not a PEM public key" in result.stderr


@pytest.mark.parametrize("flag", [["--signature-format", "v2"], ["--output", "yaml"]])
def test_bad_choices_exit_2(runner: CliRunner, flag: list[str]) -> None:
    result = runner.invoke(app, ["verify", f"ghcr.io/a/b@sha256:{'a' * 64}", "--key", "x.pub", *flag])
    assert result.exit_code == 2


def test_verify_with_registry_config_credentials(runner: CliRunner, signed: tuple[str, Path], pusher: Pusher,
                                                 tmp_path: Path) -> None:
    image, key = signed
    digest = image.rsplit("@", 1)[1]
    with fake_registry(auth=("bearer", "robot", "s3cret")) as registry:
        registry.copy_from(pusher, REPO, [digest, digest.replace(":", "-") + ".sig"])
        mirrored = f"{registry.host}/{REPO}@{digest}"
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"auths": {registry.host: {"auth": base64.b64encode(b"robot:s3cret").decode()}}}))
        denied = runner.invoke(app, ["verify", mirrored, "--key", str(key), "--allow-http-registry",
                                     "--signature-format", "legacy"])
        assert denied.exit_code == 1
        result = runner.invoke(app, ["verify", mirrored, "--key", str(key), "--allow-http-registry",
                                     "--signature-format", "legacy", "--registry-config", str(config)])
        assert result.exit_code == 0, result.output


def test_registry_errors_are_reported_as_transient(runner: CliRunner, signed: tuple[str, Path]) -> None:
    _, key = signed
    with fake_registry(fail_times=1000) as registry:
        image = f"{registry.host}/{REPO}@sha256:{'b' * 64}"
        result = runner.invoke(app, ["verify", image, "--key", str(key), "--allow-http-registry"])
    assert result.exit_code == 1
    assert "HTTP 500" in result.stderr and "(transient: retry later)" in result.stderr


# ---- kubernaut contract --------------------------------------------------------------------------

def test_contract_of_a_verified_image(runner: CliRunner, signed: tuple[str, Path]) -> None:
    image, key = signed
    result = runner.invoke(app, ["contract", image, "--key", str(key), "--allow-http-registry"])
    assert result.exit_code == 0, result.output
    assert result.stdout == CONTRACT.decode()


def test_contract_of_an_unverified_image_is_not_read(runner: CliRunner, pusher: Pusher, tmp_path: Path) -> None:
    digest = pusher.push_image(REPO, build_image(marker="cli-contract-unsigned"))
    key = tmp_path / "k.pub"
    key.write_text(public_pem(make_key()))
    result = runner.invoke(app, ["contract", pusher.image_ref(REPO, digest), "--key", str(key),
                                 "--allow-http-registry"])
    assert result.exit_code == 1
    assert "rejected:" in result.stderr and "is not signed" in result.stderr
    assert result.stdout == ""


def test_contract_missing_from_a_signed_image(runner: CliRunner, pusher: Pusher, tmp_path: Path) -> None:
    signer = make_key()
    digest = pusher.push_image(REPO, build_image(layer({"action-entrypoint": b"x"}), marker="cli-no-contract"))
    pusher.sign_bundle(REPO, digest, signer)
    key = tmp_path / "k.pub"
    key.write_text(public_pem(signer))
    result = runner.invoke(app, ["contract", pusher.image_ref(REPO, digest), "--key", str(key),
                                 "--allow-http-registry"])
    assert result.exit_code == 1
    assert "the image has no /action-contract.yaml" in result.stderr


def test_contract_of_a_tag_reference(runner: CliRunner, tmp_path: Path) -> None:
    key = tmp_path / "k.pub"
    key.write_text(public_pem(make_key()))
    result = runner.invoke(app, ["contract", "ghcr.io/a/b:v1", "--key", str(key)])
    assert result.exit_code == 1 and "has no digest" in result.stderr


def test_keyless_flags_are_accepted_and_a_key_signed_image_is_not_keyless(
        runner: CliRunner, signed: tuple[str, Path]) -> None:
    image, _ = signed
    result = runner.invoke(app, ["verify", image, "--allow-http-registry", "--signature-format", "bundle",
                                 "--certificate-identity-regexp", r".*@example\.com",
                                 "--certificate-oidc-issuer", "https://accounts.google.com",
                                 "--trusted-root", str(DATA / "trusted_root.json")])
    assert result.exit_code == 1
    assert "public-key bundle, but no public key is trusted" in result.stderr


def test_contract_layers_are_not_fetched_before_verification(runner: CliRunner, pusher: Pusher,
                                                             tmp_path: Path) -> None:
    digest = pusher.push_image(REPO, build_image(marker="cli-contract-not-fetched"))
    key = tmp_path / "k.pub"
    key.write_text(public_pem(make_key()))
    with fake_registry() as registry:
        registry.copy_from(pusher, REPO, [digest])
        result = runner.invoke(app, ["contract", f"{registry.host}/{REPO}@{digest}", "--key", str(key),
                                     "--allow-http-registry"])
    assert result.exit_code == 1
    assert not any("/blobs/" in path for path in registry.requests)


def test_contract_platform_of_an_index(runner: CliRunner, pusher: Pusher, tmp_path: Path) -> None:
    signer = make_key()
    other = CONTRACT.replace(b"test/echo", b"test/arm")
    digest = pusher.push_index(REPO, {
        "linux/amd64": build_image(marker="cli-index-amd64"),
        "linux/arm64": build_image(layer({"action-contract.yaml": other}), marker="cli-index-arm64",
                                   architecture="arm64")})
    pusher.sign_legacy(REPO, digest, signer)
    key = tmp_path / "k.pub"
    key.write_text(public_pem(signer))
    base = ["contract", pusher.image_ref(REPO, digest), "--key", str(key), "--allow-http-registry"]
    assert runner.invoke(app, base).stdout == CONTRACT.decode()
    assert runner.invoke(app, [*base, "--platform", "linux/arm64"]).stdout == other.decode()
    missing = runner.invoke(app, [*base, "--platform", "windows/amd64"])
    assert missing.exit_code == 1 and "no manifest for platform windows/amd64" in missing.stderr
    assert runner.invoke(app, [*base, "--platform", "arm64"]).exit_code == 2
