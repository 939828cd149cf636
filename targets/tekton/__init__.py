"""The V2 target: IR -> Tekton objects (``tekton.dev/v1``).

Per workflow: the per-action-type RBAC (shared with V1, ``targets.common.rbac``), the generic
meta-Task ``kubernaut-action``, a ``Pipeline`` with one pipeline task per step and the
``PipelineRun`` that runs it. ``runtime`` holds the logic of the helper steps inside the
meta-Task (``kubernaut task ...``), shared with the engines' Tekton simulation.
docs/targets-tekton.md explains the design.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from targets.tekton.checks import check_workflow
    from targets.tekton.interface import TASK_NAME
    from targets.tekton.options import DEFAULT_HELPER_IMAGE, TektonOptions
    from targets.tekton.workflow import NotExpressibleError, compile_workflow, pipeline_manifests

# Loaded on first use: the helper steps import ``targets.tekton.runtime`` (and so this package)
# in every TaskRun, and must not pay for the compiler's IR models (kubernaut.task).
_EXPORTS = {
    "check_workflow": "targets.tekton.checks",
    "TASK_NAME": "targets.tekton.interface",
    "DEFAULT_HELPER_IMAGE": "targets.tekton.options",
    "TektonOptions": "targets.tekton.options",
    "NotExpressibleError": "targets.tekton.workflow",
    "compile_workflow": "targets.tekton.workflow",
    "pipeline_manifests": "targets.tekton.workflow",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_HELPER_IMAGE",
    "TASK_NAME",
    "NotExpressibleError",
    "TektonOptions",
    "check_workflow",
    "compile_workflow",
    "pipeline_manifests",
]
