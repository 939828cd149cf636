"""A scripted image verifier for the verification-hook tests of both engines."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.verification import VerificationResult


@dataclass
class FakeVerifier:
    """Rejects the images in ``rejected``; answers "unreachable" ``unreachable_times`` times first."""

    rejected: set[str] = field(default_factory=set)
    unreachable_times: int = 0
    calls: list[str] = field(default_factory=list)

    def verify(self, image: str) -> VerificationResult:
        self.calls.append(image)
        if self.unreachable_times > 0:
            self.unreachable_times -= 1
            return VerificationResult(False, "registry unreachable", retryable=True)
        if image in self.rejected:
            return VerificationResult(False, "no valid signature from the kubernaut release key")
        return VerificationResult(True, "signed by the kubernaut release key")
