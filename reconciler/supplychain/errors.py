"""The one exception family of the supply-chain package.

Callers fail closed on every :class:`SupplyChainError`; ``retryable`` says whether trying again
later may help (the registry answered 5xx/429 or timed out even after the client's own retries),
so a controller backs off on those and reports everything else as a definite rejection.
"""

from __future__ import annotations


class SupplyChainError(Exception):
    """Something prevented a verification or a contract fetch; never means "verified"."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class ImageReferenceError(SupplyChainError, ValueError):
    """An image reference that cannot be verified: malformed, or a tag without a digest."""


class RegistryError(SupplyChainError):
    """The registry refused, failed, or sent content that does not match what was asked for."""


class NotFoundError(RegistryError):
    """The registry answered 404 for a manifest, blob or referrers list."""


class TrustMaterialError(SupplyChainError, ValueError):
    """A public key, trusted root or identity pattern that cannot be used (a usage error)."""
