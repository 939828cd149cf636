"""Policy verification benchmark: ``python benchmarks/bench_policy.py [--images N] [--policies P] [--rounds R]``.

What the controller pays per step for the image gate (``PolicyVerifier.verify``), against Debian's
``docker-registry`` on 127.0.0.1 and an embedded cluster holding P ClusterImagePolicies (one of
them matches the images; its key comes from a Secret):

* **cold**: the first workflow using an image — policies read and matched, the Secret read, the
  signature verified through the registry, the contract read from the layers;
* **cached**: every later workflow using it — policies read and matched, trust material resolved
  and hashed, one cache lookup, **zero** registry requests.

Reports median and p95 in milliseconds and the registry requests per verification.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing
sys.path.insert(0, str(ROOT / "tests"))  # the image builders and the registry launcher

from support.oci import Pusher, action_files, build_image, layer, make_key, public_pem  # noqa: E402
from support.registry import docker_registry  # noqa: E402
from support.signed_images import ECHO_CONTRACT  # noqa: E402

from compiler.policy import POLICY_API_VERSION, POLICY_KIND  # noqa: E402
from reconciler.clock import RealClock  # noqa: E402
from reconciler.cluster.memory import MemoryCluster  # noqa: E402
from reconciler.supplychain.policy_registry import RegistryBackend  # noqa: E402
from reconciler.supplychain.policy_verifier import PolicySettings, PolicyVerifier  # noqa: E402
from reconciler.supplychain.registry import RegistrySettings  # noqa: E402
from reconciler.verification import ImageContext  # noqa: E402

REPO = "bench/action"


def _stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:8.3f} ms   p95 {p95 * 1000:8.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--policies", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    key = make_key()
    with tempfile.TemporaryDirectory() as tmp, docker_registry(Path(tmp)) as registry:
        pusher = Pusher(registry.host)
        images = []
        for index in range(args.images):
            digest = pusher.push_image(REPO, build_image(layer(action_files(ECHO_CONTRACT)), marker=f"b{index}"))
            pusher.sign_legacy(REPO, digest, key)
            images.append(pusher.image_ref(REPO, digest))
        cluster = MemoryCluster(tekton_installed=False)
        cluster.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "keys", "namespace": "ks"},
                        "stringData": {"cosign.pub": public_pem(key)}})
        for index in range(args.policies):
            glob = f"{registry.host}/bench/**" if index == 0 else f"other-{index}.example/**"
            cluster.create({"apiVersion": POLICY_API_VERSION, "kind": POLICY_KIND, "metadata": {"name": f"p{index}"},
                            "spec": {"images": [{"glob": glob}], "allowHttpRegistry": True, "signatureFormat": "legacy",
                                     "authorities": [{"name": "k", "key": {"secretRef": {"name": "keys"}}}]}})
        backend = RegistryBackend(RegistrySettings())
        verifier = PolicyVerifier(cluster, RealClock(), backend, PolicySettings(namespace="ks"))
        context = ImageContext("default", "runner")
        print(f"docker-registry {registry.host}: {args.images} images, {args.policies} policies")
        cold = []
        for image in images:
            start = time.perf_counter()
            result = verifier.verify(image, context)
            cold.append(time.perf_counter() - start)
            assert result.ok and not result.cached and result.contract, result.reason
        print(f"cold     {_stats(cold)}   {backend.requests_sent / len(images):.0f} registry requests")
        sent = backend.requests_sent
        cached = []
        for _ in range(args.rounds):
            for image in images:
                start = time.perf_counter()
                result = verifier.verify(image, context)
                cached.append(time.perf_counter() - start)
                assert result.ok and result.cached
        print(f"cached   {_stats(cached)}   {backend.requests_sent - sent} registry requests")


if __name__ == "__main__":
    main()
