"""The OCI client against a scriptable loopback registry: auth, retries, caps, digests, indexes, TLS."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from support.oci import OCI_INDEX, OCI_MANIFEST, build_image, build_index, canonical
from support.registry import FakeRegistry, fake_registry, free_port

from reconciler.supplychain import (
    Credentials,
    ImageReference,
    NotFoundError,
    RegistryClient,
    RegistryError,
    RegistrySettings,
    parse_reference,
)
from reconciler.supplychain.registry import MANIFEST_LIMIT

REPO = "team/app"
FAST = RegistrySettings(allow_http=True, retries=2, backoff=0.01, timeout=2)


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    with fake_registry() as running:
        yield running


def _add_image(registry: FakeRegistry, marker: str = "x") -> ImageReference:
    image = build_image(marker=marker)
    for blob in image.blobs:
        registry.add_blob(REPO, blob.data)
    digest = registry.add_manifest(REPO, image.manifest, OCI_MANIFEST)
    return parse_reference(f"{registry.host}/{REPO}@{digest}")


# ---- auth ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["basic", "bearer"])
def test_credentials_from_docker_config_answer_the_challenge(registry: FakeRegistry, scheme: str) -> None:
    registry.auth = (scheme, "robot", "s3cret")
    ref = _add_image(registry)
    anonymous = RegistryClient(FAST)
    with pytest.raises(RegistryError, match=r"denied|token server .* refused"):
        anonymous.get_manifest(ref)
    config = {"auths": {registry.host: {"auth": "cm9ib3Q6czNjcmV0"}}}  # robot:s3cret
    client = RegistryClient(FAST, Credentials.from_docker_config(config))
    assert client.get_manifest(ref).digest == ref.digest
    if scheme == "bearer":
        assert registry.token_requests[-1]["scope"] == [f"repository:{REPO}:pull"]
        assert registry.token_requests[-1]["service"] == ["fake-registry"]
        sent = client.requests_sent
        client.get_manifest(ref)
        assert client.requests_sent == sent + 1  # the token is reused, no new handshake


def test_anonymous_bearer_token_for_public_images(registry: FakeRegistry) -> None:
    registry.auth, registry.anonymous_tokens = ("bearer", "robot", "s3cret"), True
    ref = _add_image(registry)
    client = RegistryClient(FAST)
    assert client.get_manifest(ref).digest == ref.digest
    assert registry.token_requests[-1]["scope"] == [f"repository:{REPO}:pull"]


def test_wrong_password_is_refused_not_retried_forever(registry: FakeRegistry) -> None:
    registry.auth = ("basic", "robot", "s3cret")
    ref = _add_image(registry)
    client = RegistryClient(FAST, Credentials.from_docker_config(
        {"auths": {registry.host: {"username": "robot", "password": "wrong"}}}))
    with pytest.raises(RegistryError, match="denied") as caught:
        client.get_manifest(ref)
    assert not caught.value.retryable


def test_bearer_with_wrong_password_fails_at_the_token_server(registry: FakeRegistry) -> None:
    registry.auth = ("bearer", "robot", "s3cret")
    ref = _add_image(registry)
    client = RegistryClient(FAST, Credentials.from_pull_secrets(
        [{"auths": {registry.host: {"username": "robot", "password": "nope"}}}]))
    with pytest.raises(RegistryError, match=r"token server .* refused"):
        client.get_manifest(ref)


def test_pull_secret_credentials(registry: FakeRegistry) -> None:
    registry.auth = ("bearer", "robot", "s3cret")
    ref = _add_image(registry)
    secrets = [{"auths": {"other.example": {"username": "x", "password": "y"}}},
               {"auths": {f"https://{registry.host}/v1/": {"username": "robot", "password": "s3cret"}}}]
    client = RegistryClient(FAST, Credentials.from_pull_secrets(secrets))
    assert client.get_manifest(ref).digest == ref.digest


# ---- retries, timeouts -------------------------------------------------------------------------

@pytest.mark.parametrize("status", [500, 501, 503, 429])
def test_transient_errors_are_retried(registry: FakeRegistry, status: int) -> None:
    ref = _add_image(registry)
    registry.fail_times, registry.fail_status = 2, status
    client = RegistryClient(FAST)
    assert client.get_manifest(ref).digest == ref.digest
    assert client.requests_sent == 3


def test_persistent_500_fails_closed_and_retryable(registry: FakeRegistry) -> None:
    ref = _add_image(registry)
    registry.fail_times = 100
    client = RegistryClient(FAST)
    with pytest.raises(RegistryError, match=r"HTTP 500 \(after 3 attempts") as caught:
        client.get_manifest(ref)
    assert caught.value.retryable
    assert client.requests_sent == 3


def test_timeout_fails_closed_and_retryable(registry: FakeRegistry) -> None:
    ref = _add_image(registry)
    registry.delay = 0.5
    client = RegistryClient(RegistrySettings(allow_http=True, retries=1, backoff=0.01, timeout=0.1))
    with pytest.raises(RegistryError, match="timed out") as caught:
        client.get_manifest(ref)
    assert caught.value.retryable
    assert client.requests_sent == 2


# ---- digests and caps --------------------------------------------------------------------------

def test_manifest_that_does_not_match_its_digest_is_refused(registry: FakeRegistry) -> None:
    ref = _add_image(registry)
    raw, media_type = registry.manifests[REPO][ref.digest]
    registry.manifests[REPO][ref.digest] = (raw.replace(b'"schemaVersion":2', b'"schemaVersion": 2'), media_type)
    with pytest.raises(RegistryError, match=r"whose digest is sha256:.*not the requested"):
        RegistryClient(FAST).get_manifest(ref)


def test_blob_that_does_not_match_its_digest_is_refused(registry: FakeRegistry) -> None:
    ref = _add_image(registry)
    layer = json.loads(registry.manifests[REPO][ref.digest][0])["layers"][0]["digest"]
    registry.blobs[REPO][layer] = b"something else"
    with pytest.raises(RegistryError, match="does not match its digest"):
        RegistryClient(FAST).get_blob(ref, layer)


@pytest.mark.parametrize("declared_length", [True, False])
def test_oversized_manifest_is_refused(registry: FakeRegistry, declared_length: bool) -> None:
    registry.omit_length = not declared_length
    huge = canonical({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {}, "layers": [],
                      "annotations": {"padding": "x" * MANIFEST_LIMIT}})
    digest = registry.add_manifest(REPO, huge, OCI_MANIFEST)
    ref = parse_reference(f"{registry.host}/{REPO}@{digest}")
    with pytest.raises(RegistryError, match="exceeds the 4194304-byte limit") as caught:
        RegistryClient(FAST).get_manifest(ref)
    assert not caught.value.retryable


@pytest.mark.parametrize("declared_length", [True, False])
def test_oversized_blob_is_refused(registry: FakeRegistry, declared_length: bool) -> None:
    registry.omit_length = not declared_length
    ref = _add_image(registry)
    digest = registry.add_blob(REPO, b"y" * 5000)
    client = RegistryClient(RegistrySettings(allow_http=True, max_blob_size=4096))
    with pytest.raises(RegistryError, match=r"blob .*exceeds the 4096-byte limit"):
        client.get_blob(ref, digest)
    assert len(client.get_blob(ref, digest, max_size=5000)) == 5000


def test_missing_manifest_is_not_found(registry: FakeRegistry) -> None:
    ref = parse_reference(f"{registry.host}/{REPO}@sha256:{'1' * 64}")
    with pytest.raises(NotFoundError):
        RegistryClient(FAST).get_manifest(ref)


def test_unknown_media_type_is_refused(registry: FakeRegistry) -> None:
    raw = b'{"schemaVersion":2,"mediaType":"application/vnd.example+json"}'
    digest = registry.add_manifest(REPO, raw, "application/vnd.example+json")
    with pytest.raises(RegistryError, match="unsupported manifest media type"):
        RegistryClient(FAST).get_manifest(parse_reference(f"{registry.host}/{REPO}@{digest}"))


def test_docker_media_types_are_accepted(registry: FakeRegistry) -> None:
    raw = canonical({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                     "config": {}, "layers": []})
    digest = registry.add_manifest(REPO, raw, "application/vnd.docker.distribution.manifest.v2+json")
    manifest = RegistryClient(FAST).get_manifest(parse_reference(f"{registry.host}/{REPO}@{digest}"))
    assert manifest.media_type == "application/vnd.docker.distribution.manifest.v2+json"


# ---- indexes -----------------------------------------------------------------------------------

def _add_index(registry: FakeRegistry) -> tuple[ImageReference, dict[str, str]]:
    children = {"linux/amd64": build_image(marker="amd64"),
                "linux/arm64": build_image(marker="arm64", architecture="arm64")}
    digests = {}
    for platform, image in children.items():
        digests[platform] = registry.add_manifest(REPO, image.manifest, OCI_MANIFEST)
    digest = registry.add_manifest(REPO, build_index(children), OCI_INDEX)
    return parse_reference(f"{registry.host}/{REPO}@{digest}"), digests


def test_index_resolves_to_the_linux_amd64_child_by_default(registry: FakeRegistry) -> None:
    ref, digests = _add_index(registry)
    assert RegistryClient(FAST).get_image_manifest(ref).digest == digests["linux/amd64"]


def test_index_platform_is_configurable(registry: FakeRegistry) -> None:
    ref, digests = _add_index(registry)
    client = RegistryClient(RegistrySettings(allow_http=True, platform="linux/arm64"))
    assert client.get_image_manifest(ref).digest == digests["linux/arm64"]
    client = RegistryClient(RegistrySettings(allow_http=True, platform="windows/amd64"))
    with pytest.raises(RegistryError, match="no manifest for platform windows/amd64"):
        client.get_image_manifest(ref)


# ---- referrers ---------------------------------------------------------------------------------

def _add_referrer(registry: FakeRegistry, ref: ImageReference, artifact_type: str) -> str:
    raw = canonical({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type,
                     "config": {}, "layers": [], "subject": {"mediaType": OCI_MANIFEST, "digest": ref.digest,
                                                             "size": 1}})
    return registry.add_manifest(REPO, raw, OCI_MANIFEST)


def test_referrers_api_is_used_when_the_registry_has_it(registry: FakeRegistry) -> None:
    registry.referrers_api = True
    ref = _add_image(registry)
    referrer = _add_referrer(registry, ref, "application/vnd.dev.sigstore.bundle.v0.3+json")
    found = RegistryClient(FAST).referrers(ref)
    assert [d["digest"] for d in found] == [referrer]
    assert not any(path.endswith(ref.digest.replace(":", "-")) for path in registry.requests)


def test_referrers_fall_back_to_the_tag_index_on_404(registry: FakeRegistry) -> None:
    ref = _add_image(registry)
    referrer = _add_referrer(registry, ref, "application/vnd.dev.sigstore.bundle.v0.3+json")
    index = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": referrer, "size": 1,
         "artifactType": "application/vnd.oci.empty.v1+json"}]})
    registry.add_manifest(REPO, index, OCI_INDEX, tag=ref.digest.replace(":", "-"))
    found = RegistryClient(FAST).referrers(ref)
    # Not filtered by artifactType: the entry written with the config media type is still there.
    assert [d["digest"] for d in found] == [referrer]


def test_no_referrers_at_all(registry: FakeRegistry) -> None:
    ref = _add_image(registry)
    assert RegistryClient(FAST).referrers(ref) == []


# ---- transport security ------------------------------------------------------------------------

def _certificates(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test registry CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return ca_file, context


def test_tls_with_a_custom_ca(tmp_path: Path) -> None:
    ca_file, context = _certificates(tmp_path)
    with fake_registry(tls=context) as registry:
        ref = _add_image(registry)
        client = RegistryClient(RegistrySettings(ca_bundle=str(ca_file), retries=0))
        assert client.get_manifest(ref).digest == ref.digest
        with pytest.raises(RegistryError, match="TLS handshake or certificate verification failed") as caught:
            RegistryClient(RegistrySettings(retries=0)).get_manifest(ref)
        assert not caught.value.retryable


def test_plain_http_only_when_allowed(registry: FakeRegistry) -> None:
    ref = _add_image(registry)
    with pytest.raises(RegistryError):
        RegistryClient(RegistrySettings(retries=0, timeout=2)).get_manifest(ref)
    assert registry.requests == []  # the HTTPS handshake never reached the plain-HTTP server's handler
    assert RegistryClient(RegistrySettings(allow_http=True)).get_manifest(ref).digest == ref.digest


def test_unreachable_registry_is_retryable_with_a_short_reason() -> None:
    ref = parse_reference(f"127.0.0.1:{free_port()}/{REPO}@sha256:{'2' * 64}")
    with pytest.raises(RegistryError, match=r"connection failed: \[Errno \d+\] Connection refused \(after 3") as caught:
        RegistryClient(FAST).get_manifest(ref)
    assert caught.value.retryable
