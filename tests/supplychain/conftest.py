"""Fixtures: one docker-registry for the session, a client that speaks plain HTTP to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.oci import Pusher
from support.registry import RunningRegistry, docker_registry

from reconciler.supplychain import RegistryClient, RegistrySettings


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with docker_registry(tmp_path_factory.mktemp("docker-registry")) as running:
        yield running


@pytest.fixture
def pusher(registry: RunningRegistry) -> Pusher:
    return Pusher(registry.host)


@pytest.fixture
def client() -> RegistryClient:
    return RegistryClient(RegistrySettings(allow_http=True, retries=1, backoff=0.01, timeout=5))
