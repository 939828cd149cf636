"""Fixtures for tests against a real API server.

The suite runs only when ``KUBERNAUT_LIVE_KUBECONFIG`` names a kubeconfig whose cluster answers;
otherwise every test here is skipped. A plain ``KUBECONFIG`` is deliberately not enough: running
the test suite must never touch whatever cluster a developer happens to be pointed at. ``KUBERNAUT_LIVE_CONTEXT``
picks a context other than the current one.

What the tests touch: one namespace ``kubernaut-live-<random>`` (created, and deleted at the
end) and, only if the WorkflowExecution CRD is not installed yet, that CRD from
``deploy/crds/`` (removed again at the end). Nothing that existed before is changed.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.config.config_exception import ConfigException

from reconciler.cluster import ApiTimeout, NotFound
from reconciler.cluster.kube import KubeCluster

CRDS = Path(__file__).resolve().parents[2] / "deploy" / "crds"
WORKFLOW_API = "workflowexecution.kubernaut.ai/v1alpha1"
# Bounds for waiting on the real server (CRD establishment, watch events, lease hand-over).
SETTLE_SECONDS = 60.0


def _kubeconfig() -> str | None:
    return os.environ.get("KUBERNAUT_LIVE_KUBECONFIG") or None


def wait_until(check: Callable[[], Any], timeout: float = SETTLE_SECONDS, interval: float = 0.5) -> Any:
    """Poll ``check`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout:.0f}s")
        time.sleep(interval)


@pytest.fixture
def wait() -> Callable[..., Any]:
    """:func:`wait_until` for tests (helpers in a conftest cannot be imported by test modules)."""
    return wait_until


@pytest.fixture(scope="session")
def live() -> Iterator[KubeCluster]:
    """A KubeCluster on the configured cluster; skips the test when there is none to reach."""
    config = _kubeconfig()
    if config is None:
        pytest.skip("live tests need KUBERNAUT_LIVE_KUBECONFIG")
    try:
        kube = KubeCluster.from_kubeconfig(config, context=os.environ.get("KUBERNAUT_LIVE_CONTEXT"),
                                           field_manager="kubernaut-live-tests", timeout=20.0, connect_timeout=5.0)
    except (ConfigException, OSError) as exc:
        pytest.skip(f"no usable kubeconfig at {config}: {exc}")
    try:
        # Discovery of the core group is the cheapest call every client may make.
        reachable = kube.has_kind("v1", "Namespace")
    except ApiTimeout as exc:
        kube.close()
        pytest.skip(f"the API server of {config} does not answer: {exc}")
    if not reachable:
        kube.close()
        pytest.skip(f"{config} does not lead to a Kubernetes API server (no v1 Namespace)")
    try:
        yield kube
    finally:
        kube.close()


@pytest.fixture(scope="session")
def namespace(live: KubeCluster) -> Iterator[str]:
    """A fresh namespace for the whole session, deleted (with its contents) at the end."""
    name = f"kubernaut-live-{uuid.uuid4().hex[:8]}"
    live.create({"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "kubernaut-live-tests"}}})
    try:
        yield name
    finally:
        live.delete("v1", "Namespace", name)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """``unique("cm")`` -> ``cm-1a2b3c``: names that never collide between tests or runs."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def workflow_crd(live: KubeCluster) -> Iterator[str]:
    """The WorkflowExecution kind, installed from deploy/crds/ if the cluster lacks it."""
    if live.has_kind(WORKFLOW_API, "WorkflowExecution"):
        yield WORKFLOW_API  # already installed (maybe in use): leave it exactly as it is
        return
    path = CRDS / "workflowexecution.yaml"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    crd = next(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    live.create(crd)
    name = crd["metadata"]["name"]
    try:
        def established() -> bool:
            conditions = live.get(crd["apiVersion"], crd["kind"], name).get("status", {}).get("conditions", [])
            return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)

        def served() -> bool:
            live.invalidate_discovery()  # the negative answer above is cached
            return live.has_kind(WORKFLOW_API, "WorkflowExecution")

        wait_until(established)
        wait_until(served)
        yield WORKFLOW_API
    finally:
        with contextlib.suppress(NotFound):
            live.delete(crd["apiVersion"], crd["kind"], name)
