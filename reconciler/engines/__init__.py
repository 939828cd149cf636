"""Engines: how a workflow's steps run. ``jobs`` (V1) drives native Jobs itself; ``tekton`` (V2)
hands the DAG to a PipelineRun. Both implement :class:`~reconciler.engines.base.Engine`."""

from .base import Engine, EngineContext, EngineResult, owner_reference

__all__ = ["Engine", "EngineContext", "EngineResult", "owner_reference"]
