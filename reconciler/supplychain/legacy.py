"""Legacy cosign signatures: simple-signing payloads in the ``sha256-<hex>.sig`` manifest.

Each layer of that manifest is one signature: the blob is the simple-signing JSON, the signature
(base64) sits in the ``dev.cosignproject.cosign/signature`` annotation. The order of checks matters
and follows cosign and containers/image: the signature is verified over the **raw blob bytes** as
stored (re-serialising the JSON would change them), the blob must hash to the layer digest, and
only a payload that verified is parsed and must name this image's manifest digest.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .authority import Authority, KeyAuthority
from .keys import load_public_key, signature_valid
from .outcome import Outcome
from .reference import strip_reference
from .registry.mediatypes import (
    COSIGN_CERTIFICATE_ANNOTATION,
    COSIGN_SIGNATURE_ANNOTATION,
    COSIGN_SIMPLE_SIGNING,
)

SIMPLE_SIGNING_TYPE = "cosign container image signature"
#: Simple-signing payloads are a few hundred bytes; anything near this is not one.
PAYLOAD_LIMIT = 256 * 1024


def check_legacy_signature(blob: bytes, layer: Mapping[str, Any], image_digest: str,
                           authorities: Sequence[Authority], docker_reference: str | None = None) -> Outcome:
    """Verify one signature layer (``layer`` is its descriptor, ``blob`` its content)."""
    media_type = layer.get("mediaType")
    if not isinstance(media_type, str) or media_type != COSIGN_SIMPLE_SIGNING:
        return Outcome(False, f"attachment of type {media_type!r} is not a simple-signing signature")
    if "sha256:" + hashlib.sha256(blob).hexdigest() != layer.get("digest"):
        return Outcome(False, "signature payload does not match its layer digest")
    annotations = layer.get("annotations") or {}
    if not isinstance(annotations, Mapping):
        return Outcome(False, "signature layer annotations are malformed")
    if annotations.get(COSIGN_CERTIFICATE_ANNOTATION):
        return Outcome(False, "keyless legacy signature (Fulcio certificate and Rekor bundle in annotations) "
                              "is not supported: sign with a key, or keyless with a cosign v3 bundle")
    encoded = annotations.get(COSIGN_SIGNATURE_ANNOTATION)
    if not isinstance(encoded, str) or not encoded:
        return Outcome(False, f"signature layer has no {COSIGN_SIGNATURE_ANNOTATION} annotation")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        return Outcome(False, "signature annotation is not base64")
    key_authorities = [a for a in authorities if isinstance(a, KeyAuthority)]
    if not key_authorities:
        return Outcome(False, "key-based legacy signature, but no public key is trusted")
    signer = _signer(key_authorities, signature, blob)
    if signer is None:
        return Outcome(False, "signature does not verify with any trusted public key")
    return _check_payload(blob, image_digest, docker_reference, signer)


def _signer(authorities: Sequence[KeyAuthority], signature: bytes, blob: bytes) -> str | None:
    for authority in authorities:
        for index, pem in enumerate(authority.public_keys_pem):
            key = load_public_key(pem, f"authority {authority.name!r} key {index + 1}")
            if signature_valid(key.key, signature, blob):
                return authority.name
    return None


def _check_payload(blob: bytes, image_digest: str, docker_reference: str | None, signer: str) -> Outcome:
    if len(blob) > PAYLOAD_LIMIT:
        return Outcome(False, "signed payload is too large to be a simple-signing payload")
    try:
        payload = json.loads(blob)
        critical = payload["critical"]
        signed_type = critical["type"]
        signed_digest = critical["image"]["docker-manifest-digest"]
        identity = critical.get("identity") or {}
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError):
        return Outcome(False, "signed payload is not a simple-signing document")
    if signed_type != SIMPLE_SIGNING_TYPE:
        return Outcome(False, f"signed payload has type {signed_type!r}, not {SIMPLE_SIGNING_TYPE!r}")
    if signed_digest != image_digest:
        return Outcome(False, f"signature is for manifest {signed_digest}, not {image_digest}")
    if docker_reference is not None:
        signed_reference = identity.get("docker-reference") if isinstance(identity, Mapping) else None
        if not isinstance(signed_reference, str) or not signed_reference:
            return Outcome(False, "signature names no docker-reference but one is required")
        try:
            matches = strip_reference(signed_reference) == strip_reference(docker_reference)
        except ValueError:
            matches = False
        if not matches:
            return Outcome(False, f"signature is pinned to {signed_reference}, not {docker_reference}")
    return Outcome(True, f"legacy cosign signature verified by {signer}", signer)
