"""A scripted image verifier for the verification-gate tests of both engines."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.verification import ImageContext, VerificationResult


@dataclass
class FakeVerifier:
    """Rejects the images in ``rejected``; answers "unreachable" ``unreachable_times`` times first;
    hands out ``contracts[image]`` as the verified image's contract."""

    rejected: set[str] = field(default_factory=set)
    unreachable_times: int = 0
    contracts: dict[str, bytes] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    contexts: list[ImageContext] = field(default_factory=list)

    def verify(self, image: str, context: ImageContext) -> VerificationResult:
        self.calls.append(image)
        self.contexts.append(context)
        if self.unreachable_times > 0:
            self.unreachable_times -= 1
            return VerificationResult(False, "registry unreachable", retryable=True)
        if image in self.rejected:
            return VerificationResult(False, "no valid signature from the kubernaut release key")
        return VerificationResult(True, "signed by the kubernaut release key", image=image,
                                  contract=self.contracts.get(image))
