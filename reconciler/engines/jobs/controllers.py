"""The V1 engine's own controller, made from the registry (``EngineInfo.controllers``)."""

from __future__ import annotations

from typing import cast

from ..controllers import ControllerSetup
from .actionexecution_controller import ActionExecutionController, AttemptSettings, PodLookup, pods_by_label

__all__ = ["build_controllers"]


def build_controllers(setup: ControllerSetup) -> list[ActionExecutionController]:
    """The ActionExecution controller: it runs each step's attempts as Jobs."""
    settings = setup.attempts if isinstance(setup.attempts, AttemptSettings) else None
    pod_lookup = cast(PodLookup, setup.pod_lookup) if callable(setup.pod_lookup) else pods_by_label
    return [ActionExecutionController(
        setup.cluster, setup.clock, setup.verification, settings=settings,
        recorder=setup.recorder("kubernaut-actionexecution"), metrics=setup.metrics,
        pod_lookup=pod_lookup)]
