"""A third engine for the registry tests: ``argo``, which finishes every step at once.

It stands for "one new package": the registry entry :data:`ARGO` names, by import path, its
:func:`build_engine`, the controller it needs besides the workflow controller
(:func:`build_controllers`), its simulator for ``kubernaut run`` (:func:`add_simulator`) and how
``describe`` finds the objects behind a step (:func:`step_objects`); nothing else in kubernaut is
edited for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from compiler.spec import API_VERSION, KIND
from reconciler.clock import rfc3339
from reconciler.cluster import Cluster
from reconciler.controller import Controller, Key, Result, WatchSpec
from reconciler.engines.base import EngineContext, EngineResult, EngineSetup
from reconciler.engines.controllers import ControllerSetup
from reconciler.engines.registry import EngineInfo, EngineRegistry
from reconciler.inspect.engine_objects import EngineObject, StepObjects
from reconciler.inspect.source import ReadSource
from reconciler.simulation import Simulation
from reconciler.status import StepPhase, StepStatus, WorkflowPhase

NAME = "argo"

#: The ``register`` fixture (conftest): adds an engine to the registry for one test.
Register = Callable[[EngineInfo], EngineRegistry]

#: The kind the engine names after the workflow (``describe`` shows its Events as the workflow's).
WORKFLOW_KIND = "Workflow"

#: Served by no cluster in these tests unless the test says so.
ARGO = EngineInfo(NAME, "V3", "a test double that finishes every step at once",
                  build=f"{__name__}:build_engine", requires=(("argoproj.io/v1alpha1", WORKFLOW_KIND),),
                  missing="Argo Workflows is not installed (no argoproj.io CRDs)",
                  controllers=f"{__name__}:build_controllers", simulator=f"{__name__}:add_simulator",
                  step_objects=f"{__name__}:step_objects", workflow_objects=(WORKFLOW_KIND,))
#: The same engine needing nothing from the cluster, for runs end to end on MemoryCluster.
ARGO_ANYWHERE = EngineInfo(NAME, "V3", ARGO.description, build=ARGO.build, controllers=ARGO.controllers,
                           simulator=ARGO.simulator, step_objects=ARGO.step_objects,
                           workflow_objects=ARGO.workflow_objects)

#: The Simulations :func:`add_simulator` was given (the test reads it, then clears it).
SIMULATED: list[Simulation] = []


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


class ArgoObserver:
    """The engine's own controller: it sees every WorkflowExecution (a real one would watch the
    engine's objects), so a test can tell the assembly installed it."""

    def __init__(self, setup: ControllerSetup) -> None:
        self.cluster: Cluster = setup.cluster
        self.seen: list[Key] = []

    def controller(self, workers: int = 1) -> Controller:
        return Controller("argo-observer", self.reconcile, [WatchSpec(API_VERSION, KIND)], workers=workers)

    def reconcile(self, key: Key) -> Result | None:
        self.seen.append(key)
        return None


def build_controllers(setup: ControllerSetup) -> list[ArgoObserver]:
    return [ArgoObserver(setup)]


def add_simulator(simulation: Simulation) -> None:
    SIMULATED.append(simulation)


def step_objects(source: ReadSource, workflow: str, namespace: str, step: str) -> StepObjects:
    node = EngineObject("ArgoNode", f"{workflow}-{step}", "Succeeded")
    return StepObjects(EngineObject(WORKFLOW_KIND, workflow, "Succeeded", (node,)))
