"""``verify_image``: is this image (pinned by digest) signed by one of the trusted authorities?

Fail closed: anything that is not a verified signature — no signature, a broken one, a registry
error, malformed data — is ``ok=False`` with the reason; ``retryable`` is set only for transport
errors that may go away. One valid signature from any authority is enough (key rotation = several
keys trusted at once); the reasons of all rejected candidates are kept so an operator can see why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .authority import Authority, SignatureFormat
from .bundle import BUNDLE_LIMIT, check_bundle
from .errors import NotFoundError, SupplyChainError
from .legacy import PAYLOAD_LIMIT, check_legacy_signature
from .outcome import Outcome
from .reference import ImageReference
from .registry import RegistryClient
from .registry.mediatypes import SIGSTORE_BUNDLE_TYPES

#: A referrers list longer than this is refused rather than walked (each entry costs requests).
MAX_CANDIDATES = 32


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool
    reason: str
    retryable: bool = False
    authority: str | None = None


def verify_image(ref: ImageReference, authorities: Sequence[Authority], signature_format: SignatureFormat,
                 client: RegistryClient, *, docker_reference: str | None = None) -> SignatureCheck:
    """Verify ``ref``'s signatures; ``docker_reference`` optionally pins legacy payloads to a repository."""
    if signature_format not in ("legacy", "bundle", "any"):
        return SignatureCheck(False, f"unknown signature format {signature_format!r}")
    if not authorities:
        return SignatureCheck(False, "no trusted key or keyless identity is configured")
    try:
        # The image itself must exist with exactly this digest before any signature means anything.
        client.get_manifest(ref)
        outcomes: list[Outcome] = []
        if signature_format in ("legacy", "any"):
            outcomes += _legacy(ref, authorities, client, docker_reference)
            if outcomes and outcomes[-1].ok:
                return _passed(outcomes[-1])
        if signature_format in ("bundle", "any"):
            outcomes += _bundles(ref, authorities, client)
            if outcomes and outcomes[-1].ok:
                return _passed(outcomes[-1])
    except SupplyChainError as exc:
        return SignatureCheck(False, f"cannot verify {ref}: {exc}", exc.retryable)
    return SignatureCheck(False, _rejection(ref, signature_format, outcomes))


def _passed(outcome: Outcome) -> SignatureCheck:
    return SignatureCheck(True, outcome.reason, False, outcome.authority)


def _rejection(ref: ImageReference, signature_format: SignatureFormat, outcomes: list[Outcome]) -> str:
    if not outcomes:
        looked = {"legacy": "no legacy .sig signature", "bundle": "no sigstore bundle referrer",
                  "any": "no legacy .sig signature and no sigstore bundle referrer"}[signature_format]
        return f"{ref} is not signed ({looked})"
    reasons = list(dict.fromkeys(o.reason for o in outcomes))
    return f"{ref}: no valid signature: " + "; ".join(reasons)


def _legacy(ref: ImageReference, authorities: Sequence[Authority], client: RegistryClient,
            docker_reference: str | None) -> list[Outcome]:
    try:
        signatures = client.get_manifest(ref, f"{ref.digest.replace(':', '-')}.sig")
    except NotFoundError:
        return []
    outcomes = []
    for layer in signatures.layers[:MAX_CANDIDATES]:
        digest = layer.get("digest")
        if not isinstance(digest, str):
            outcomes.append(Outcome(False, "signature layer without a digest"))
            continue
        try:
            blob = client.get_blob(ref, digest, PAYLOAD_LIMIT)
        except NotFoundError:
            outcomes.append(Outcome(False, f"signature payload {digest} is missing"))
            continue
        outcome = check_legacy_signature(blob, layer, ref.digest, authorities, docker_reference)
        outcomes.append(outcome)
        if outcome.ok:
            break
    return outcomes


def _text(value: object) -> str | None:
    """``value`` when it is a string: registry JSON is untrusted and may hold anything."""
    return value if isinstance(value, str) else None


def _bundles(ref: ImageReference, authorities: Sequence[Authority], client: RegistryClient) -> list[Outcome]:
    outcomes = []
    for descriptor in client.referrers(ref)[:MAX_CANDIDATES]:
        digest = descriptor.get("digest")
        if not isinstance(digest, str):
            continue
        # Not filtered on the descriptor's artifactType: the fallback tag index may carry the
        # config media type there. The referrer manifest itself says what it is.
        try:
            manifest = client.get_manifest(ref, digest)
        except NotFoundError:
            # A stale fallback-index entry (the referrer was deleted) must not hide the others.
            outcomes.append(Outcome(False, f"referrer {digest} is listed but missing"))
            continue
        config = manifest.body.get("config")
        artifact_type = _text(manifest.body.get("artifactType")) or _text(
            config.get("mediaType") if isinstance(config, dict) else None)
        layers = [layer for layer in manifest.layers if _text(layer.get("mediaType")) in SIGSTORE_BUNDLE_TYPES]
        if artifact_type not in SIGSTORE_BUNDLE_TYPES and not layers:
            continue  # an SBOM, an attestation of another kind...: not a signature
        subject = manifest.body.get("subject")
        subject_digest = subject.get("digest") if isinstance(subject, dict) else None
        if subject_digest != ref.digest:
            outcomes.append(Outcome(False, f"bundle referrer {digest} has subject {subject_digest}, not {ref.digest}"))
            continue
        for layer in layers:
            layer_digest = layer.get("digest")
            if not isinstance(layer_digest, str):
                outcomes.append(Outcome(False, f"bundle referrer {digest} has a layer without a digest"))
                continue
            try:
                blob = client.get_blob(ref, layer_digest, BUNDLE_LIMIT)
            except NotFoundError:
                outcomes.append(Outcome(False, f"bundle {layer_digest} is missing"))
                continue
            outcome = check_bundle(blob, ref.digest, authorities)
            outcomes.append(outcome)
            if outcome.ok:
                return outcomes
    return outcomes
