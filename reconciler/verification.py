"""The image signature gate: no action container runs unless its image passes the image policy.

Both engines ask :class:`ImageVerification` before anything of a step can run (V1: before the
first Job of a step; V2: every image of the workflow before the PipelineRun exists). The policy
has two modes:

* ``verify`` (the in-cluster default): a :class:`Verifier` decides — in the cluster the
  ClusterImagePolicy verifier (``reconciler.supplychain.policy_verifier``). Without one the check
  **fails closed**: a controller that cannot verify must not run unverified code.
* ``skip`` (``kubernaut run`` without ``--verify``, which simulates containers and runs none of
  the images): every image passes, and the reason says the check was skipped.

A verifier answers with the exact reference it verified (``image``): the engines run that
reference and nothing re-read later, so a spec edited after verification cannot swap the image.
Caching belongs to the verifier (its key needs the policies that matched); errors that may go
away (``retryable``: the registry was unreachable) are retried by the controllers with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from .metrics import Metrics

__all__ = [
    "NO_VERIFIER",
    "SIGNATURE_VERIFICATION_FAILED",
    "ImageContext",
    "ImagePolicy",
    "ImageVerification",
    "VerificationResult",
    "Verifier",
]

PolicyMode = Literal["verify", "skip"]

#: The step and workflow ``reason`` (and the Event's) when an image is rejected.
SIGNATURE_VERIFICATION_FAILED = "SignatureVerificationFailed"

NO_VERIFIER = ("image signature verification is required (image policy mode 'verify') but no verifier "
               "is configured; refusing to run an unverified image")


@dataclass(frozen=True)
class ImageContext:
    """Where the image will run: pull credentials come from the step's ServiceAccount there."""

    namespace: str | None = None
    service_account: str | None = None


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    reason: str
    #: The check could not be carried out (network, registry): retry later rather than fail.
    retryable: bool = False
    #: The reference that was verified: what the step must run (None when not verified).
    image: str | None = None
    #: The verified image's ``/action-contract.yaml`` (None: not fetched, or the image has none).
    contract: bytes | None = None
    #: Failures of ``warn``-mode policies: reported, not enforced.
    warnings: tuple[str, ...] = ()
    #: Answered from the verifier's cache (no registry request).
    cached: bool = False


@runtime_checkable
class Verifier(Protocol):
    def verify(self, image: str, context: ImageContext) -> VerificationResult:
        """Check ``image`` (pinned by digest) against the policy, for a step running in ``context``."""
        ...


@dataclass(frozen=True)
class ImagePolicy:
    mode: PolicyMode = "verify"
    verifier: Verifier | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("verify", "skip"):
            raise ValueError(f"image policy mode must be 'verify' or 'skip', not {self.mode!r}")


class ImageVerification:
    """Applies an :class:`ImagePolicy`: fails closed, counts every answer in
    ``kubernaut_image_verifications_total{result}`` (verified, cached, warned, rejected, error,
    skipped)."""

    def __init__(self, policy: ImagePolicy, metrics: Metrics | None = None) -> None:
        self.policy = policy
        self.metrics = metrics

    def check(self, image: str, context: ImageContext | None = None) -> VerificationResult:
        if self.policy.mode == "skip":
            return self._count(VerificationResult(True, "signature verification skipped by the image policy",
                                                  image=image), "skipped")
        verifier = self.policy.verifier
        if verifier is None:
            return self._count(VerificationResult(False, NO_VERIFIER), "error")
        try:
            result = verifier.verify(image, context or ImageContext())
        except Exception as exc:  # a verifier bug or outage must not let the image through
            result = VerificationResult(False, f"signature verification of {image} raised "
                                               f"{type(exc).__name__}: {exc}", retryable=True)
        if result.ok and result.image is None:
            result = VerificationResult(False, f"the verifier did not say which reference of {image} it verified")
        return self._count(result, _outcome(result))

    def _count(self, result: VerificationResult, outcome: str) -> VerificationResult:
        if self.metrics is not None:
            self.metrics.image_verification(outcome)
        return result


def _outcome(result: VerificationResult) -> str:
    if result.ok:
        return "cached" if result.cached else ("warned" if result.warnings else "verified")
    return "error" if result.retryable else "rejected"
