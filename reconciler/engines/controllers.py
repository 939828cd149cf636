"""What the assembly hands an engine's ``controllers`` builder (``EngineInfo.controllers``).

An engine may need controllers of its own besides the engine-agnostic workflow controller (V1:
the ActionExecution controller, which runs each step's Jobs). The assembly (``reconciler.app``)
builds them from the registry with one :class:`ControllerSetup`, so it names no engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..clock import Clock
from ..cluster import Cluster
from ..controller import Controller
from ..events import EventRecorder
from ..metrics import Metrics
from ..verification import ImageVerification

__all__ = ["ControllerSetup", "EngineController"]


class EngineController(Protocol):
    """A controller an engine adds: what the assembly installs, and reads (``cluster``) back."""

    cluster: Cluster

    def controller(self, workers: int = 1) -> Controller: ...


@dataclass(frozen=True)
class ControllerSetup:
    """The controllers' shared parts, and the settings some engine's controllers read.

    ``recorder(component)`` makes the Event recorder of one controller (its ``source.component``).
    ``attempts`` and ``pod_lookup`` are the V1 engine's (``AppConfig.attempts``/``pod_lookup``),
    passed through untyped as ``EngineSetup`` passes the V2 helper image: an engine ignores
    what it does not use, and this module names no engine.
    """

    cluster: Cluster
    clock: Clock
    verification: ImageVerification
    metrics: Metrics
    recorder: Callable[[str], EventRecorder]
    attempts: object = None
    pod_lookup: object = None
