"""Engines: how a workflow's steps run. ``jobs`` (V1) drives native Jobs itself; ``tekton`` (V2)
hands the DAG to a PipelineRun. Both implement :class:`~reconciler.engines.base.Engine`; the
engines that exist are declared once, in :mod:`reconciler.engines.registry`.

The protocol's names are loaded on first use, not with the package: ``registry`` must be
importable by the modules ``base`` itself imports (metrics, routing) without a cycle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Engine, EngineContext, EngineResult, EngineSetup, owner_reference

__all__ = ["Engine", "EngineContext", "EngineResult", "EngineSetup", "owner_reference"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module(".base", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
