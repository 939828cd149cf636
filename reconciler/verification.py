"""The image signature hook: no action container runs unless its image passes the policy.

The ActionExecution controller asks :class:`ImageVerification` before it creates the first Job of
a step. The real Cosign verifier (``sigstore``) arrives in a later issue; until then the policy
has two modes:

* ``verify`` (the in-cluster default): a :class:`Verifier` decides. Without one configured the
  check **fails closed** — a controller that cannot verify must not run unverified code.
* ``skip`` (``kubernaut run``, which simulates containers and runs none of the images): every
  image passes, and the reason says the check was skipped.

Results are cached by digest: a signature belongs to the content, so verifying
``repo@sha256:x`` once is enough for every workflow using that content. Errors that may go away
(``retryable``: the registry was unreachable) are never cached.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from .metrics import Metrics

__all__ = ["ImagePolicy", "ImageVerification", "VerificationResult", "Verifier", "image_digest"]

PolicyMode = Literal["verify", "skip"]

NO_VERIFIER = ("image signature verification is required (image policy mode 'verify') but no verifier "
               "is configured; refusing to run an unverified image")


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    reason: str
    #: The check could not be carried out (network, registry): retry later rather than fail.
    retryable: bool = False


@runtime_checkable
class Verifier(Protocol):
    def verify(self, image: str) -> VerificationResult:
        """Check the signature of ``image`` (pinned by digest)."""
        ...


@dataclass(frozen=True)
class ImagePolicy:
    mode: PolicyMode = "verify"
    verifier: Verifier | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("verify", "skip"):
            raise ValueError(f"image policy mode must be 'verify' or 'skip', not {self.mode!r}")


def image_digest(image: str) -> str:
    """The cache key of an image: its digest when pinned, else the whole reference."""
    _, at, digest = image.partition("@")
    return digest if at and digest else image


class ImageVerification:
    """Applies an :class:`ImagePolicy`, caching definite answers by digest."""

    def __init__(self, policy: ImagePolicy, metrics: Metrics | None = None) -> None:
        self.policy = policy
        self.metrics = metrics
        self._cache: dict[str, VerificationResult] = {}
        self._lock = threading.Lock()

    def check(self, image: str) -> VerificationResult:
        if self.policy.mode == "skip":
            return self._count(VerificationResult(True, "signature verification skipped by the image policy"),
                               "skipped")
        key = image_digest(image)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return self._count(cached, "cached")
        verifier = self.policy.verifier
        if verifier is None:
            return self._count(VerificationResult(False, NO_VERIFIER), "error")
        try:
            result = verifier.verify(image)
        except Exception as exc:  # a verifier bug or outage must not let the image through
            result = VerificationResult(False, f"signature verification of {image} raised "
                                               f"{type(exc).__name__}: {exc}", retryable=True)
        if not result.retryable:
            with self._lock:
                self._cache[key] = result
        outcome = "verified" if result.ok else ("error" if result.retryable else "rejected")
        return self._count(result, outcome)

    def _count(self, result: VerificationResult, outcome: str) -> VerificationResult:
        if self.metrics is not None:
            self.metrics.image_verification(outcome)
        return result
