"""Real cosign/skopeo output (vendored in tests/data/cosign): each case verifies or fails as named.

The containers/image ``dir`` fixtures are served by a loopback fake registry exactly as a registry
holds them (the image manifest by digest, a ``sha256-<hex>.sig`` manifest with one layer per
signature), then go through the same ``verify_image`` as everything else. The real keyless v3
bundle is checked with sigstore-python against the vendored public-good trusted root.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.oci import Pusher, build_image
from support.registry import FakeRegistry, fake_registry

from reconciler.supplychain import (
    KeyAuthority,
    KeylessAuthority,
    RegistryClient,
    RegistrySettings,
    parse_reference,
    verify_image,
)
from reconciler.supplychain.bundle import check_bundle

DATA = Path(__file__).resolve().parents[1] / "data" / "cosign"
CIMAGE = DATA / "cimage"
REPO = "cosign-signed-single-sample"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_SIGNATURE_MAGIC = b"\x00sigstore-json\n"

#: Case -> (trusted key file, expected verdict, text the reason must contain).
CASES = {
    "dir-img-cosign-valid": ("cosign.pub", True, "legacy cosign signature verified"),
    "dir-img-cosign-valid-2": ("cosign.pub", True, "legacy cosign signature verified"),
    "dir-img-cosign-valid-with-tag": ("cosign.pub", True, "legacy cosign signature verified"),
    "dir-img-cosign-mixed": ("cosign.pub", True, "legacy cosign signature verified"),
    "dir-img-cosign-key-rekor-valid": ("cosign2.pub", True, "legacy cosign signature verified"),
    "dir-img-cosign-modified-manifest": ("cosign.pub", False, "signature is for manifest sha256:634a8f35"),
    # A schema 1 manifest (whose digest is computed without its JWS signatures): not an image we accept.
    "dir-img-cosign-manifest-digest-error": ("cosign.pub", False, "unsupported manifest media type"),
    "dir-img-cosign-other-attachment": ("cosign.pub", False, "'text/plain' is not a simple-signing signature"),
    "dir-img-cosign-fulcio-rekor-valid": ("cosign.pub", False, "keyless legacy signature"),
}


def _serve_case(registry: FakeRegistry, case: Path) -> str:
    manifest = (case / "manifest.json").read_bytes()
    media_type = json.loads(manifest).get("mediaType", "application/vnd.docker.distribution.manifest.v1+json")
    digest = registry.add_manifest(REPO, manifest, media_type)
    layers = []
    for signature in sorted(case.glob("signature-*")):
        raw = signature.read_bytes()
        assert raw.startswith(_SIGNATURE_MAGIC)
        document = json.loads(raw[len(_SIGNATURE_MAGIC):])
        payload = base64.b64decode(document["payload"])
        layers.append({"mediaType": document["mimeType"], "digest": registry.add_blob(REPO, payload),
                       "size": len(payload), "annotations": document["annotations"]})
    config = b"{}"
    sig_manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                          "digest": registry.add_blob(REPO, config), "size": len(config)},
                               "layers": layers}).encode()
    registry.add_manifest(REPO, sig_manifest, OCI_MANIFEST, tag=digest.replace(":", "-") + ".sig")
    return digest


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with fake_registry() as running:
        yield running


@pytest.mark.parametrize("case", sorted(CASES))
def test_containers_image_fixture(fake: FakeRegistry, case: str) -> None:
    key_file, expected, reason = CASES[case]
    digest = _serve_case(fake, CIMAGE / case)
    ref = parse_reference(f"{fake.host}/{REPO}@{digest}")
    client = RegistryClient(RegistrySettings(allow_http=True, retries=0))
    trusted = [KeyAuthority(key_file, ((CIMAGE / key_file).read_text(),))]
    check = verify_image(ref, trusted, "legacy", client)
    assert check.ok is expected, check.reason
    assert reason in check.reason


def test_valid_fixture_is_rejected_with_the_other_key(fake: FakeRegistry) -> None:
    digest = _serve_case(fake, CIMAGE / "dir-img-cosign-valid")
    ref = parse_reference(f"{fake.host}/{REPO}@{digest}")
    client = RegistryClient(RegistrySettings(allow_http=True, retries=0))
    check = verify_image(ref, [KeyAuthority("cosign2", ((CIMAGE / "cosign2.pub").read_text(),))], "legacy", client)
    assert not check.ok and "does not verify with any trusted public key" in check.reason


def test_docker_reference_of_a_real_signature_can_be_pinned(fake: FakeRegistry) -> None:
    digest = _serve_case(fake, CIMAGE / "dir-img-cosign-valid-with-tag")
    ref = parse_reference(f"{fake.host}/{REPO}@{digest}")
    client = RegistryClient(RegistrySettings(allow_http=True, retries=0))
    trusted = [KeyAuthority("cosign", ((CIMAGE / "cosign.pub").read_text(),))]
    assert verify_image(ref, trusted, "legacy", client, docker_reference="192.168.64.2:5000/skopeo-signed").ok
    check = verify_image(ref, trusted, "legacy", client, docker_reference="192.168.64.2:5000/other")
    assert not check.ok and "pinned to 192.168.64.2:5000/skopeo-signed:tag" in check.reason


# ---- the real keyless cosign v3 bundle ---------------------------------------------------------

BUNDLE = DATA / "oci-attestation.sigstore.json"
SUBJECT = "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4"
IDENTITY = "cody@soyland.com"
ISSUER = "https://github.com/login/oauth"


def _keyless(subject: str | None = IDENTITY, issuer: str | None = ISSUER, subject_regexp: str | None = None,
             issuer_regexp: str | None = None) -> KeylessAuthority:
    return KeylessAuthority("keyless", subject, subject_regexp, issuer, issuer_regexp,
                            (DATA / "trusted_root.json").read_text())


def test_real_keyless_bundle_verifies_offline_against_the_pinned_root() -> None:
    """sigstore-python accepts certificate chain, SCT, Rekor inclusion and signature; the bundle is then
    refused as an image *signature* only because it is an attestation (another predicateType)."""
    outcome = check_bundle(BUNDLE.read_bytes(), SUBJECT, [_keyless()])
    assert not outcome.ok
    assert "predicateType 'https://cosign.sigstore.dev/attestation/v1'" in outcome.reason


def test_real_keyless_bundle_with_regexp_identity_and_issuer() -> None:
    outcome = check_bundle(BUNDLE.read_bytes(), SUBJECT,
                           [_keyless(None, None, r".*@soyland\.com", r"https://github\.com/.*")])
    assert "predicateType" in outcome.reason  # got past sigstore verification


@pytest.mark.parametrize(("authority", "reason"), [
    (_keyless(subject="someone@example.com"), "certificate identity cody@soyland.com is not the trusted identity"),
    (_keyless(issuer="https://accounts.google.com"), "certificate issuer 'https://github.com/login/oauth' is not"),
    (_keyless(None, None, r"cody@soyland\.co", ISSUER), "is not the trusted identity"),
])
def test_real_keyless_bundle_with_wrong_identity_or_issuer_is_rejected(authority: KeylessAuthority,
                                                                     reason: str) -> None:
    outcome = check_bundle(BUNDLE.read_bytes(), SUBJECT, [authority])
    assert not outcome.ok
    assert "keyless bundle rejected" in outcome.reason and reason in outcome.reason


def test_real_keyless_bundle_with_tampered_payload_is_rejected() -> None:
    bundle = json.loads(BUNDLE.read_bytes())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["predicateType"] = "https://sigstore.dev/cosign/sign/v1"
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    outcome = check_bundle(json.dumps(bundle).encode(), SUBJECT, [_keyless()])
    assert not outcome.ok
    assert "keyless bundle rejected" in outcome.reason


def test_keyless_bundle_is_not_accepted_by_a_key_authority() -> None:
    outcome = check_bundle(BUNDLE.read_bytes(), SUBJECT,
                           [KeyAuthority("cosign", ((CIMAGE / "cosign.pub").read_text(),))])
    assert not outcome.ok and "no keyless identity is trusted" in outcome.reason


def test_real_keyless_bundle_through_the_registry(pusher: Pusher, client: RegistryClient) -> None:
    """The real bundle pushed as a referrer of another image: sigstore-python verifies it through the
    registry path, then it is refused because it is an attestation for another digest."""
    digest = pusher.push_image("interop/keyless", build_image(marker="keyless-interop"))
    pusher.push_bundle("interop/keyless", digest, BUNDLE.read_bytes())
    ref = parse_reference(pusher.image_ref("interop/keyless", digest))
    check = verify_image(ref, [_keyless()], "bundle", client)
    assert not check.ok and not check.retryable
    assert "predicateType 'https://cosign.sigstore.dev/attestation/v1'" in check.reason
    wrong = verify_image(ref, [_keyless(subject="mallory@example.com")], "bundle", client)
    assert "certificate identity cody@soyland.com is not the trusted identity" in wrong.reason
