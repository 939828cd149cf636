"""Fail closed: registry errors, timeouts and oversized data never verify; transient ones say so."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from support.oci import (
    OCI_MANIFEST,
    Pusher,
    build_image,
    canonical,
    key_bundle,
    make_key,
    public_pem,
    sign_statement,
)
from support.registry import FakeRegistry, fake_registry

from reconciler.supplychain import (
    Authority,
    KeyAuthority,
    RegistryClient,
    RegistrySettings,
    parse_reference,
    verify_image,
)
from reconciler.supplychain.registry import MANIFEST_LIMIT

REPO = "kubernaut/actions/failures"
KEY = make_key()
TRUST: list[Authority] = [KeyAuthority("release", (public_pem(KEY),))]


@pytest.fixture
def mirrored(pusher: Pusher, request: pytest.FixtureRequest) -> Iterator[tuple[FakeRegistry, str]]:
    """An image signed in both formats on docker-registry, mirrored into a scriptable registry."""
    digest = pusher.push_image(REPO, build_image(marker=request.node.name))
    pusher.sign_legacy(REPO, digest, KEY)
    referrer = pusher.push_bundle(REPO, digest, _bundle(pusher, digest))
    with fake_registry() as registry:
        tag = digest.replace(":", "-")
        registry.copy_from(pusher, REPO, [digest, f"{tag}.sig", tag, referrer])
        yield registry, digest


def _bundle(pusher: Pusher, digest: str) -> bytes:
    return key_bundle(sign_statement(digest, REPO), KEY)


def _client(**settings: float) -> RegistryClient:
    return RegistryClient(RegistrySettings(allow_http=True, retries=2, backoff=0.01, **settings))  # type: ignore[arg-type]


@pytest.mark.parametrize("signature_format", ["legacy", "bundle"])
def test_the_mirror_verifies(mirrored: tuple[FakeRegistry, str], signature_format: str) -> None:
    registry, digest = mirrored
    ref = parse_reference(f"{registry.host}/{REPO}@{digest}")
    assert verify_image(ref, TRUST, signature_format, _client()).ok  # type: ignore[arg-type]


def test_registry_500_fails_closed_and_is_retryable(mirrored: tuple[FakeRegistry, str]) -> None:
    registry, digest = mirrored
    registry.fail_times = 1000
    client = _client()
    check = verify_image(parse_reference(f"{registry.host}/{REPO}@{digest}"), TRUST, "any", client)
    assert not check.ok and check.retryable
    assert "HTTP 500 (after 3 attempts)" in check.reason
    assert client.requests_sent == 3


def test_a_transient_500_is_retried_and_then_verifies(mirrored: tuple[FakeRegistry, str]) -> None:
    registry, digest = mirrored
    registry.fail_times = 2
    check = verify_image(parse_reference(f"{registry.host}/{REPO}@{digest}"), TRUST, "any", _client())
    assert check.ok, check.reason


def test_registry_timeout_fails_closed_and_is_retryable(mirrored: tuple[FakeRegistry, str]) -> None:
    registry, digest = mirrored
    registry.delay = 0.5
    check = verify_image(parse_reference(f"{registry.host}/{REPO}@{digest}"), TRUST, "any", _client(timeout=0.1))
    assert not check.ok and check.retryable
    assert "timed out after 0.1s" in check.reason


def test_oversized_signature_manifest_is_rejected(mirrored: tuple[FakeRegistry, str]) -> None:
    registry, digest = mirrored
    huge = canonical({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {}, "layers": [],
                      "annotations": {"padding": "x" * MANIFEST_LIMIT}})
    registry.add_manifest(REPO, huge, OCI_MANIFEST, tag=digest.replace(":", "-") + ".sig")
    check = verify_image(parse_reference(f"{registry.host}/{REPO}@{digest}"), TRUST, "legacy", _client())
    assert not check.ok and not check.retryable
    assert "manifest of" in check.reason and "exceeds the 4194304-byte limit" in check.reason


def test_oversized_signature_payload_is_rejected(pusher: Pusher) -> None:
    digest = pusher.push_image(REPO, build_image(marker="huge-payload"))
    payload = canonical({"critical": {"identity": {"docker-reference": REPO},
                                      "image": {"docker-manifest-digest": digest},
                                      "type": "cosign container image signature"},
                         "optional": {"padding": "x" * 300_000}})
    pusher.sign_legacy(REPO, digest, KEY, payload=payload)
    client = RegistryClient(RegistrySettings(allow_http=True))
    check = verify_image(parse_reference(pusher.image_ref(REPO, digest)), TRUST, "legacy", client)
    assert not check.ok and not check.retryable
    assert "exceeds the 262144-byte limit" in check.reason


def test_tampered_blob_in_the_registry_is_rejected(mirrored: tuple[FakeRegistry, str]) -> None:
    registry, digest = mirrored
    for blob_digest in list(registry.blobs[REPO]):
        registry.blobs[REPO][blob_digest] = registry.blobs[REPO][blob_digest] + b" "
    check = verify_image(parse_reference(f"{registry.host}/{REPO}@{digest}"), TRUST, "legacy", _client())
    assert not check.ok and not check.retryable
    assert "does not match its digest" in check.reason


def test_a_stale_referrer_entry_does_not_hide_a_valid_bundle(mirrored: tuple[FakeRegistry, str]) -> None:
    registry, digest = mirrored
    tag = digest.replace(":", "-")
    raw, media_type = registry.manifests[REPO][tag]
    index = json.loads(raw)
    index["manifests"].insert(0, {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "e" * 64, "size": 10})
    registry.add_manifest(REPO, canonical(index), media_type, tag=tag)
    check = verify_image(parse_reference(f"{registry.host}/{REPO}@{digest}"), TRUST, "bundle", _client())
    assert check.ok, check.reason
