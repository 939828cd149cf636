"""The engines kubernaut knows, declared once.

Everything that names an engine reads it from here: routing (which names a policy may choose,
and which engine takes a workflow whose choice cannot run), the controller (what the cluster
must serve for an engine to start workflows), metrics (the closed set of ``engine`` label
values), ``kubernaut inspect``/``report`` (how an engine is labelled) and the CLI (``--engine``
choices). Adding an engine is one new package under ``reconciler/engines/`` plus one
:class:`EngineInfo` in :data:`REGISTRY` (docs/architecture.md, "Adding an engine").

This module imports nothing of kubernaut: metrics and routing sit below the engines and import
it, while the engines import them. An engine's implementation is therefore named, not imported:
``build`` (and ``controllers``) are ``module:function`` strings loaded only by the assembly
(``reconciler.app``) that builds the engines of a controller, ``simulator`` only by
``kubernaut run``'s wiring (``reconciler.simulation.wiring``: production code never imports a
simulator) and ``step_objects`` only by ``kubernaut describe``/``logs`` (``reconciler.inspect``).
The compiler, below everything here, learns the names from its callers
(``compile_files(engines=...)``): ``spec.engine`` is checked against this registry without the
compiler importing it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["REGISTRY", "ApiKind", "EngineInfo", "EngineRegistry", "known_engines"]

#: ``(apiVersion, kind)`` of a resource type the API server must serve.
ApiKind = tuple[str, str]


@dataclass(frozen=True)
class EngineInfo:
    """One engine as users, routing, metrics and reports see it.

    ``name`` is the value of ``spec.engine``, ``status.engine``, routing rules and the ``engine``
    metric label. ``generation`` is what the migration plan calls it (``V1``, ``V2``).
    ``requires`` lists the kinds the cluster must serve before a workflow may start on the
    engine; ``missing`` says, for status messages and Events, what is absent when they are not
    served. ``build`` names the function that makes the engine (``module:function``, called with
    a ``reconciler.engines.base.EngineSetup``).

    The other names are optional, each a ``module:function`` (or ``module:attribute``) imported
    only by the one caller that needs it, so that no production module imports what it names:

    * ``controllers``: makes the controllers the engine needs besides the workflow controller
      (V1: the ActionExecution controller); called with a
      ``reconciler.engines.controllers.ControllerSetup``, returns a sequence of objects with
      ``controller(workers)``. Read by the assembly (``reconciler.app``).
    * ``simulator``: adds what simulates the engine's objects to a
      ``reconciler.simulation.Simulation`` (V2: the Tekton simulators), for ``kubernaut run``
      and the tests; empty: the Simulation's own Job and Pod simulation is all it needs.
    * ``step_objects``: finds the objects behind one step for ``kubernaut describe``/``logs``,
      called as ``(source, workflow, namespace, step)`` and returning a
      ``reconciler.inspect.engine_objects.StepObjects``; empty: ``describe`` lists none.

    ``workflow_objects`` names the kinds of the objects the engine names after the workflow
    itself (V2: its PipelineRun), whose Events ``describe`` shows as the workflow's.
    """

    name: str
    generation: str
    description: str
    build: str
    requires: tuple[ApiKind, ...] = ()
    missing: str = ""
    controllers: str = ""
    simulator: str = ""
    step_objects: str = ""
    workflow_objects: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``V1 jobs``: how reports and ``kubernaut inspect`` name the engine."""
        return f"{self.generation} {self.name}"

    def available(self, has_kind: Callable[[str, str], bool]) -> bool:
        """The cluster serves everything the engine needs (``has_kind(apiVersion, kind)``)."""
        return all(has_kind(api_version, kind) for api_version, kind in self.requires)

    def load_builder(self) -> Callable[..., Any]:
        """The function named by ``build`` (imported now, never at module import)."""
        return self._load("build", self.build)

    def load_controllers(self) -> Callable[..., Any] | None:
        """The function named by ``controllers``; None when the engine needs no controller of its own."""
        return self._load("controllers", self.controllers) if self.controllers else None

    def load_simulator(self) -> Callable[..., Any] | None:
        """The function named by ``simulator``; None when the engine needs no simulator of its own."""
        return self._load("simulator", self.simulator) if self.simulator else None

    def load_step_objects(self) -> Callable[..., Any] | None:
        """The function named by ``step_objects``; None when ``describe`` lists no objects for the engine."""
        return self._load("step_objects", self.step_objects) if self.step_objects else None

    def _load(self, field: str, path: str) -> Callable[..., Any]:
        module, colon, attribute = path.partition(":")
        if not colon or not module or not attribute:
            raise ValueError(f"engine '{self.name}': {field} must be 'module:function', not '{path}'")
        loaded = getattr(importlib.import_module(module), attribute)
        if not callable(loaded):
            raise TypeError(f"engine '{self.name}': {field} {path} is not callable")
        return loaded


class EngineRegistry:
    """An immutable, ordered set of engines; ``fallback`` takes the workflows whose chosen engine
    cannot run (it must need nothing from the cluster) and is the baseline of rollout reports."""

    def __init__(self, engines: Iterable[EngineInfo], fallback: str) -> None:
        self._engines: dict[str, EngineInfo] = {}
        for info in engines:
            if info.name in self._engines:
                raise ValueError(f"engine '{info.name}' is registered twice")
            self._engines[info.name] = info
        if fallback not in self._engines:
            raise ValueError(f"the fallback engine '{fallback}' is not registered ({', '.join(self.names)})")
        if self._engines[fallback].requires:
            raise ValueError(f"the fallback engine '{fallback}' must run on any cluster (it requires "
                             f"{self._engines[fallback].requires})")
        self._fallback = fallback

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._engines)

    @property
    def fallback(self) -> EngineInfo:
        return self._engines[self._fallback]

    @property
    def candidates(self) -> tuple[EngineInfo, ...]:
        """The engines other than the fallback: what a rollout moves workflows to."""
        return tuple(info for name, info in self._engines.items() if name != self._fallback)

    def get(self, name: object) -> EngineInfo | None:
        return self._engines.get(name) if isinstance(name, str) else None

    def __getitem__(self, name: str) -> EngineInfo:
        return self._engines[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._engines

    def __iter__(self) -> Iterator[EngineInfo]:
        return iter(self._engines.values())

    def __len__(self) -> int:
        return len(self._engines)

    def with_engine(self, info: EngineInfo) -> EngineRegistry:
        """A new registry with ``info`` added (the registry itself never changes)."""
        return EngineRegistry([*self, info], self._fallback)

    def choices(self, conjunction: str = "or") -> str:
        """``jobs or tekton`` / ``'jobs', 'tekton' or 'argo'``-style text for messages."""
        quoted = [f"'{name}'" for name in self.names]
        return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} {conjunction} {quoted[-1]}"


#: The registration: one entry per engine.
REGISTRY: Final = EngineRegistry(
    (
        EngineInfo("jobs", "V1", "kubernaut's own controllers run each step as a native batch/v1 Job",
                   build="reconciler.engines.jobs.engine:build_engine",
                   controllers="reconciler.engines.jobs.controllers:build_controllers",
                   step_objects="reconciler.inspect.engine_objects:jobs_step"),
        EngineInfo("tekton", "V2", "the workflow runs as one Tekton PipelineRun",
                   build="reconciler.engines.tekton.engine:build_engine",
                   requires=(("tekton.dev/v1", "PipelineRun"),),
                   missing="Tekton is not installed (no tekton.dev CRDs)",
                   simulator="reconciler.simulation.tekton:add_tekton",
                   step_objects="reconciler.inspect.engine_objects:tekton_step",
                   workflow_objects=("PipelineRun",)),
    ),
    fallback="jobs",
)


def known_engines() -> EngineRegistry:
    """The registry in force. Callers ask at use time (never copy it at import), so a test can
    register an extra engine by replacing :data:`REGISTRY` for its duration."""
    return REGISTRY
