"""Issue 10 on V2, end to end: every image of the workflow is verified against the
ClusterImagePolicies (real verifier, images signed in a real local docker-registry) before the
PipelineRun exists; a rejected image means no PipelineRun at all; a second workflow with the same
images makes no registry request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.registry import RunningRegistry, docker_registry
from support.signed_images import LateVerifier, SignedImages
from tekton_engine_harness import Harness, step, workflow

from reconciler.app import AppConfig
from reconciler.simulation.wiring import simulated_pods
from reconciler.verification import ImagePolicy


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with docker_registry(tmp_path_factory.mktemp("docker-registry")) as running:
        yield running


def world(registry: RunningRegistry) -> tuple[Harness, SignedImages, LateVerifier]:
    images = SignedImages(registry.host)
    verifier = LateVerifier()
    h = Harness(config=AppConfig(image_policy=ImagePolicy("verify", verifier), pod_lookup=simulated_pods))
    verifier.attach(h.cluster, h.clock)
    h.cluster.create(images.policy())
    return h, images, verifier


def test_signed_images_run_and_the_cache_saves_the_second_workflow(registry: RunningRegistry) -> None:
    h, images, verifier = world(registry)
    first, second = images.image(), images.image(signature_format="bundle")
    steps = step("a", image=first, inputs={"x": 1}) + step("b", image=second, after=["a"])
    h.create(workflow("one", steps))
    assert h.run()
    assert h.status("one")["phase"] == "Succeeded"
    assert len(h.objects("PipelineRun")) == 1
    asked = verifier.backend.requests_sent
    assert asked > 0
    h.create(workflow("two", steps))
    assert h.run()
    assert h.status("two")["phase"] == "Succeeded"
    assert verifier.backend.requests_sent == asked
    assert len(h.objects("PipelineRun")) == 2


def test_one_unsigned_image_means_no_pipelinerun(registry: RunningRegistry) -> None:
    h, images, _ = world(registry)
    unsigned = images.image(signed=False)
    h.create(workflow("mixed", step("a", image=images.image(), inputs={"x": 1})
                      + step("b", image=unsigned, after=["a"])))
    assert h.run()
    status = h.status("mixed")
    assert status["phase"] == "Failed"
    assert status["message"].startswith(f"image verification failed for {unsigned}: policy actions: ")
    assert h.step("mixed", "b")["failure"]["reason"] == "SignatureVerificationFailed"
    assert h.steps("mixed") == {"a": ("Skipped", 0), "b": ("Failed", 0)}
    assert not h.objects("PipelineRun") and not h.seen("PipelineRun")
    assert ("Warning", "SignatureVerificationFailed", status["message"]) in h.events("mixed")


def test_an_image_no_policy_matches_means_no_pipelinerun(registry: RunningRegistry) -> None:
    h, _, verifier = world(registry)
    outside = "registry.invalid/elsewhere/echo@sha256:" + "f" * 64
    h.create(workflow("unmatched", step("a", image=outside)))
    assert h.run()
    assert "no ClusterImagePolicy matches registry.invalid/elsewhere/echo" in h.status("unmatched")["message"]
    assert not h.objects("PipelineRun")
    assert verifier.backend.requests_sent == 0


def test_a_warn_policy_lets_the_run_start_and_says_so(registry: RunningRegistry) -> None:
    h, images, _ = world(registry)
    h.cluster.create(images.policy("audit", mode="warn", glob=f"{registry.host}/kubernaut/actions/*"))
    h.cluster.delete(*_policy_key("actions"))
    image = images.image(signed=False)
    h.create(workflow("audited", step("a", image=image)))
    assert h.run()
    assert h.status("audited")["phase"] == "Succeeded"
    assert any(e[1] == "ImagePolicyWarning" and e[2].startswith(f"{image}: policy audit (mode warn): ")
               for e in h.events("audited"))


def _policy_key(name: str) -> tuple[str, str, str]:
    return ("policy.kubernaut.ai/v1alpha1", "ClusterImagePolicy", name)
