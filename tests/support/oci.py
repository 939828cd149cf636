"""Build, push and sign small OCI images in Python, for the supply-chain tests.

Images are one gzip layer holding ``/action-contract.yaml`` and ``/action-entrypoint``. Signatures
are written the way cosign writes them, by hand and with keys made in the test:

* legacy: a simple-signing payload blob in the ``sha256-<hex>.sig`` manifest, the base64 signature
  over the exact blob bytes in the ``dev.cosignproject.cosign/signature`` annotation;
* v3 bundle: a DSSE envelope around an in-toto statement (predicateType
  ``https://sigstore.dev/cosign/sign/v1``, subject = image digest) in a Sigstore bundle v0.3,
  pushed as an OCI 1.1 referrer (``subject`` + ``artifactType``) and, because the registry may lack
  the Referrers API, added to the ``sha256-<hex>`` fallback tag index too (as cosign does).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"

CONTRACT = b"""apiVersion: kubernaut.ai/v1alpha1
kind: ActionContract
metadata:
  name: test/echo
spec:
  inputs:
    - name: message
      type: string
      required: true
  outputs:
    - name: echoed
      type: string
"""
ENTRYPOINT = b"#!/bin/sh\necho '{\"echoed\": \"hi\"}'\n"

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


# ---- keys ------------------------------------------------------------------------------------

def make_key(kind: str = "p256") -> PrivateKey:
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(kind)


def public_pem(key: PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign(key: PrivateKey, message: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = hashes.SHA384() if isinstance(key.curve, ec.SECP384R1) else hashes.SHA256()
        return key.sign(message, ec.ECDSA(algorithm))
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(message)


# ---- images ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Blob:
    media_type: str
    data: bytes

    @property
    def digest(self) -> str:
        return digest_of(self.data)

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data), **extra}


@dataclass(frozen=True)
class Image:
    manifest: bytes
    blobs: tuple[Blob, ...]
    media_type: str = OCI_MANIFEST

    @property
    def digest(self) -> str:
        return digest_of(self.manifest)


def layer(files: Mapping[str, bytes | None], *, compress: bool = True,
          symlinks: Mapping[str, str] | None = None) -> Blob:
    """A tar(.gz) layer; a ``None`` value writes an empty file (use it for whiteouts)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            data = content or b""
            info.size = len(data)
            info.mode = 0o755 if name.endswith("entrypoint") else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
        for name, target in sorted((symlinks or {}).items()):
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    raw = buffer.getvalue()
    if not compress:
        return Blob("application/vnd.oci.image.layer.v1.tar", raw)
    return Blob(OCI_LAYER_GZIP, gzip.compress(raw, mtime=0))


def action_files(contract: bytes = CONTRACT) -> dict[str, bytes | None]:
    return {"action-contract.yaml": contract, "action-entrypoint": ENTRYPOINT}


def build_image(*layers: Blob, marker: str = "", architecture: str = "amd64") -> Image:
    """An OCI image of ``layers`` (default: one action layer); ``marker`` makes distinct digests."""
    layers = layers or (layer(action_files()),)
    config = Blob(OCI_CONFIG, canonical({
        "architecture": architecture, "os": "linux",
        "config": {"Entrypoint": ["/action-entrypoint"], "Labels": {"test.marker": marker}},
        "rootfs": {"type": "layers", "diff_ids": [_diff_id(x) for x in layers]},
    }))
    manifest = canonical({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config.descriptor(),
                          "layers": [x.descriptor() for x in layers]})
    return Image(manifest, (config, *layers))


def _diff_id(blob: Blob) -> str:
    """The uncompressed digest; a deliberately broken layer just keeps its own digest."""
    try:
        return digest_of(gzip.decompress(blob.data)) if blob.media_type == OCI_LAYER_GZIP else blob.digest
    except (OSError, EOFError):
        return blob.digest


def build_index(children: Mapping[str, Image]) -> bytes:
    """An image index; keys are ``os/arch`` platforms."""
    manifests = []
    for platform, image in sorted(children.items()):
        os_name, arch = platform.split("/", 1)
        manifests.append({"mediaType": image.media_type, "digest": image.digest, "size": len(image.manifest),
                          "platform": {"os": os_name, "architecture": arch}})
    return canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})


# ---- pushing ---------------------------------------------------------------------------------

class Pusher:
    """Writes to a registry over plain HTTP (the test registries listen on loopback only)."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.base = f"http://{host}/v2"
        self.session = requests.Session()

    def push_blob(self, repository: str, blob: Blob | bytes) -> str:
        data = blob.data if isinstance(blob, Blob) else blob
        digest = digest_of(data)
        response = self.session.post(f"{self.base}/{repository}/blobs/uploads/", timeout=10)
        response.raise_for_status()
        location = response.headers["Location"]
        if location.startswith("/"):
            location = f"http://{self.host}{location}"
        separator = "&" if "?" in location else "?"
        response = self.session.put(f"{location}{separator}digest={digest}", data=data, timeout=10,
                                    headers={"Content-Type": "application/octet-stream"})
        response.raise_for_status()
        return digest

    def push_manifest(self, repository: str, manifest: bytes, reference: str | None = None,
                      media_type: str = OCI_MANIFEST) -> str:
        digest = digest_of(manifest)
        response = self.session.put(f"{self.base}/{repository}/manifests/{reference or digest}", data=manifest,
                                    headers={"Content-Type": media_type}, timeout=10)
        if response.status_code >= 400:
            raise AssertionError(f"push manifest failed: {response.status_code} {response.text}")
        return digest

    def get_manifest(self, repository: str, reference: str) -> bytes | None:
        response = self.session.get(f"{self.base}/{repository}/manifests/{reference}", timeout=10,
                                    headers={"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"})
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.content

    def push_image(self, repository: str, image: Image, tag: str | None = None) -> str:
        for blob in image.blobs:
            self.push_blob(repository, blob)
        return self.push_manifest(repository, image.manifest, tag, image.media_type)

    def push_index(self, repository: str, children: Mapping[str, Image]) -> str:
        for image in children.values():
            self.push_image(repository, image)
        return self.push_manifest(repository, build_index(children), media_type=OCI_INDEX)

    def image_ref(self, repository: str, digest: str) -> str:
        return f"{self.host}/{repository}@{digest}"

    # ---- legacy signatures -------------------------------------------------------------------

    def sign_legacy(self, repository: str, digest: str, key: PrivateKey, *, payload: bytes | None = None,
                    signed_digest: str | None = None, docker_reference: str | None = None,
                    signature: bytes | None = None, annotations: Mapping[str, str] | None = None) -> bytes:
        """Add one signature layer to ``sha256-<hex>.sig``; returns the payload used.

        ``payload`` replaces the simple-signing document; ``signed_digest`` names another image
        in it; ``signature`` replaces the real signature (for tampering tests).
        """
        if payload is None:
            payload = simple_signing_payload(signed_digest or digest,
                                             docker_reference or f"{self.host}/{repository}")
        signature = sign(key, payload) if signature is None else signature
        layer_annotations = {"dev.cosignproject.cosign/signature": base64.b64encode(signature).decode()}
        layer_annotations.update(annotations or {})
        self.add_signature_layer(repository, digest, Blob(SIMPLE_SIGNING, payload), layer_annotations)
        return payload

    def add_signature_layer(self, repository: str, digest: str, payload: Blob,
                            annotations: Mapping[str, str]) -> None:
        tag = digest.replace(":", "-") + ".sig"
        existing = self.get_manifest(repository, tag)
        layers = json.loads(existing)["layers"] if existing else []
        self.push_blob(repository, payload)
        layers.append(payload.descriptor(annotations=dict(annotations)))
        config = Blob(OCI_CONFIG, canonical({"architecture": "", "os": "", "config": {},
                                             "rootfs": {"type": "layers",
                                                        "diff_ids": [x["digest"] for x in layers]}}))
        self.push_blob(repository, config)
        manifest = canonical({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config.descriptor(),
                              "layers": layers})
        self.push_manifest(repository, manifest, tag)

    def copy_legacy_signatures(self, repository: str, source_digest: str, target_digest: str) -> None:
        """Copy the whole ``.sig`` manifest of one image to another's tag (the 'copied signature' attack)."""
        manifest = self.get_manifest(repository, source_digest.replace(":", "-") + ".sig")
        assert manifest is not None
        self.push_manifest(repository, manifest, target_digest.replace(":", "-") + ".sig")

    # ---- cosign v3 bundles -------------------------------------------------------------------

    def sign_bundle(self, repository: str, digest: str, key: PrivateKey, *, statement: bytes | None = None,
                    signed_digest: str | None = None, predicate_type: str = SIGN_PREDICATE,
                    bundle: bytes | None = None, referrer_subject: str | None = None) -> bytes:
        """Push a key-signed v3 bundle as a referrer of ``digest``; returns the bundle bytes."""
        if bundle is None:
            if statement is None:
                statement = sign_statement(signed_digest or digest, f"{self.host}/{repository}", predicate_type)
            bundle = key_bundle(statement, key)
        self.push_bundle(repository, referrer_subject or digest, bundle)
        return bundle

    def push_bundle(self, repository: str, digest: str, bundle: bytes, *, artifact_type: str = BUNDLE_TYPE,
                    fallback_artifact_type: str | None = None) -> str:
        """Push ``bundle`` as an OCI 1.1 referrer of ``digest`` and list it in the fallback tag index."""
        subject = self.get_manifest(repository, digest)
        assert subject is not None, f"no image {digest} in {repository}"
        empty = Blob(OCI_EMPTY, b"{}")
        layer_blob = Blob(BUNDLE_TYPE, bundle)
        self.push_blob(repository, empty)
        self.push_blob(repository, layer_blob)
        manifest = canonical({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type,
            "config": empty.descriptor(), "layers": [layer_blob.descriptor()],
            "subject": {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(subject)},
            "annotations": {"dev.sigstore.bundle.content": "dsse-envelope",
                            "dev.sigstore.bundle.predicateType": SIGN_PREDICATE},
        })
        referrer = self.push_manifest(repository, manifest)
        self.add_to_fallback_index(repository, digest, {
            "mediaType": OCI_MANIFEST, "digest": referrer, "size": len(manifest),
            "artifactType": fallback_artifact_type or artifact_type})
        return referrer

    def add_to_fallback_index(self, repository: str, digest: str, descriptor: Mapping[str, Any]) -> None:
        tag = digest.replace(":", "-")
        existing = self.get_manifest(repository, tag)
        manifests = json.loads(existing)["manifests"] if existing else []
        manifests.append(dict(descriptor))
        self.push_manifest(repository, canonical({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                                  "manifests": manifests}), tag, OCI_INDEX)


def simple_signing_payload(digest: str, docker_reference: str) -> bytes:
    return canonical({"critical": {"identity": {"docker-reference": docker_reference},
                                   "image": {"docker-manifest-digest": digest},
                                   "type": "cosign container image signature"},
                      "optional": None})


def sign_statement(digest: str, name: str, predicate_type: str = SIGN_PREDICATE) -> bytes:
    algorithm, _, hex_digest = digest.partition(":")
    return canonical({"_type": "https://in-toto.io/Statement/v1",
                      "subject": [{"name": name, "digest": {algorithm: hex_digest}}],
                      "predicateType": predicate_type, "predicate": {}})


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def key_bundle(statement: bytes, key: PrivateKey, payload_type: str = "application/vnd.in-toto+json",
               signature: bytes | None = None) -> bytes:
    """A Sigstore bundle v0.3 with a public-key hint and a DSSE envelope signed by ``key``."""
    sig = sign(key, pae(payload_type, statement)) if signature is None else signature
    hint = base64.b64encode(hashlib.sha256(public_pem(key).encode()).digest()).decode()
    return canonical({
        "mediaType": BUNDLE_TYPE,
        "verificationMaterial": {"publicKey": {"hint": hint}, "tlogEntries": []},
        "dsseEnvelope": {"payload": base64.b64encode(statement).decode(), "payloadType": payload_type,
                         "signatures": [{"sig": base64.b64encode(sig).decode(), "keyid": ""}]},
    })
