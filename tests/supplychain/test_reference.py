"""Image references: only digest-pinned ones verify; docker's naming shorthands expand."""

from __future__ import annotations

import pytest

from reconciler.supplychain import ImageReferenceError, SupplyChainError, parse_reference
from reconciler.supplychain.reference import strip_reference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(("text", "registry", "repository", "tag"), [
    (f"ghcr.io/kubernaut/actions/echo@{DIGEST}", "ghcr.io", "kubernaut/actions/echo", None),
    (f"ghcr.io/kubernaut/echo:v1@{DIGEST}", "ghcr.io", "kubernaut/echo", "v1"),
    (f"127.0.0.1:5000/echo@{DIGEST}", "127.0.0.1:5000", "echo", None),
    (f"localhost/echo:1.0@{DIGEST}", "localhost", "echo", "1.0"),
    (f"alpine@{DIGEST}", "docker.io", "library/alpine", None),
    (f"user/app@{DIGEST}", "docker.io", "user/app", None),
    (f"index.docker.io/user/app@{DIGEST}", "docker.io", "user/app", None),
])
def test_parse(text: str, registry: str, repository: str, tag: str | None) -> None:
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.digest, ref.tag) == (registry, repository, DIGEST, tag)


def test_docker_hub_api_host() -> None:
    assert parse_reference(f"alpine@{DIGEST}").api_host == "registry-1.docker.io"
    assert parse_reference(f"ghcr.io/a/b@{DIGEST}").api_host == "ghcr.io"


@pytest.mark.parametrize(("text", "message"), [
    ("ghcr.io/kubernaut/echo:v1", "has no digest"),
    ("ghcr.io/kubernaut/echo", "has no digest"),
    ("ghcr.io/kubernaut/echo@sha256:abc", "digest must be sha256:<64 lowercase hex>"),
    (f"ghcr.io/kubernaut/echo@sha512:{'a' * 128}", "digest must be sha256"),
    (f"ghcr.io/Kubernaut/Echo@{DIGEST}", "invalid repository name"),
    (f"ghcr.io/echo:-bad@{DIGEST}", "invalid tag"),
    ("  ", "empty image reference"),
])
def test_rejected(text: str, message: str) -> None:
    with pytest.raises(ImageReferenceError, match=message) as caught:
        parse_reference(text)
    assert isinstance(caught.value, SupplyChainError) and not caught.value.retryable


def test_str_round_trips() -> None:
    text = f"ghcr.io/kubernaut/echo:v1@{DIGEST}"
    assert str(parse_reference(text)) == text


def test_strip_reference() -> None:
    assert strip_reference("192.168.64.2:5000/skopeo-signed:tag") == "192.168.64.2:5000/skopeo-signed"
    assert strip_reference(f"alpine@{DIGEST}") == "docker.io/library/alpine"
