"""Cosign v3 signatures: a Sigstore bundle (v0.3) holding a DSSE envelope around an in-toto
statement with predicateType ``https://sigstore.dev/cosign/sign/v1`` whose subject is the image.

Keyless bundles are verified by sigstore-python against a pinned trusted root (certificate chain
to Fulcio, SCTs, Rekor inclusion) plus an identity policy. sigstore-python does not verify
public-key bundles, so those are checked here: DSSE pre-authentication encoding (PAE) over the
payload, signature by a trusted key. In both cases the statement is read only from the verified
payload.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509

from .authority import Authority, KeyAuthority, KeylessAuthority
from .errors import TrustMaterialError
from .keys import load_public_key, signature_valid
from .outcome import Outcome
from .registry.mediatypes import SIGSTORE_BUNDLE_TYPES

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
STATEMENT_TYPES = frozenset({"https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"})
BUNDLE_LIMIT = 1024 * 1024

_OIDC_ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
_OIDC_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what a DSSE signature actually signs."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def check_bundle(blob: bytes, image_digest: str, authorities: Sequence[Authority]) -> Outcome:
    """Verify one bundle for the image ``image_digest``."""
    if len(blob) > BUNDLE_LIMIT:
        return Outcome(False, "sigstore bundle is larger than 1 MiB")
    try:
        bundle = json.loads(blob)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return Outcome(False, "sigstore bundle is not JSON")
    media_type = bundle.get("mediaType") if isinstance(bundle, dict) else None
    if not isinstance(bundle, dict) or not isinstance(media_type, str) or media_type not in SIGSTORE_BUNDLE_TYPES:
        return Outcome(False, f"unsupported sigstore bundle media type {media_type!r}")
    envelope = bundle.get("dsseEnvelope")
    material = bundle.get("verificationMaterial")
    if not isinstance(envelope, dict) or not isinstance(material, dict):
        return Outcome(False, "sigstore bundle has no DSSE envelope (a cosign image signature always has one)")
    if "publicKey" in material:
        verified = _verify_with_keys(envelope, [a for a in authorities if isinstance(a, KeyAuthority)])
    elif "certificate" in material or "x509CertificateChain" in material:
        verified = _verify_keyless(blob, [a for a in authorities if isinstance(a, KeylessAuthority)])
    else:
        return Outcome(False, "sigstore bundle has neither a public key hint nor a certificate")
    if isinstance(verified, Outcome):
        return verified
    payload_type, payload, authority = verified
    return _check_statement(payload_type, payload, image_digest, authority)


def _verify_with_keys(envelope: Mapping[str, Any],
                      authorities: Sequence[KeyAuthority]) -> Outcome | tuple[str, bytes, str]:
    if not authorities:
        return Outcome(False, "public-key bundle, but no public key is trusted")
    payload_type = envelope.get("payloadType")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list):
        return Outcome(False, "DSSE envelope has no list of signatures")
    try:
        payload = base64.b64decode(str(envelope.get("payload", "")), validate=True)
        sigs = [base64.b64decode(str(s.get("sig", "")), validate=True) for s in signatures
                if isinstance(s, Mapping)]
    except binascii.Error:
        return Outcome(False, "DSSE envelope payload or signature is not base64")
    if not isinstance(payload_type, str) or not sigs:
        return Outcome(False, "DSSE envelope has no payload type or no signature")
    message = pae(payload_type, payload)
    for authority in authorities:
        for index, pem in enumerate(authority.public_keys_pem):
            key = load_public_key(pem, f"authority {authority.name!r} key {index + 1}")
            if any(signature_valid(key.key, sig, message) for sig in sigs):
                return payload_type, payload, authority.name
    return Outcome(False, "DSSE signature does not verify with any trusted public key")


def _verify_keyless(blob: bytes, authorities: Sequence[KeylessAuthority]) -> Outcome | tuple[str, bytes, str]:
    if not authorities:
        return Outcome(False, "keyless bundle, but no keyless identity is trusted")
    # Imported here: sigstore pulls in a lot, and only keyless verification needs it.
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle
    from sigstore.verify import Verifier

    try:
        bundle = Bundle.from_json(blob)
    except (SigstoreError, ValueError) as exc:
        return Outcome(False, f"sigstore bundle is malformed: {exc}")
    reasons = []
    for authority in authorities:
        verifier = Verifier(trusted_root=_trusted_root(authority.trusted_root_json))
        try:
            payload_type, payload = verifier.verify_dsse(bundle, IdentityPolicy(authority))
        except (SigstoreError, ValueError) as exc:
            reasons.append(f"{authority.name}: {exc}")
            continue
        return payload_type, payload, authority.name
    return Outcome(False, "keyless bundle rejected: " + "; ".join(reasons))


@functools.lru_cache(maxsize=8)
def _trusted_root(trusted_root_json: str) -> Any:
    """Parse (and self-check) a trusted root once per content; sigstore only reads files."""
    from sigstore.models import TrustedRoot

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trusted_root.json"
        path.write_text(trusted_root_json, encoding="utf-8")
        try:
            return TrustedRoot.from_file(str(path))
        except Exception as exc:  # sigstore raises several unrelated types for bad roots
            raise TrustMaterialError(f"unusable Sigstore trusted root: {exc}") from exc


def load_trusted_root(trusted_root_json: str) -> None:
    """Raise :class:`TrustMaterialError` now if the trusted root cannot be used (a usage error)."""
    _trusted_root(trusted_root_json)


class IdentityPolicy:
    """A sigstore verification policy: certificate SAN and OIDC issuer, each exact or a full-match regexp."""

    def __init__(self, authority: KeylessAuthority) -> None:
        self.authority = authority

    def verify(self, cert: x509.Certificate) -> None:
        from sigstore.errors import VerificationError

        issuer = certificate_issuer(cert)
        a = self.authority
        if issuer is None:
            raise VerificationError("certificate names no OIDC issuer")
        if not _matches(issuer, a.issuer, a.issuer_regexp):
            raise VerificationError(f"certificate issuer {issuer!r} is not the trusted issuer "
                                    f"{a.issuer or a.issuer_regexp!r}")
        identities = certificate_identities(cert)
        if not any(_matches(identity, a.subject, a.subject_regexp) for identity in identities):
            raise VerificationError(f"certificate identity {', '.join(sorted(identities)) or '(none)'} is not the "
                                    f"trusted identity {a.subject or a.subject_regexp!r}")


def certificate_issuer(cert: x509.Certificate) -> str | None:
    for oid in (_OIDC_ISSUER_V2, _OIDC_ISSUER_V1):
        try:
            value = cert.extensions.get_extension_for_oid(oid).value
        except x509.ExtensionNotFound:
            continue
        raw: bytes = value.value  # type: ignore[attr-defined]
        if oid == _OIDC_ISSUER_V2:
            raw = _der_utf8(raw)
        return raw.decode("utf-8", errors="replace")
    return None


def certificate_identities(cert: x509.Certificate) -> set[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    identities: set[str] = set(san.get_values_for_type(x509.RFC822Name))
    identities.update(san.get_values_for_type(x509.UniformResourceIdentifier))
    for other in san.get_values_for_type(x509.OtherName):
        identities.add(_der_utf8(other.value).decode("utf-8", errors="replace"))
    return identities


def _der_utf8(raw: bytes) -> bytes:
    """The content of a DER UTF8String (tag 0x0c); the bytes unchanged when they are not one."""
    if len(raw) >= 2 and raw[0] == 0x0C:
        length, offset = raw[1], 2
        if length & 0x80:
            count = length & 0x7F
            length, offset = int.from_bytes(raw[2:2 + count], "big"), 2 + count
        return raw[offset:offset + length]
    return raw


def _matches(value: str, exact: str | None, pattern: str | None) -> bool:
    if exact is not None:
        return value == exact
    return pattern is not None and re.fullmatch(pattern, value) is not None


def _check_statement(payload_type: str, payload: bytes, image_digest: str, authority: str) -> Outcome:
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        return Outcome(False, f"DSSE payload type {payload_type!r} is not an in-toto statement")
    try:
        statement = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return Outcome(False, "signed in-toto statement is not JSON")
    if not isinstance(statement, dict) or not isinstance(statement.get("_type"), str) \
            or statement["_type"] not in STATEMENT_TYPES:
        return Outcome(False, "signed payload is not an in-toto statement")
    predicate_type = statement.get("predicateType")
    if predicate_type != COSIGN_SIGN_PREDICATE:
        return Outcome(False, f"signed statement has predicateType {predicate_type!r}, not the cosign "
                              f"image signature {COSIGN_SIGN_PREDICATE!r} (an attestation is not a signature)")
    algorithm, _, hex_digest = image_digest.partition(":")
    subjects = statement.get("subject")
    if not isinstance(subjects, list):
        subjects = []
    signed = [s.get("digest", {}).get(algorithm) for s in subjects if isinstance(s, dict)
              and isinstance(s.get("digest"), dict)]
    if hex_digest not in signed:
        shown = ", ".join(f"{algorithm}:{d}" for d in signed if isinstance(d, str)) or "nothing"
        return Outcome(False, f"signed statement is for {shown}, not {image_digest}")
    return Outcome(True, f"cosign v3 bundle verified by {authority}", authority)
