"""Image verification benchmark: ``python benchmarks/bench_verify.py [--images N] [--rounds R]``.

Starts Debian's ``docker-registry`` on 127.0.0.1, pushes N small action images signed with a
P-256 key in both cosign formats (legacy ``.sig`` and a v3 bundle referrer through the tag
fallback, since distribution 2.8 has no Referrers API), then measures per verification.

Signatures: legacy and v3 bundle with the key, and a keyless v3 bundle from a private offline
Sigstore instance (sigstore-python's full check: chain, SCT, Rekor inclusion, identity).

* **cold**: a new ``RegistryClient`` each time (new TCP connections, nothing remembered) — what
  the first workflow using an image pays;
* **warm client**: one client reused (keep-alive connections), still every registry request;
* **cached**: the controller's path for a second workflow using an already verified image — a
  ``TtlCache`` lookup by ``VerificationKey`` — zero registry requests;
* **contract**: reading ``/action-contract.yaml`` from the layers, cold and from ``ContractCache``.

Reports median and p95 in milliseconds and the registry requests per verification.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing
sys.path.insert(0, str(ROOT / "tests"))  # the image builders and the registry launcher

from support.oci import Pusher, build_image, make_key, public_pem, sign_statement  # noqa: E402
from support.registry import docker_registry  # noqa: E402
from support.sigstore_local import LocalSigstore  # noqa: E402

from reconciler.clock import RealClock  # noqa: E402
from reconciler.supplychain import (  # noqa: E402
    Authority,
    ContractCache,
    KeyAuthority,
    KeylessAuthority,
    RegistryClient,
    RegistrySettings,
    SignatureCheck,
    SignatureFormat,
    fetch_contract,
    parse_reference,
    verify_image,
)
from reconciler.supplychain.cache import TtlCache, VerificationKey  # noqa: E402

REPO = "bench/action"
SETTINGS = RegistrySettings(allow_http=True)


def _stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:8.3f} ms   p95 {p95 * 1000:8.3f} ms"


def _measure(action: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    key = make_key()
    sigstore = LocalSigstore()
    identity, issuer = "release@bench.example", "https://issuer.bench.example"
    key_authorities: list[Authority] = [KeyAuthority("bench", (public_pem(key),))]
    keyless_authorities: list[Authority] = [
        KeylessAuthority("keyless", identity, None, issuer, None, sigstore.trusted_root_json())]
    with tempfile.TemporaryDirectory() as tmp, docker_registry(Path(tmp)) as registry:
        pusher = Pusher(registry.host)
        refs = []
        for index in range(args.images):
            digest = pusher.push_image(REPO, build_image(marker=f"bench-{index}"))
            pusher.sign_legacy(REPO, digest, key)
            pusher.sign_bundle(REPO, digest, key)
            keyless = sigstore.sign_dsse(sign_statement(digest, REPO), identity, issuer)
            pusher.push_bundle(REPO, digest, keyless)
            refs.append(parse_reference(pusher.image_ref(REPO, digest)))
        print(f"docker-registry {registry.host}: {args.images} images, {args.rounds} rounds each")
        cases: tuple[tuple[str, SignatureFormat, list[Authority]], ...] = (
            ("legacy", "legacy", key_authorities), ("bundle", "bundle", key_authorities),
            ("keyless", "bundle", keyless_authorities))
        for label, signature_format, authorities in cases:
            requests_per_check: list[int] = []

            def cold(fmt: SignatureFormat = signature_format, authorities: list[Authority] = authorities,
                     requests_per_check: list[int] = requests_per_check) -> None:
                for ref in refs:
                    client = RegistryClient(SETTINGS)
                    assert verify_image(ref, authorities, fmt, client).ok
                    requests_per_check.append(client.requests_sent)
                    client.session.close()

            samples = [s / len(refs) for s in _measure(cold, args.rounds)]
            print(f"{label:7} cold          {_stats(samples)}   "
                  f"{statistics.mean(requests_per_check):.0f} registry requests")
            client = RegistryClient(SETTINGS)

            def warm(fmt: SignatureFormat = signature_format, authorities: list[Authority] = authorities,
                     client: RegistryClient = client) -> None:
                for ref in refs:
                    assert verify_image(ref, authorities, fmt, client).ok

            warm()
            samples = [s / len(refs) for s in _measure(warm, args.rounds)]
            print(f"{label:7} warm client   {_stats(samples)}")

        cache: TtlCache[SignatureCheck] = TtlCache(RealClock())
        client = RegistryClient(SETTINGS)
        for ref in refs:
            cache.put(VerificationKey(ref.name, ref.digest, (("bench", 1),), "trust"),
                      verify_image(ref, key_authorities, "any", client), ttl=3600)
        sent = client.requests_sent

        def cached() -> None:
            for ref in refs:
                hit = cache.get(VerificationKey(ref.name, ref.digest, (("bench", 1),), "trust"))
                assert hit is not None and hit.ok

        samples = [s / len(refs) for s in _measure(cached, max(args.rounds, 100))]
        print(f"any     cached        {_stats(samples)}   {client.requests_sent - sent} registry requests")

        def contract_cold() -> None:
            for ref in refs:
                assert fetch_contract(ref, RegistryClient(SETTINGS)) is not None

        contracts = ContractCache()

        def contract_cached() -> None:
            for ref in refs:
                assert fetch_contract(ref, client, contracts) is not None

        samples = [s / len(refs) for s in _measure(contract_cold, args.rounds)]
        print(f"contract cold         {_stats(samples)}")
        contract_cached()
        samples = [s / len(refs) for s in _measure(contract_cached, max(args.rounds, 100))]
        print(f"contract cached       {_stats(samples)}")


if __name__ == "__main__":
    main()
