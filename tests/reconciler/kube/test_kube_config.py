"""Building a ``KubeCluster`` from a kubeconfig (and failing clearly outside a pod)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from kubernetes.config.config_exception import ConfigException

from reconciler.cluster.kube import KubeCluster

if TYPE_CHECKING:
    from conftest import KmockServer

CM = "/api/v1/namespaces/ns/configmaps/cm"


def write_kubeconfig(path: Path, url: str) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "dev",
        "clusters": [{"name": "kmock", "cluster": {"server": url}},
                     {"name": "nowhere", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [{"name": "dev", "user": {"token": "dev-token"}},
                  {"name": "ops", "user": {"token": "ops-token"}}],
        "contexts": [{"name": "dev", "context": {"cluster": "kmock", "user": "dev"}},
                     {"name": "ops", "context": {"cluster": "kmock", "user": "ops"}},
                     {"name": "broken", "context": {"cluster": "nowhere", "user": "dev"}}],
    }))
    return path


def test_from_kubeconfig_uses_the_current_context(server: KmockServer, tmp_path: Path) -> None:
    server.reply(f"get {CM}", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}})
    config = write_kubeconfig(tmp_path / "config", server.url)
    before = config.read_text()
    with KubeCluster.from_kubeconfig(str(config)) as kube:
        assert kube.get("v1", "ConfigMap", "cm", "ns")["metadata"]["name"] == "cm"
    assert server.last().headers["Authorization"] == "Bearer dev-token"
    assert config.read_text() == before  # never written back


def test_from_kubeconfig_with_a_context_and_options(server: KmockServer, tmp_path: Path) -> None:
    server.reply(f"get {CM}", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}})
    config = write_kubeconfig(tmp_path / "config", server.url)
    with KubeCluster.from_kubeconfig(str(config), context="ops", field_manager="ops-tool") as kube:
        kube.get("v1", "ConfigMap", "cm", "ns")
        assert kube.field_manager == "ops-tool"
    assert server.last().headers["Authorization"] == "Bearer ops-token"


def test_from_kubeconfig_reads_the_kubeconfig_variable(server: KmockServer, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    server.reply(f"get {CM}", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}})
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "env-config", server.url)))
    with KubeCluster.from_kubeconfig() as kube:
        kube.get("v1", "ConfigMap", "cm", "ns")
    assert len(server.requests) == 1


def test_from_kubeconfig_unknown_context_fails(tmp_path: Path) -> None:
    config = write_kubeconfig(tmp_path / "config", "http://127.0.0.1:9")
    with pytest.raises(ConfigException):
        KubeCluster.from_kubeconfig(str(config), context="nope")


def test_from_in_cluster_outside_a_pod_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    with pytest.raises(ConfigException):
        KubeCluster.from_in_cluster()
