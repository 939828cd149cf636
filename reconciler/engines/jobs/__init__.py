"""The V1 engine (``jobs``): ActionExecutions and native Jobs, driven by kubernaut itself."""

from .actionexecution_controller import ActionExecutionController, AttemptSettings, PodLookup, pods_by_label
from .engine import JobsEngine, step_status_from_action_execution
from .scheduler import Identity, Schedule, Start, schedule, topological_order

__all__ = [
    "ActionExecutionController",
    "AttemptSettings",
    "Identity",
    "JobsEngine",
    "PodLookup",
    "Schedule",
    "Start",
    "pods_by_label",
    "schedule",
    "step_status_from_action_execution",
    "topological_order",
]
