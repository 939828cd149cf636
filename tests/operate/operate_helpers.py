"""Helpers for the operate tests: finished runs saved as state files, and a MemoryCluster served
over HTTP (kmock) so the commands talk to it through ``KubeCluster`` and a kubeconfig, exactly
as they would to a real API server.

The HTTP side reuses the wire-test server of ``tests/reconciler/kube`` (``KmockServer`` and
``MemoryApi``, loaded from that directory's conftest) and adds the one route it lacks: a Pod's
``log`` subresource, answered from ``MemoryCluster.read_pod_log`` as text.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import kmock
import pytest
from typer.testing import CliRunner

from kubernaut.actions import LOCAL_ENTRYPOINTS
from kubernaut.cli import app
from reconciler.app import AppConfig, install
from reconciler.cluster import ApiError
from reconciler.cluster.memory import MemoryCluster
from reconciler.simulation import Simulation
from reconciler.simulation.outcomes import parse_outcomes
from reconciler.simulation.tekton import add_tekton
from reconciler.simulation.wiring import simulated_pods
from reconciler.verification import ImagePolicy

ROOT = Path(__file__).resolve().parents[2]
ECHO = ROOT / "examples" / "echo-data-passing.yaml"
_runner = CliRunner()


def _kube_conftest() -> ModuleType:
    name = "operate_kube_wire"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "reconciler" / "kube" / "conftest.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def kubernaut(*args: str | Path) -> Result:
    result = _runner.invoke(app, [str(a) for a in args])
    return Result(result.exit_code, result.stdout, result.stderr)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


RETRY_WORKFLOW = """\
apiVersion: workflowexecution.kubernaut.ai/v1alpha1
kind: WorkflowExecution
metadata: {name: retry-demo, namespace: ops}
spec:
  workflowType: demo
  steps:
    - name: flaky
      actionType: kubernaut/echo
      image: ghcr.io/kubernaut/actions/echo@sha256:0000000000000000000000000000000000000000000000000000000000000000
      retries: 1
      inputs: {outputs: {a: 1}}
    - name: after
      actionType: kubernaut/echo
      image: ghcr.io/kubernaut/actions/echo@sha256:0000000000000000000000000000000000000000000000000000000000000000
      runAfter: [flaky]
      inputs: {outputs: {b: 2}}
"""
RETRY_OUTCOMES = """\
steps:
  flaky:
    - {result: failed, message: "first try: connection refused"}
    - {result: succeeded, outputs: {a: 1}, duration: 5s}
"""


@pytest.fixture
def retry_files(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path, "retry.yaml", RETRY_WORKFLOW), write(tmp_path, "outcomes.yaml", RETRY_OUTCOMES)


# -- a MemoryCluster behind HTTP -----------------------------------------------------------------


class PodLogApi:
    """``GET /api/v1/namespaces/<ns>/pods/<pod>/log[?container=c]`` from a MemoryCluster."""

    PATH = re.compile(r"/api/v1/namespaces/([^/]+)/pods/([^/]+)/log")

    def __init__(self, memory: MemoryCluster) -> None:
        self.memory = memory

    async def __call__(self, request: kmock.Request) -> kmock.Response:
        match = self.PATH.fullmatch(request.url.path)
        assert match is not None
        try:
            text = self.memory.read_pod_log(match.group(1), match.group(2), request.params.get("container"))
        except ApiError as exc:
            return kmock.Response(status=exc.status, payload=exc.to_status())
        return kmock.Response(status=200, payload=text.encode(), headers={"Content-Type": "text/plain"})


@dataclass
class ServedCluster:
    """A simulation whose cluster answers HTTP; ``kubeconfig`` points kubernaut at it."""

    sim: Simulation
    server: Any  # KmockServer
    kubeconfig: Path

    @property
    def memory(self) -> MemoryCluster:
        return self.sim.cluster

    def flags(self) -> list[str]:
        return ["--kubeconfig", str(self.kubeconfig)]


def new_simulation(outcomes: str | None = None, *, realtime: bool = False) -> Simulation:
    loaded = parse_outcomes(textwrap.dedent(outcomes), "outcomes.yaml").outcomes if outcomes else None
    sim = Simulation(outcomes=loaded, entrypoints=LOCAL_ENTRYPOINTS, record_events=True, realtime=realtime,
                     default_duration=0.05 if realtime else 1.0)
    add_tekton(sim)
    install(sim.manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods))
    return sim


def kubeconfig_for(url: str, path: Path, namespace: str | None = None) -> Path:
    context: dict[str, Any] = {"cluster": "kmock", "user": "nobody"}
    if namespace:
        context["namespace"] = namespace
    import yaml

    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "kmock",
        "clusters": [{"name": "kmock", "cluster": {"server": url}}],
        "users": [{"name": "nobody", "user": {}}],
        "contexts": [{"name": "kmock", "context": context}],
    }))
    return path


def _serve(tmp_path: Path, sim: Simulation) -> Iterator[ServedCluster]:
    wire = _kube_conftest()
    server = wire.KmockServer()
    server.start()
    try:
        server.reply(PodLogApi.PATH, PodLogApi(sim.cluster))  # before the catch-all: earlier reactions win
        server.reply(re.compile(r"/apis?/.*"), wire.MemoryApi(sim.cluster))
        yield ServedCluster(sim, server, kubeconfig_for(server.url, tmp_path / "kubeconfig", "ops"))
    finally:
        server.stop()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedCluster]:
    """The cluster, driven by the test in virtual time (``sim.run_until``)."""
    yield from _serve(tmp_path, new_simulation(RETRY_OUTCOMES))


FAIL_OUTCOMES = """\
steps:
  doomed:
    - {result: failed, message: "doomed to fail", duration: 0.1s}
"""


@pytest.fixture
def served_live(tmp_path: Path) -> Iterator[ServedCluster]:
    """The cluster with its controllers and simulators running in threads on the real clock
    (steps take 0.05 s), as a real cluster works while a command follows it."""
    sim = new_simulation(FAIL_OUTCOMES, realtime=True)
    sim.manager.start()
    try:
        yield from _serve(tmp_path, sim)
    finally:
        sim.manager.stop()
