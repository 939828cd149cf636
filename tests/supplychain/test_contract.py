"""Contracts read from signed images: layers in order, whiteouts, caps, indexes, the digest cache."""

from __future__ import annotations

import pytest
from support.oci import CONTRACT, Blob, Pusher, action_files, build_image, layer

from reconciler.supplychain import (
    ContractCache,
    ContractError,
    ImageReference,
    RegistryClient,
    fetch_contract,
    parse_reference,
)
from reconciler.supplychain.contract import CONTRACT_LIMIT

REPO = "kubernaut/actions/contracts"
OTHER = CONTRACT.replace(b"test/echo", b"test/other")


def _push(pusher: Pusher, *layers: Blob, marker: str = "") -> ImageReference:
    digest = pusher.push_image(REPO, build_image(*layers, marker=marker))
    return parse_reference(pusher.image_ref(REPO, digest))


def test_contract_is_read_from_the_image(pusher: Pusher, client: RegistryClient) -> None:
    assert fetch_contract(_push(pusher, layer(action_files())), client) == CONTRACT


def test_uncompressed_layer_and_dot_slash_names(pusher: Pusher, client: RegistryClient) -> None:
    ref = _push(pusher, layer({"./action-contract.yaml": OTHER}, compress=False))
    assert fetch_contract(ref, client) == OTHER


def test_image_without_contract(pusher: Pusher, client: RegistryClient) -> None:
    assert fetch_contract(_push(pusher, layer({"action-entrypoint": b"#!/bin/sh\n"})), client) is None


def test_a_later_layer_replaces_the_contract(pusher: Pusher, client: RegistryClient) -> None:
    ref = _push(pusher, layer(action_files()), layer({"action-contract.yaml": OTHER}))
    assert fetch_contract(ref, client) == OTHER


def test_a_whiteout_deletes_the_contract(pusher: Pusher, client: RegistryClient) -> None:
    ref = _push(pusher, layer(action_files()), layer({".wh.action-contract.yaml": None}))
    assert fetch_contract(ref, client) is None


def test_an_opaque_root_hides_lower_layers(pusher: Pusher, client: RegistryClient) -> None:
    ref = _push(pusher, layer(action_files()), layer({".wh..wh..opq": None, "action-entrypoint": b"x"}))
    assert fetch_contract(ref, client) is None
    ref = _push(pusher, layer(action_files()), layer({".wh..wh..opq": None, "action-contract.yaml": OTHER}))
    assert fetch_contract(ref, client) == OTHER


def test_a_whiteout_elsewhere_does_not_delete_it(pusher: Pusher, client: RegistryClient) -> None:
    ref = _push(pusher, layer(action_files()), layer({"etc/.wh.action-contract.yaml": None}))
    assert fetch_contract(ref, client) == CONTRACT


def test_a_symlinked_contract_is_refused(pusher: Pusher, client: RegistryClient) -> None:
    ref = _push(pusher, layer({"etc/passwd": b"root"}, symlinks={"action-contract.yaml": "etc/passwd"}))
    with pytest.raises(ContractError, match="is not a regular file"):
        fetch_contract(ref, client)


def test_an_oversized_contract_is_refused(pusher: Pusher, client: RegistryClient) -> None:
    ref = _push(pusher, layer({"action-contract.yaml": b"#" * (CONTRACT_LIMIT + 1)}))
    with pytest.raises(ContractError, match="over the 1048576-byte limit"):
        fetch_contract(ref, client)


def test_a_corrupt_layer_is_an_error(pusher: Pusher, client: RegistryClient) -> None:
    ref = _push(pusher, Blob("application/vnd.oci.image.layer.v1.tar+gzip", b"not gzip at all"))
    with pytest.raises(ContractError, match="not a readable tar layer"):
        fetch_contract(ref, client)


def test_zstd_layers_are_refused_clearly(pusher: Pusher, client: RegistryClient) -> None:
    ref = _push(pusher, Blob("application/vnd.oci.image.layer.v1.tar+zstd", b"\x28\xb5\x2f\xfd"))
    with pytest.raises(ContractError, match="zstd-compressed layers are not supported"):
        fetch_contract(ref, client)


def test_an_index_yields_the_linux_amd64_contract(pusher: Pusher, client: RegistryClient) -> None:
    children = {"linux/amd64": build_image(layer(action_files()), marker="idx-amd64"),
                "linux/arm64": build_image(layer({"action-contract.yaml": OTHER}), marker="idx-arm64",
                                           architecture="arm64")}
    digest = pusher.push_index(REPO, children)
    assert fetch_contract(parse_reference(pusher.image_ref(REPO, digest)), client) == CONTRACT


def test_the_cache_answers_by_digest_without_requests(pusher: Pusher, client: RegistryClient) -> None:
    ref = _push(pusher, layer(action_files()), marker="cached")
    bare = _push(pusher, layer({"action-entrypoint": b"x"}), marker="cached-none")
    cache = ContractCache()
    assert fetch_contract(ref, client, cache) == CONTRACT
    assert fetch_contract(bare, client, cache) is None
    sent = client.requests_sent
    assert fetch_contract(ref, client, cache) == CONTRACT
    assert fetch_contract(bare, client, cache) is None
    assert client.requests_sent == sent
