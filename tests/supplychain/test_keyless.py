"""Keyless cosign v3 signatures end to end: a private Sigstore instance signs, sigstore-python verifies."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.oci import Pusher, build_image, make_key, public_pem, sign_statement
from support.sigstore_local import LocalSigstore
from typer.testing import CliRunner

from kubernaut.cli import app
from reconciler.supplychain import (
    Authority,
    ImageReference,
    KeyAuthority,
    KeylessAuthority,
    RegistryClient,
    parse_reference,
    verify_image,
)

REPO = "kubernaut/actions/keyless"
IDENTITY = "https://github.com/acme/actions/.github/workflows/release.yml@refs/tags/v1.2.0"
ISSUER = "https://token.actions.githubusercontent.com"


@pytest.fixture(scope="module")
def sigstore() -> LocalSigstore:
    return LocalSigstore()


def _signed(pusher: Pusher, sigstore: LocalSigstore, marker: str, identity: str = IDENTITY,
            issuer: str = ISSUER) -> ImageReference:
    digest = pusher.push_image(REPO, build_image(marker=marker))
    bundle = sigstore.sign_dsse(sign_statement(digest, f"{pusher.host}/{REPO}"), identity, issuer)
    pusher.push_bundle(REPO, digest, bundle)
    return parse_reference(pusher.image_ref(REPO, digest))


def _authority(sigstore: LocalSigstore, subject: str | None = IDENTITY, issuer: str | None = ISSUER,
               subject_regexp: str | None = None, issuer_regexp: str | None = None) -> KeylessAuthority:
    return KeylessAuthority("release workflow", subject, subject_regexp, issuer, issuer_regexp,
                            sigstore.trusted_root_json())


def test_keyless_bundle_verifies(pusher: Pusher, client: RegistryClient, sigstore: LocalSigstore) -> None:
    ref = _signed(pusher, sigstore, "keyless-ok")
    check = verify_image(ref, [_authority(sigstore)], "bundle", client)
    assert check.ok, check.reason
    assert check.reason == "cosign v3 bundle verified by release workflow"
    assert verify_image(ref, [_authority(sigstore)], "any", client).ok
    assert not verify_image(ref, [_authority(sigstore)], "legacy", client).ok


def test_keyless_regexp_identity_and_issuer(pusher: Pusher, client: RegistryClient, sigstore: LocalSigstore) -> None:
    ref = _signed(pusher, sigstore, "keyless-regexp")
    authority = _authority(sigstore, None, None, r"https://github\.com/acme/actions/\.github/workflows/.*",
                           r"https://token\.actions\.githubusercontent\.com")
    assert verify_image(ref, [authority], "bundle", client).ok
    # The regexp must match the whole identity, not a prefix of it.
    prefix = _authority(sigstore, None, ISSUER, r"https://github\.com/acme", None)
    check = verify_image(ref, [prefix], "bundle", client)
    assert not check.ok and "is not the trusted identity" in check.reason


@pytest.mark.parametrize(("subject", "issuer", "reason"), [
    ("https://github.com/evil/actions/.github/workflows/release.yml@refs/tags/v1.2.0", ISSUER,
     "is not the trusted identity"),
    (IDENTITY, "https://accounts.google.com", "is not the trusted issuer"),
])
def test_wrong_keyless_identity_or_issuer(pusher: Pusher, client: RegistryClient, sigstore: LocalSigstore,
                                          subject: str, issuer: str, reason: str) -> None:
    ref = _signed(pusher, sigstore, f"keyless-wrong-{reason}")
    check = verify_image(ref, [_authority(sigstore, subject, issuer)], "bundle", client)
    assert not check.ok and not check.retryable
    assert "keyless bundle rejected" in check.reason and reason in check.reason


def test_another_trusted_root_is_not_trusted(pusher: Pusher, client: RegistryClient, sigstore: LocalSigstore) -> None:
    ref = _signed(pusher, sigstore, "keyless-other-root")
    check = verify_image(ref, [_authority(LocalSigstore())], "bundle", client)
    assert not check.ok and "keyless bundle rejected" in check.reason


def test_keyless_signature_for_another_digest(pusher: Pusher, client: RegistryClient, sigstore: LocalSigstore) -> None:
    other = pusher.push_image(REPO, build_image(marker="keyless-other"))
    digest = pusher.push_image(REPO, build_image(marker="keyless-copied"))
    pusher.push_bundle(REPO, digest, sigstore.sign_dsse(sign_statement(other, REPO), IDENTITY, ISSUER))
    check = verify_image(parse_reference(pusher.image_ref(REPO, digest)), [_authority(sigstore)], "bundle", client)
    assert not check.ok and f"signed statement is for {other}, not {digest}" in check.reason


def test_key_and_keyless_authorities_together(pusher: Pusher, client: RegistryClient, sigstore: LocalSigstore) -> None:
    ref = _signed(pusher, sigstore, "keyless-mixed")
    authorities: list[Authority] = [KeyAuthority("old key", (public_pem(make_key()),)), _authority(sigstore)]
    check = verify_image(ref, authorities, "any", client)
    assert check.ok and check.authority == "release workflow"


def test_cli_keyless(pusher: Pusher, sigstore: LocalSigstore, tmp_path: Path) -> None:
    ref = _signed(pusher, sigstore, "keyless-cli", identity="release@acme.example")
    root = tmp_path / "trusted_root.json"
    root.write_text(sigstore.trusted_root_json())
    runner = CliRunner(env={"DOCKER_CONFIG": str(tmp_path)})
    flags = ["--allow-http-registry", "--trusted-root", str(root), "--certificate-oidc-issuer", ISSUER]
    result = runner.invoke(app, ["verify", str(ref), "--certificate-identity", "release@acme.example", *flags])
    assert result.exit_code == 0, result.output
    assert "cosign v3 bundle verified by keyless release@acme.example" in result.stdout
    result = runner.invoke(app, ["verify", str(ref), "--certificate-identity", "intern@acme.example", *flags])
    assert result.exit_code == 1
    assert "certificate identity release@acme.example is not the trusted identity" in result.stderr
    result = runner.invoke(app, ["contract", str(ref), "--certificate-identity", "release@acme.example", *flags])
    assert result.exit_code == 0 and "kind: ActionContract" in result.stdout
