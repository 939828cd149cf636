"""Untrusted registry data never crashes verification: malformed JSON of every shape is a rejection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.oci import OCI_INDEX, OCI_MANIFEST, build_image, canonical, make_key, public_pem
from support.registry import FakeRegistry, fake_registry

from reconciler.supplychain import (
    Authority,
    KeyAuthority,
    KeylessAuthority,
    RegistryClient,
    RegistrySettings,
    parse_reference,
    verify_image,
)
from reconciler.supplychain.bundle import check_bundle
from reconciler.supplychain.legacy import check_legacy_signature

REPO = "garbage/app"
DATA = Path(__file__).resolve().parents[1] / "data" / "cosign"
TRUST: list[Authority] = [
    KeyAuthority("k", (public_pem(make_key()),)),
    KeylessAuthority("keyless", "a@b.c", None, "https://issuer", None, (DATA / "trusted_root.json").read_text()),
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12)


@pytest.fixture(scope="module")
def registry() -> Iterator[FakeRegistry]:
    with fake_registry() as running:
        yield running


def _image(registry: FakeRegistry, marker: str) -> str:
    image = build_image(marker=marker)
    return registry.add_manifest(REPO, image.manifest, OCI_MANIFEST)


def _client() -> RegistryClient:
    return RegistryClient(RegistrySettings(allow_http=True, retries=0))


SHAPES: list[Any] = [
    [], "x", 3, None, {"layers": "x"}, {"layers": [1, "a", None]}, {"layers": [{"mediaType": ["a"]}]},
    {"layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": 5}]},
    {"manifests": [{"digest": "sha256:" + "f" * 64}]}, {"manifests": "x"}, {"manifests": [{"digest": ["x"]}]},
    {"mediaType": ["x"]}, {"mediaType": {"a": 1}},
]


@pytest.mark.parametrize("shape", SHAPES, ids=[json.dumps(s)[:40] for s in SHAPES])
def test_malformed_signature_manifests_and_indexes(registry: FakeRegistry, shape: Any) -> None:
    digest = _image(registry, f"shape-{json.dumps(shape)}")
    tag = digest.replace(":", "-")
    raw = json.dumps(shape).encode()
    registry.add_manifest(REPO, raw, OCI_MANIFEST, tag=f"{tag}.sig")
    registry.add_manifest(REPO, raw, OCI_INDEX, tag=tag)
    check = verify_image(parse_reference(f"{registry.host}/{REPO}@{digest}"), TRUST, "any", _client())
    assert not check.ok and check.reason


@pytest.mark.parametrize("referrer", [
    {"artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json", "subject": "x", "layers": []},
    {"artifactType": ["x"], "config": "x", "layers": [{"mediaType": {}}]},
    {"config": {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}, "subject": {"digest": 1}},
    {"artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
     "layers": [{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "digest": None}]},
])
def test_malformed_referrer_manifests(registry: FakeRegistry, referrer: dict[str, Any]) -> None:
    digest = _image(registry, f"referrer-{json.dumps(referrer)}")
    body = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, **referrer}
    body.setdefault("subject", {"digest": digest})
    referrer_digest = registry.add_manifest(REPO, canonical(body), OCI_MANIFEST)
    index = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX,
                       "manifests": [{"mediaType": OCI_MANIFEST, "digest": referrer_digest, "size": 1}]})
    registry.add_manifest(REPO, index, OCI_INDEX, tag=digest.replace(":", "-"))
    check = verify_image(parse_reference(f"{registry.host}/{REPO}@{digest}"), TRUST, "bundle", _client())
    assert not check.ok and check.reason


materials = st.one_of(json_values, st.fixed_dictionaries({"publicKey": json_values}),
                      st.fixed_dictionaries({"certificate": json_values, "tlogEntries": json_values}))


@given(bundle=json_values, envelope=json_values, material=materials)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_bundle_json_is_rejected_not_crashing(bundle: Any, envelope: Any, material: Any) -> None:
    for candidate in (bundle, {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                               "dsseEnvelope": envelope, "verificationMaterial": material}):
        outcome = check_bundle(json.dumps(candidate).encode(), "sha256:" + "a" * 64, TRUST)
        assert not outcome.ok and outcome.reason


@given(layer=st.dictionaries(st.sampled_from(["mediaType", "digest", "annotations", "x"]), json_values),
       blob=st.binary(max_size=64))
@settings(max_examples=150, deadline=None)
def test_any_signature_layer_is_rejected_not_crashing(layer: dict[str, Any], blob: bytes) -> None:
    outcome = check_legacy_signature(blob, layer, "sha256:" + "a" * 64, TRUST)
    assert not outcome.ok and outcome.reason
