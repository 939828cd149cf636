"""verify_image against a real docker-registry: both formats, several key types, the negative matrix."""

from __future__ import annotations

import base64
import json

import pytest
from support.oci import (
    Blob,
    PrivateKey,
    Pusher,
    build_image,
    canonical,
    key_bundle,
    make_key,
    pae,
    public_pem,
    sign,
    sign_statement,
    simple_signing_payload,
)

from reconciler.supplychain import (
    Authority,
    ImageReference,
    KeyAuthority,
    RegistryClient,
    SignatureFormat,
    parse_reference,
    verify_image,
)

REPO = "kubernaut/actions/echo"


def _image(pusher: Pusher, marker: str) -> tuple[str, ImageReference]:
    digest = pusher.push_image(REPO, build_image(marker=marker))
    return digest, parse_reference(pusher.image_ref(REPO, digest))


def _trust(*keys: PrivateKey) -> list[Authority]:
    return [KeyAuthority("release", tuple(public_pem(k) for k in keys))]


@pytest.mark.parametrize("kind", ["p256", "p384", "rsa", "ed25519"])
@pytest.mark.parametrize("signature_format", ["legacy", "bundle"])
def test_signed_image_verifies_in_both_formats_and_every_key_type(
        pusher: Pusher, client: RegistryClient, kind: str, signature_format: SignatureFormat) -> None:
    key = make_key(kind)
    digest, ref = _image(pusher, f"{kind}-{signature_format}")
    if signature_format == "legacy":
        pusher.sign_legacy(REPO, digest, key)
    else:
        pusher.sign_bundle(REPO, digest, key)
    check = verify_image(ref, _trust(key), signature_format, client)
    assert check.ok, check.reason
    assert check.authority == "release"
    expected = "legacy cosign signature" if signature_format == "legacy" else "cosign v3 bundle"
    assert expected in check.reason
    # The other format alone does not count.
    other: SignatureFormat = "bundle" if signature_format == "legacy" else "legacy"
    assert not verify_image(ref, _trust(key), other, client).ok
    assert verify_image(ref, _trust(key), "any", client).ok


def test_unsigned_image_is_rejected(pusher: Pusher, client: RegistryClient) -> None:
    _, ref = _image(pusher, "unsigned")
    check = verify_image(ref, _trust(make_key()), "any", client)
    assert not check.ok and not check.retryable
    assert "is not signed" in check.reason


@pytest.mark.parametrize("signature_format", ["legacy", "bundle"])
def test_wrong_key_is_rejected(pusher: Pusher, client: RegistryClient, signature_format: SignatureFormat) -> None:
    digest, ref = _image(pusher, f"wrong-key-{signature_format}")
    signer, trusted = make_key(), make_key()
    (pusher.sign_legacy if signature_format == "legacy" else pusher.sign_bundle)(REPO, digest, signer)
    check = verify_image(ref, _trust(trusted), signature_format, client)
    assert not check.ok
    assert "does not verify with any trusted public key" in check.reason


def test_rotation_any_trusted_key_is_enough(pusher: Pusher, client: RegistryClient) -> None:
    digest, ref = _image(pusher, "rotation")
    old, new = make_key(), make_key()
    pusher.sign_legacy(REPO, digest, new)
    assert verify_image(ref, _trust(old, new), "legacy", client).ok
    two_authorities: list[Authority] = [KeyAuthority("old", (public_pem(old),)),
                                        KeyAuthority("new", (public_pem(new),))]
    check = verify_image(ref, two_authorities, "legacy", client)
    assert check.ok and check.authority == "new"


def test_one_valid_signature_among_invalid_ones_is_enough(pusher: Pusher, client: RegistryClient) -> None:
    digest, ref = _image(pusher, "mixed")
    key = make_key()
    pusher.sign_legacy(REPO, digest, make_key())
    pusher.sign_legacy(REPO, digest, key)
    assert verify_image(ref, _trust(key), "legacy", client).ok


def test_legacy_signature_copied_to_another_digest_is_rejected(pusher: Pusher, client: RegistryClient) -> None:
    signed, _ = _image(pusher, "copy-source")
    target, target_ref = _image(pusher, "copy-target")
    key = make_key()
    pusher.sign_legacy(REPO, signed, key)
    pusher.copy_legacy_signatures(REPO, signed, target)
    check = verify_image(target_ref, _trust(key), "legacy", client)
    assert not check.ok
    assert f"signature is for manifest {signed}, not {target}" in check.reason


def test_bundle_signed_for_another_digest_is_rejected(pusher: Pusher, client: RegistryClient) -> None:
    other, _ = _image(pusher, "bundle-other")
    digest, ref = _image(pusher, "bundle-copied")
    key = make_key()
    pusher.sign_bundle(REPO, digest, key, signed_digest=other)
    check = verify_image(ref, _trust(key), "bundle", client)
    assert not check.ok
    assert f"signed statement is for {other}, not {digest}" in check.reason


def test_tampered_legacy_payload_is_rejected(pusher: Pusher, client: RegistryClient) -> None:
    digest, ref = _image(pusher, "tampered")
    key = make_key()
    honest = simple_signing_payload(digest, f"{pusher.host}/{REPO}")
    forged = honest.replace(b"cosign container image signature", b"cosign container image signaturE")
    pusher.sign_legacy(REPO, digest, key, payload=forged, signature=sign(key, honest))
    check = verify_image(ref, _trust(key), "legacy", client)
    assert not check.ok
    assert "does not verify" in check.reason


def test_reserialised_legacy_payload_is_rejected(pusher: Pusher, client: RegistryClient) -> None:
    """Same JSON, other bytes: the signature covers the bytes, so this must fail."""
    digest, ref = _image(pusher, "reserialised")
    key = make_key()
    original = simple_signing_payload(digest, f"{pusher.host}/{REPO}")
    reserialised = json.dumps(json.loads(original), indent=2).encode()
    assert json.loads(reserialised) == json.loads(original)
    pusher.sign_legacy(REPO, digest, key, payload=reserialised, signature=sign(key, original))
    check = verify_image(ref, _trust(key), "legacy", client)
    assert not check.ok
    assert "does not verify" in check.reason


def test_tampered_bundle_statement_is_rejected(pusher: Pusher, client: RegistryClient) -> None:
    digest, ref = _image(pusher, "tampered-bundle")
    other, _ = _image(pusher, "tampered-bundle-other")
    key = make_key()
    signed = sign_statement(other, REPO)
    swapped = sign_statement(digest, REPO)
    # A genuine signature over the statement for `other`, with the statement swapped for this image's.
    signature = sign(key, pae("application/vnd.in-toto+json", signed))
    pusher.sign_bundle(REPO, digest, key, bundle=key_bundle(swapped, key, signature=signature))
    check = verify_image(ref, _trust(key), "bundle", client)
    assert not check.ok
    assert "DSSE signature does not verify" in check.reason


def test_bundle_with_other_predicate_is_not_a_signature(pusher: Pusher, client: RegistryClient) -> None:
    digest, ref = _image(pusher, "attestation")
    key = make_key()
    pusher.sign_bundle(REPO, digest, key, predicate_type="https://slsa.dev/provenance/v1")
    check = verify_image(ref, _trust(key), "bundle", client)
    assert not check.ok
    assert "an attestation is not a signature" in check.reason


def test_fallback_index_is_not_filtered_by_artifact_type(pusher: Pusher, client: RegistryClient) -> None:
    """go-containerregistry writes the config media type as the fallback entry's artifactType."""
    digest, ref = _image(pusher, "ggcr-fallback")
    key = make_key()
    bundle = key_bundle(sign_statement(digest, REPO), key)
    pusher.push_bundle(REPO, digest, bundle, fallback_artifact_type="application/vnd.oci.empty.v1+json")
    assert verify_image(ref, _trust(key), "bundle", client).ok


def test_docker_reference_pinning(pusher: Pusher, client: RegistryClient) -> None:
    digest, ref = _image(pusher, "pinned")
    key = make_key()
    pusher.sign_legacy(REPO, digest, key, docker_reference=f"{pusher.host}/{REPO}:v1")
    trust = _trust(key)
    assert verify_image(ref, trust, "legacy", client, docker_reference=f"{pusher.host}/{REPO}").ok
    check = verify_image(ref, trust, "legacy", client, docker_reference=f"{pusher.host}/elsewhere/echo")
    assert not check.ok
    assert f"signature is pinned to {pusher.host}/{REPO}:v1, not {pusher.host}/elsewhere/echo" in check.reason


def test_non_signature_attachment_with_signature_annotation_is_rejected(
        pusher: Pusher, client: RegistryClient) -> None:
    digest, ref = _image(pusher, "attachment")
    key = make_key()
    text = b"this is not a signature"
    annotations = {"dev.cosignproject.cosign/signature": base64.b64encode(sign(key, text)).decode()}
    pusher.add_signature_layer(REPO, digest, Blob("text/plain", text), annotations)
    check = verify_image(ref, _trust(key), "legacy", client)
    assert not check.ok
    assert "is not a simple-signing signature" in check.reason


def test_keyless_legacy_signature_is_refused_clearly(pusher: Pusher, client: RegistryClient) -> None:
    digest, ref = _image(pusher, "keyless-legacy")
    key = make_key()
    pusher.sign_legacy(REPO, digest, key, annotations={"dev.sigstore.cosign/certificate": "-----BEGIN CERT..."})
    check = verify_image(ref, _trust(key), "legacy", client)
    assert not check.ok
    assert "keyless legacy signature" in check.reason and "not supported" in check.reason


def test_payload_of_wrong_type_is_rejected_even_when_signed(pusher: Pusher, client: RegistryClient) -> None:
    digest, ref = _image(pusher, "wrong-type")
    key = make_key()
    payload = canonical({"critical": {"identity": {"docker-reference": REPO},
                                      "image": {"docker-manifest-digest": digest}, "type": "something else"}})
    pusher.sign_legacy(REPO, digest, key, payload=payload)
    check = verify_image(ref, _trust(key), "legacy", client)
    assert not check.ok and "'something else'" in check.reason


def test_image_that_is_not_in_the_registry_is_rejected(pusher: Pusher, client: RegistryClient) -> None:
    ref = parse_reference(pusher.image_ref(REPO, "sha256:" + "0" * 64))
    check = verify_image(ref, _trust(make_key()), "any", client)
    assert not check.ok and not check.retryable
    assert "manifest not found" in check.reason


def test_no_authority_rejects(pusher: Pusher, client: RegistryClient) -> None:
    digest, ref = _image(pusher, "no-authority")
    pusher.sign_legacy(REPO, digest, make_key())
    check = verify_image(ref, [], "any", client)
    assert not check.ok and "no trusted key" in check.reason
