"""A third engine for the registry tests: ``argo``, which finishes every step at once.

It stands for "one new package": the registry entry :data:`ARGO` names :func:`build_engine`
by its import path, and nothing else in kubernaut is edited for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reconciler.clock import rfc3339
from reconciler.controller import WatchSpec
from reconciler.engines.base import EngineContext, EngineResult, EngineSetup
from reconciler.engines.registry import EngineInfo, EngineRegistry
from reconciler.status import StepPhase, StepStatus, WorkflowPhase

NAME = "argo"

#: The ``register`` fixture (conftest): adds an engine to the registry for one test.
Register = Callable[[EngineInfo], EngineRegistry]

#: Served by no cluster in these tests unless the test says so.
ARGO = EngineInfo(NAME, "V3", "a test double that finishes every step at once",
                  build=f"{__name__}:build_engine", requires=(("argoproj.io/v1alpha1", "Workflow"),),
                  missing="Argo Workflows is not installed (no argoproj.io CRDs)")
#: The same engine needing nothing from the cluster, for runs end to end on MemoryCluster.
ARGO_ANYWHERE = EngineInfo(NAME, "V3", ARGO.description, build=ARGO.build)


class ArgoEngine:
    name = NAME
    watches: Sequence[WatchSpec] = ()

    def __init__(self, setup: EngineSetup) -> None:
        self.setup = setup

    def reconcile(self, ctx: EngineContext) -> EngineResult:
        assert ctx.workflow is not None
        now = rfc3339(ctx.clock.now())
        steps = [StepStatus(s.name, StepPhase.SUCCEEDED, 1, now, now, {}) for s in ctx.workflow.steps]
        return EngineResult(steps, WorkflowPhase.SUCCEEDED)

    def cancel(self, ctx: EngineContext) -> None:
        return None

    def cleanup(self, ctx: EngineContext) -> bool:
        return True


def build_engine(setup: EngineSetup) -> ArgoEngine:
    return ArgoEngine(setup)
