"""Issue 5 acceptance (7): the image signature hook. A rejected image fails its step before any
Job exists; "verify" without a verifier fails closed; answers are cached by digest; a verifier
that cannot decide is asked again later, and nothing runs meanwhile."""

from __future__ import annotations

import pytest
from jobs_engine_harness import IMAGE, OTHER_IMAGE, Harness, echo_step, workflow
from support.verifiers import FakeVerifier

from reconciler.app import AppConfig, simulated_pods
from reconciler.metrics import Metrics
from reconciler.verification import (
    NO_VERIFIER,
    ImagePolicy,
    ImageVerification,
    VerificationResult,
    Verifier,
    image_digest,
)


def harness(policy: ImagePolicy) -> Harness:
    return Harness(config=AppConfig(image_policy=policy, pod_lookup=simulated_pods))


def test_a_rejected_image_fails_its_step_without_a_job() -> None:
    verifier = FakeVerifier(rejected={OTHER_IMAGE})
    h = harness(ImagePolicy("verify", verifier))
    h.create(workflow("signed", echo_step("good", inputs={"x": 1}) + echo_step("evil", image=OTHER_IMAGE)
                      + echo_step("after", after=["evil"])))
    assert h.run()
    status = h.status("signed")
    assert h.steps("signed") == {"good": ("Succeeded", 1), "evil": ("Failed", 0), "after": ("Skipped", 0)}
    message = f"image verification failed for {OTHER_IMAGE}: no valid signature from the kubernaut release key"
    assert h.step("signed", "evil")["message"] == message
    assert (status["phase"], status["message"]) == ("Failed", message)
    assert {j.label("kubernaut.ai/step") for j in h.job_creations()} == {"good"}


def test_verify_mode_without_a_verifier_fails_closed() -> None:
    h = harness(ImagePolicy("verify"))
    h.create(workflow("unverified", echo_step("a")))
    assert h.run()
    step = h.step("unverified", "a")
    assert step["phase"] == "Failed"
    assert step["message"] == f"image verification failed for {IMAGE}: {NO_VERIFIER}"
    assert not h.objects("Job")


def test_the_in_cluster_default_is_verify() -> None:
    assert AppConfig().image_policy.mode == "verify"
    assert AppConfig().image_policy.verifier is None


def test_answers_are_cached_by_digest() -> None:
    verifier = FakeVerifier()
    h = harness(ImagePolicy("verify", verifier))
    h.create(workflow("cached", echo_step("a") + echo_step("b") + echo_step("c", after=["a"])))
    assert h.run()
    assert h.status("cached")["phase"] == "Succeeded"
    assert verifier.calls == [IMAGE]
    other_repo_same_digest = "registry.example/mirror/echo@" + IMAGE.split("@")[1]
    assert image_digest(other_repo_same_digest) == image_digest(IMAGE)


def test_an_undecided_verification_is_retried_and_nothing_runs_meanwhile() -> None:
    verifier = FakeVerifier(unreachable_times=3)
    h = harness(ImagePolicy("verify", verifier))
    h.create(workflow("flaky-registry", echo_step("a")))
    assert h.run()
    assert h.steps("flaky-registry") == {"a": ("Succeeded", 1)}
    assert len(verifier.calls) == 4
    assert len(h.job_creations()) == 1
    first_job = h.job_creations()[0].obj["metadata"]["creationTimestamp"]
    assert first_job > "2026-01-01T00:00:00Z"  # created only after the backoff of three failed checks


def test_a_verifier_that_raises_is_an_error_not_a_pass() -> None:
    class Broken:
        def verify(self, image: str) -> VerificationResult:
            raise RuntimeError("bug")

    verification = ImageVerification(ImagePolicy("verify", Broken()))
    result = verification.check(IMAGE)
    assert not result.ok and result.retryable and "RuntimeError: bug" in result.reason


def test_skip_mode_passes_everything_and_says_so() -> None:
    metrics = Metrics()
    verification = ImageVerification(ImagePolicy("skip"), metrics)
    assert verification.check(IMAGE) == VerificationResult(True, "signature verification skipped by the image policy")
    assert b'kubernaut_image_verifications_total{result="skipped"} 1.0' in metrics.exposition()


def test_rejections_are_cached_and_counted() -> None:
    metrics = Metrics()
    verifier = FakeVerifier(rejected={IMAGE})
    verification = ImageVerification(ImagePolicy("verify", verifier), metrics)
    assert not verification.check(IMAGE).ok
    assert not verification.check(IMAGE).ok
    assert verifier.calls == [IMAGE]
    text = metrics.exposition()
    assert b'result="rejected"} 1.0' in text and b'result="cached"} 1.0' in text


def test_policy_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="verify' or 'skip"):
        ImagePolicy("maybe")  # type: ignore[arg-type]
    assert isinstance(FakeVerifier(), Verifier)
