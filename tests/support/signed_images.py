"""Signed action images in a real local registry, and the ClusterImagePolicy verifier wired to it,
for the controller tests of both engines (issue 10).

``SignedImages`` pushes ``kubernaut/echo`` images (the built-in echo contract, or another one) to a
``docker-registry`` started by the test module, signs them with a key made in the test, and builds
policies that trust that key. ``LateVerifier`` lets a harness be configured before its cluster
exists: the real ``PolicyVerifier`` is attached once the harness has made its cluster and clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from compiler.policy import POLICY_API_VERSION, POLICY_KIND
from reconciler.clock import Clock
from reconciler.cluster import Cluster
from reconciler.supplychain.policy_registry import RegistryBackend
from reconciler.supplychain.policy_verifier import PolicySettings, PolicyVerifier
from reconciler.supplychain.registry import RegistrySettings
from reconciler.verification import ImageContext, VerificationResult
from support.oci import PrivateKey, Pusher, action_files, build_image, layer, make_key, public_pem, sign_statement
from support.sigstore_local import LocalSigstore

__all__ = ["ECHO_CONTRACT", "LateVerifier", "SignedImages"]

ECHO_CONTRACT = (resources.files("compiler.contracts") / "builtin" / "kubernaut-echo.yaml").read_bytes()
REPOSITORY = "kubernaut/actions/echo"


@dataclass
class SignedImages:
    host: str
    key: PrivateKey = field(default_factory=make_key)
    pushed: int = 0

    @property
    def pusher(self) -> Pusher:
        return Pusher(self.host)

    def image(self, *, signed: bool = True, contract: bytes = ECHO_CONTRACT, repository: str = REPOSITORY,
              key: PrivateKey | None = None, signature_format: str = "legacy") -> str:
        """Push a new image (a fresh digest every call) and sign it unless told not to."""
        self.pushed += 1
        pusher = self.pusher
        # Distinct per key too: tests share one registry, and another test's signatures must not count.
        marker = f"{public_pem(self.key)[-48:]}-{self.pushed}"
        digest = pusher.push_image(repository, build_image(layer(action_files(contract)), marker=marker))
        if signed:
            sign = pusher.sign_legacy if signature_format == "legacy" else pusher.sign_bundle
            sign(repository, digest, key or self.key)
        return pusher.image_ref(repository, digest)

    def keyless_image(self, sigstore: LocalSigstore, identity: str, issuer: str,
                      contract: bytes = ECHO_CONTRACT) -> str:
        """A new image signed keyless (v3 bundle) by ``identity`` at ``issuer`` through ``sigstore``."""
        self.pushed += 1
        pusher = self.pusher
        marker = f"keyless-{public_pem(self.key)[-48:]}-{self.pushed}"
        digest = pusher.push_image(REPOSITORY, build_image(layer(action_files(contract)), marker=marker))
        bundle = sigstore.sign_dsse(sign_statement(digest, f"{self.host}/{REPOSITORY}"), identity, issuer)
        pusher.push_bundle(REPOSITORY, digest, bundle)
        return pusher.image_ref(REPOSITORY, digest)

    def sign(self, image: str) -> None:
        name, _, digest = image.partition("@")
        self.pusher.sign_legacy(name.partition("/")[2], digest, self.key)

    def policy(self, name: str = "actions", glob: str | None = None, *, key: PrivateKey | None = None,
               **spec: Any) -> dict[str, Any]:
        return {"apiVersion": POLICY_API_VERSION, "kind": POLICY_KIND, "metadata": {"name": name},
                "spec": {"images": [{"glob": glob or f"{self.host}/kubernaut/**"}],
                         "authorities": [{"name": "release", "key": {"data": public_pem(key or self.key)}}],
                         "allowHttpRegistry": True, **spec}}


@dataclass
class LateVerifier:
    target: PolicyVerifier | None = None
    backend: RegistryBackend = field(default_factory=lambda: RegistryBackend(
        RegistrySettings(retries=1, backoff=0.01, timeout=5)))

    def attach(self, cluster: Cluster, clock: Clock, settings: PolicySettings | None = None) -> PolicyVerifier:
        self.target = PolicyVerifier(cluster, clock, self.backend, settings)
        return self.target

    def verify(self, image: str, context: ImageContext) -> VerificationResult:
        assert self.target is not None, "attach() the verifier to the harness's cluster first"
        return self.target.verify(image, context)
