"""An embedded cluster with kubernaut's real controllers and both simulated engines, whose API
server can be told to refuse creates of one kind (``refuse``), as a ResourceQuota, an admission
webhook or a schema check would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from support.driving import WorkflowDriver

from kubernaut.actions import LOCAL_ENTRYPOINTS
from reconciler.app import AppConfig, install
from reconciler.cluster import ApiError
from reconciler.cluster.memory import MemoryCluster
from reconciler.simulation import Simulation
from reconciler.simulation.tekton import add_tekton
from reconciler.simulation.wiring import simulated_pods
from reconciler.verification import ImagePolicy

QUOTA_MESSAGE = ('{kind} "{name}" is forbidden: exceeded quota: compute, requested: count/jobs.batch=1, '
                 "used: count/jobs.batch=2, limited: count/jobs.batch=2")


def quota_error(kind: str, name: str) -> ApiError:
    return ApiError(403, "Forbidden", QUOTA_MESSAGE.format(kind=kind, name=name))


class RefusingHarness(WorkflowDriver):
    def __init__(self) -> None:
        self.sim = Simulation(entrypoints=LOCAL_ENTRYPOINTS)
        add_tekton(self.sim)
        self.cluster: MemoryCluster = self.sim.cluster
        self.clock = self.sim.clock
        self.manager = self.sim.manager
        install(self.manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods))
        self.refused: list[str] = []
        self._create = self.cluster.create
        self._rules: dict[str, Callable[[dict[str, Any]], ApiError | None]] = {}
        self.cluster.create = self._refusing_create  # type: ignore[method-assign]

    def refuse(self, kind: str, answer: Callable[[dict[str, Any]], ApiError | None]) -> None:
        """Answer creates of ``kind`` with ``answer(obj)`` while it returns an error."""
        self._rules[kind] = answer

    def allow(self, kind: str) -> None:
        self._rules.pop(kind, None)

    def _refusing_create(self, obj: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        rule = self._rules.get(str(obj.get("kind")))
        error = rule(obj) if rule is not None else None
        if error is not None:
            self.refused.append(str(obj["metadata"]["name"]))
            raise error
        return self._create(obj, *args, **kwargs)

    def events(self, reason: str) -> list[str]:
        return [e["message"] for e in self.cluster.objects("Event") if e.get("reason") == reason]

    def run_for(self, seconds: float) -> None:
        """Let the controllers work for ``seconds`` of virtual time."""
        deadline = self.clock.now().timestamp() + seconds
        self.manager.run_until(lambda: self.clock.now().timestamp() >= deadline, max_virtual_seconds=seconds + 1)
