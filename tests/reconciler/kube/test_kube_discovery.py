"""``has_kind`` and kinds outside the registry, through API discovery."""

from __future__ import annotations

from typing import TYPE_CHECKING

import kmock
import pytest

from reconciler.clock import VirtualClock
from reconciler.cluster import NotFound, ServerError
from reconciler.cluster.kube import KubeCluster

if TYPE_CHECKING:
    from conftest import KmockServer, KubeFactory


def install_tekton(server: KmockServer) -> None:
    def declare() -> None:
        for plural, kind in (("pipelineruns", "PipelineRun"), ("taskruns", "TaskRun"), ("tasks", "Task"),
                             ("pipelines", "Pipeline")):
            subresources = {"status"} if plural.endswith("runs") else set()
            server.handler.resources[f"tekton.dev/v1/{plural}"] = kmock.ResourceInfo(
                kind=kind, namespaced=True, subresources=subresources)

    server.call(declare)


def test_has_kind_with_tekton_installed(server: KmockServer, kube: KubeCluster) -> None:
    install_tekton(server)
    assert kube.has_kind("tekton.dev/v1", "PipelineRun")
    assert kube.has_kind("tekton.dev/v1", "TaskRun")
    assert not kube.has_kind("tekton.dev/v1", "CustomRun")
    # One discovery request per group-version, however many kinds are asked about.
    assert [(r.method, r.url.path) for r in server.requests] == [("GET", "/apis/tekton.dev/v1")]


def test_has_kind_without_tekton(server: KmockServer, kube: KubeCluster) -> None:
    assert not kube.has_kind("tekton.dev/v1", "PipelineRun")  # 404 for the group-version
    assert not kube.has_kind("tekton.dev/v1", "TaskRun")  # the absence is cached too
    assert len(server.requests) == 1


def test_core_kinds_are_discovered_under_api_v1(server: KmockServer, kube: KubeCluster) -> None:
    server.call(lambda: server.handler.resources.__setitem__(
        "v1/configmaps", kmock.ResourceInfo(kind="ConfigMap", namespaced=True)))
    assert kube.has_kind("v1", "ConfigMap")
    assert not kube.has_kind("v1", "Pod")
    assert server.last().url.path == "/api/v1"


def test_discovery_cache_expires_and_can_be_invalidated(server: KmockServer, make_kube: KubeFactory) -> None:
    clock = VirtualClock()
    kube = make_kube(server, discovery_ttl=60.0, clock=clock)
    assert not kube.has_kind("tekton.dev/v1", "PipelineRun")
    install_tekton(server)
    clock.advance(30)
    assert not kube.has_kind("tekton.dev/v1", "PipelineRun")  # still the cached answer
    clock.advance(31)
    assert kube.has_kind("tekton.dev/v1", "PipelineRun")  # Tekton installed meanwhile: noticed
    kube.invalidate_discovery()
    assert kube.has_kind("tekton.dev/v1", "PipelineRun")
    assert len(server.requests) == 3


def test_discovery_server_errors_are_raised_not_taken_for_absence(server: KmockServer, kube: KubeCluster) -> None:
    server.reply("get /apis/tekton.dev/v1", 503, {"kind": "Status", "code": 503, "reason": "ServiceUnavailable",
                                                  "message": "the server is currently unable to handle the request"})
    with pytest.raises(ServerError):
        kube.has_kind("tekton.dev/v1", "PipelineRun")


def test_kinds_outside_the_registry_are_resolved_by_discovery(server: KmockServer, kube: KubeCluster) -> None:
    def declare() -> None:
        server.handler.resources["example.com/v1/widgets"] = kmock.ResourceInfo(
            kind="Widget", namespaced=True, subresources={"status"})
        server.handler.resources["example.com/v1/gadgets"] = kmock.ResourceInfo(kind="Gadget", namespaced=False)

    server.call(declare)
    server.reply("get /apis/example.com/v1/namespaces/ns/widgets/w", {"kind": "Widget", "metadata": {"name": "w"}})
    server.reply("patch /apis/example.com/v1/namespaces/ns/widgets/w/status", {"kind": "Widget"})
    server.reply("get /apis/example.com/v1/gadgets/g", {"kind": "Gadget", "metadata": {"name": "g"}})
    assert kube.get("example.com/v1", "Widget", "w", "ns")["metadata"]["name"] == "w"
    kube.patch_status("example.com/v1", "Widget", "w", "ns", {"ready": True})
    assert kube.get("example.com/v1", "Gadget", "g", "ns")["metadata"]["name"] == "g"
    with pytest.raises(NotFound):
        kube.get("example.com/v1", "Sprocket", "s", "ns")
    assert [r.url.path for r in server.requests] == [
        "/apis/example.com/v1", "/apis/example.com/v1/namespaces/ns/widgets/w",
        "/apis/example.com/v1/namespaces/ns/widgets/w/status", "/apis/example.com/v1/gadgets/g"]


def test_registered_kinds_need_no_discovery(server: KmockServer, kube: KubeCluster) -> None:
    server.reply("get /apis/batch/v1/namespaces/ns/jobs/j", {"kind": "Job", "metadata": {"name": "j"}})
    kube.get("batch/v1", "Job", "j", "ns")
    assert [r.url.path for r in server.requests] == ["/apis/batch/v1/namespaces/ns/jobs/j"]
