"""The engines kubernaut knows, declared once.

Everything that names an engine reads it from here: routing (which names a policy may choose,
and which engine takes a workflow whose choice cannot run), the controller (what the cluster
must serve for an engine to start workflows), metrics (the closed set of ``engine`` label
values), ``kubernaut inspect``/``report`` (how an engine is labelled) and the CLI (``--engine``
choices). Adding an engine is one new package under ``reconciler/engines/`` plus one
:class:`EngineInfo` in :data:`REGISTRY` (docs/architecture.md, "Adding an engine").

This module imports nothing of kubernaut: metrics and routing sit below the engines and import
it, while the engines import them. An engine's implementation is therefore named, not imported:
``build`` is a ``module:function`` loaded only by the assembly (``reconciler.app``) that builds
the engines of a controller.
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
    """

    name: str
    generation: str
    description: str
    build: str
    requires: tuple[ApiKind, ...] = ()
    missing: str = ""

    @property
    def label(self) -> str:
        """``V1 jobs``: how reports and ``kubernaut inspect`` name the engine."""
        return f"{self.generation} {self.name}"

    def available(self, has_kind: Callable[[str, str], bool]) -> bool:
        """The cluster serves everything the engine needs (``has_kind(apiVersion, kind)``)."""
        return all(has_kind(api_version, kind) for api_version, kind in self.requires)

    def load_builder(self) -> Callable[..., Any]:
        """The function named by ``build`` (imported now, never at module import)."""
        module, _, function = self.build.partition(":")
        builder = getattr(importlib.import_module(module), function)
        if not callable(builder):
            raise TypeError(f"engine '{self.name}': {self.build} is not callable")
        return builder


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
                   build="reconciler.engines.jobs.engine:build_engine"),
        EngineInfo("tekton", "V2", "the workflow runs as one Tekton PipelineRun",
                   build="reconciler.engines.tekton.engine:build_engine",
                   requires=(("tekton.dev/v1", "PipelineRun"),),
                   missing="Tekton is not installed (no tekton.dev CRDs)"),
    ),
    fallback="jobs",
)


def known_engines() -> EngineRegistry:
    """The registry in force. Callers ask at use time (never copy it at import), so a test can
    register an extra engine by replacing :data:`REGISTRY` for its duration."""
    return REGISTRY
