"""Issue 10 on V1, end to end: ClusterImagePolicies in the cluster, images pushed and signed in a
real local docker-registry (keys, and keyless through a private offline Sigstore), the real
verifier, the ActionExecution controller. Signed images run; unsigned, wrongly signed (key, keyless
identity or issuer) and unmatched ones never get a Job; the cache saves the registry a second
trip (request counting); failures are remembered ~30 s of virtual time, passes much longer; a
registry that cannot be reached keeps the step waiting (fail closed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs_engine_harness import Harness, echo_step, workflow
from support.oci import action_files, build_image, layer, make_key, public_pem
from support.registry import RunningRegistry, docker_registry, free_port
from support.signed_images import ECHO_CONTRACT, LateVerifier, SignedImages
from support.sigstore_local import LocalSigstore

from reconciler.app import AppConfig
from reconciler.simulation.wiring import simulated_pods
from reconciler.supplychain.policy_verifier import PolicySettings
from reconciler.verification import ImagePolicy

TYPED_CONTRACT = b"""apiVersion: kubernaut.ai/v1alpha1
kind: ActionContract
metadata: {name: kubernaut/echo}
spec:
  inputs:
    - {name: count, type: integer, required: true}
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with docker_registry(tmp_path_factory.mktemp("docker-registry")) as running:
        yield running


@pytest.fixture
def images(registry: RunningRegistry) -> SignedImages:
    return SignedImages(registry.host)


class World:
    def __init__(self, images: SignedImages, settings: PolicySettings | None = None) -> None:
        self.images = images
        self.verifier = LateVerifier()
        self.h = Harness(config=AppConfig(image_policy=ImagePolicy("verify", self.verifier),
                                          pod_lookup=simulated_pods))
        self.policy_verifier = self.verifier.attach(self.h.cluster, self.h.clock, settings)

    @property
    def requests(self) -> int:
        return self.verifier.backend.requests_sent

    def run(self, name: str, image: str, **inputs: object) -> dict[str, object]:
        self.h.create(workflow(name, echo_step("a", image=image, inputs=inputs or {"x": 1})))
        assert self.h.run()
        return self.h.step(name, "a")


def test_a_signed_image_runs_and_a_second_workflow_makes_no_registry_request(images: SignedImages) -> None:
    w = World(images)
    w.h.cluster.create(images.policy())
    image = images.image()
    step = w.run("first", image)
    assert step["phase"] == "Succeeded"
    (job,) = [j.obj for j in w.h.job_creations()]
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == image
    before = w.requests
    assert before > 0
    assert w.run("second", image)["phase"] == "Succeeded"
    assert w.requests == before


def test_an_unsigned_image_never_gets_a_job(images: SignedImages) -> None:
    w = World(images)
    w.h.cluster.create(images.policy())
    image = images.image(signed=False)
    step = w.run("unsigned", image)
    assert (step["phase"], step["failure"]["reason"]) == ("Failed", "SignatureVerificationFailed")
    assert str(step["message"]).startswith(f"image verification failed for {image}: policy actions: ")
    assert "not signed" in str(step["message"])
    assert not w.h.job_creations()
    assert ("Warning", "SignatureVerificationFailed", step["message"]) in w.h.events("unsigned")
    metrics = w.h.app.metrics.exposition()
    assert b'kubernaut_image_verifications_total{result="rejected"} 1.0' in metrics


def test_a_signature_by_another_key_is_rejected(images: SignedImages) -> None:
    w = World(images)
    w.h.cluster.create(images.policy())
    step = w.run("wrong-key", images.image(key=make_key()))
    assert (step["phase"], step["failure"]["reason"]) == ("Failed", "SignatureVerificationFailed")


def test_a_keyless_only_policy_does_not_accept_a_key_signature(images: SignedImages, tmp_path: Path) -> None:
    w = World(images)
    w.h.cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "sigstore", "namespace": "kubernaut-system"}, "data": {"trusted_root.json": "{}"}})
    policy = images.policy()
    policy["spec"]["authorities"] = [{"name": "ci", "keyless": {
        "identities": [{"subject": "release@example.com", "issuer": "https://issuer.example"}],
        "trustRootRef": {"kind": "ConfigMap", "name": "sigstore"}}}]
    w.h.cluster.create(policy)
    step = w.run("keyless", images.image(signature_format="bundle"))
    assert (step["phase"], step["failure"]["reason"]) == ("Failed", "SignatureVerificationFailed")
    assert not w.h.job_creations()


IDENTITY = "https://github.com/acme/actions/.github/workflows/release.yml@refs/tags/v1.2.0"
ISSUER = "https://token.actions.githubusercontent.com"


@pytest.mark.parametrize(("identity", "passes"), [
    ({"subject": IDENTITY, "issuer": ISSUER}, True),
    ({"subjectRegExp": r"^https://github\.com/acme/actions/.*$", "issuerRegExp": r"^https://token\..*$"}, True),
    ({"subject": IDENTITY.replace("acme", "evil"), "issuer": ISSUER}, False),
    ({"subject": IDENTITY, "issuer": "https://accounts.google.com"}, False),
])
def test_keyless_identities_with_a_pinned_trusted_root(images: SignedImages, identity: dict[str, str],
                                                       passes: bool) -> None:
    sigstore = LocalSigstore()
    w = World(images)
    w.h.cluster.create({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "sigstore", "namespace": "kubernaut-system"},
                        "data": {"trusted_root.json": sigstore.trusted_root_json()}})
    policy = images.policy(signatureFormat="bundle")
    policy["spec"]["authorities"] = [{"name": "ci", "keyless": {
        "identities": [identity], "trustRootRef": {"kind": "ConfigMap", "name": "sigstore"}}}]
    w.h.cluster.create(policy)
    step = w.run("keyless", images.keyless_image(sigstore, IDENTITY, ISSUER))
    if passes:
        assert step["phase"] == "Succeeded", step["message"]
    else:
        assert (step["phase"], step["failure"]["reason"]) == ("Failed", "SignatureVerificationFailed")
        assert "is not the trusted" in str(step["message"])
        assert not w.h.job_creations()


def test_an_image_no_policy_matches_is_denied(images: SignedImages) -> None:
    w = World(images)
    w.h.cluster.create(images.policy(glob="elsewhere.example/**"))
    image = images.image()
    step = w.run("unmatched", image)
    assert step["phase"] == "Failed"
    assert "no ClusterImagePolicy matches" in str(step["message"])
    assert w.requests == 0


def test_the_same_digest_under_another_repository_is_judged_again(images: SignedImages) -> None:
    w = World(images)
    w.h.cluster.create(images.policy())
    w.h.cluster.create(images.policy("evil", glob=f"{images.host}/kubernaut/evil/*", key=make_key()))
    # The same content in two repositories, both signed by the release key.
    content = build_image(layer(action_files(ECHO_CONTRACT)), marker=f"twins-{public_pem(images.key)}")
    pusher = images.pusher
    digest = pusher.push_image("kubernaut/actions/echo", content)
    assert pusher.push_image("kubernaut/evil/echo", content) == digest
    for repository in ("kubernaut/actions/echo", "kubernaut/evil/echo"):
        pusher.sign_legacy(repository, digest, images.key)
    assert w.run("trusted", pusher.image_ref("kubernaut/actions/echo", digest))["phase"] == "Succeeded"
    evil = w.run("evil", pusher.image_ref("kubernaut/evil/echo", digest))
    assert evil["phase"] == "Failed" and "policy evil:" in str(evil["message"])


def test_failures_are_remembered_briefly_and_passes_long(images: SignedImages) -> None:
    w = World(images, PolicySettings(namespace="kubernaut-system", pass_ttl=3600, fail_ttl=30))
    w.h.cluster.create(images.policy())
    image = images.image(signed=False)
    assert w.run("early", image)["phase"] == "Failed"
    images.sign(image)
    asked = w.requests
    # Within the failure TTL the rejection stands without asking the registry again.
    assert w.run("soon", image)["phase"] == "Failed"
    assert w.requests == asked
    w.h.clock.advance(31)
    assert w.run("later", image)["phase"] == "Succeeded"
    asked = w.requests
    w.h.clock.advance(3000)
    assert w.run("much-later", image)["phase"] == "Succeeded"
    assert w.requests == asked


def test_the_images_own_contract_checks_the_resolved_inputs(images: SignedImages) -> None:
    w = World(images)
    w.h.cluster.create(images.policy())
    image = images.image(contract=TYPED_CONTRACT)
    assert w.run("typed-ok", image, count=3)["phase"] == "Succeeded"
    step = w.run("typed-bad", image, count="three")
    assert (step["phase"], step["failure"]["reason"]) == ("Failed", "InvalidInputs")
    assert "input 'count' must be integer, not string" in str(step["message"])


def test_an_unreachable_registry_keeps_the_step_waiting(images: SignedImages) -> None:
    w = World(images)
    w.h.cluster.create(images.policy(glob="**"))
    gone = f"127.0.0.1:{free_port()}/kubernaut/actions/echo@sha256:" + "e" * 64
    w.h.create(workflow("down", echo_step("a", image=gone)))
    w.h.manager.run_until(lambda: False, max_virtual_seconds=120)
    assert not w.h.objects("Job")
    assert w.h.step("down", "a")["phase"] in ("Pending", "Running")
    assert b'kubernaut_image_verifications_total{result="error"}' in w.h.app.metrics.exposition()
    (event,) = [e for e in w.h.events("down") if e[1] == "ImageVerificationRetrying"]
    assert event[2].startswith(f"image verification of {gone} could not be completed: ")
    assert event[2].endswith("; retrying, nothing runs meanwhile")


def test_a_warn_policy_lets_an_unsigned_image_run_and_says_so(images: SignedImages) -> None:
    w = World(images)
    w.h.cluster.create(images.policy(mode="warn"))
    image = images.image(signed=False)
    assert w.run("audited", image)["phase"] == "Succeeded"
    (event,) = [e for e in w.h.events("audited") if e[1] == "ImagePolicyWarning"]
    assert event[0] == "Warning" and event[2].startswith(f"{image}: policy actions (mode warn): ")
    assert b'kubernaut_image_verifications_total{result="warned"} 1.0' in w.h.app.metrics.exposition()
