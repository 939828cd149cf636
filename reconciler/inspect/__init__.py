"""Reading what kubernaut did, from a cluster or a saved state file: the logic behind
``kubernaut get``, ``describe``, ``logs``, ``cancel`` and ``report`` (the CLI only formats).

Everything here reads through :class:`~reconciler.inspect.source.ReadSource` — ``KubeCluster``,
``MemoryCluster`` and :class:`~reconciler.inspect.state.SavedState` all satisfy it — so the same
code answers for a real cluster and for a shared state file of a local run.
"""

from .describe import Description, EngineObject, StepView, describe_workflow
from .errors import InspectError, NotStartedError
from .follow import follow_workflow, workflow_finished
from .logs import LogTarget, log_targets
from .report import EngineStats, Report, build_report, parse_since
from .source import ReadSource, find_workflow, list_workflows
from .state import STATE_KIND, SavedState, StateError, load_state, save_state, snapshot
from .stats import DifferenceInterval, newcombe_difference, percentile, wilson_interval
from .summary import WorkflowRow, workflow_row

__all__ = [
    "STATE_KIND",
    "Description",
    "DifferenceInterval",
    "EngineObject",
    "EngineStats",
    "InspectError",
    "LogTarget",
    "NotStartedError",
    "ReadSource",
    "Report",
    "SavedState",
    "StateError",
    "StepView",
    "WorkflowRow",
    "build_report",
    "describe_workflow",
    "find_workflow",
    "follow_workflow",
    "list_workflows",
    "load_state",
    "log_targets",
    "newcombe_difference",
    "parse_since",
    "percentile",
    "save_state",
    "snapshot",
    "wilson_interval",
    "workflow_finished",
    "workflow_row",
]
