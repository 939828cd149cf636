"""The V2 engine (``tekton``): one Tekton PipelineRun per workflow, its status synced back.

``engine`` implements the :class:`~reconciler.engines.base.Engine` protocol, ``objects`` prepares
and creates the compiled Tekton objects, ``sync`` maps a PipelineRun and its TaskRuns to
kubernaut's status (docs/engines.md).
"""

from .engine import ENGINE, TektonEngine, build_engine, taskrun_workflow_key
from .sync import Observed, failure_message, step_from_taskrun, step_statuses, workflow_outcome

__all__ = [
    "ENGINE",
    "Observed",
    "TektonEngine",
    "build_engine",
    "failure_message",
    "step_from_taskrun",
    "step_statuses",
    "taskrun_workflow_key",
    "workflow_outcome",
]
