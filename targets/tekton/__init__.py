"""The V2 target: IR -> Tekton objects (``tekton.dev/v1``).

Per workflow: the per-action-type RBAC (shared with V1, ``targets.common.rbac``), the generic
meta-Task ``kubernaut-action``, a ``Pipeline`` with one pipeline task per step and the
``PipelineRun`` that runs it. ``runtime`` holds the logic of the helper steps inside the
meta-Task (``kubernaut task ...``), shared with the engines' Tekton simulation.
docs/targets-tekton.md explains the design.
"""

from targets.tekton.checks import check_workflow
from targets.tekton.interface import TASK_NAME
from targets.tekton.options import DEFAULT_HELPER_IMAGE, TektonOptions
from targets.tekton.workflow import NotExpressibleError, compile_workflow, pipeline_manifests

__all__ = [
    "DEFAULT_HELPER_IMAGE",
    "TASK_NAME",
    "NotExpressibleError",
    "TektonOptions",
    "check_workflow",
    "compile_workflow",
    "pipeline_manifests",
]
