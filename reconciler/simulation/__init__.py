"""Simulated workloads for ``MemoryCluster``: Jobs complete without a cluster.

:class:`Simulation` wires the usual pieces together — a ``MemoryCluster``, a clock (virtual by
default: durations and backoff cost no real time; ``realtime=True`` waits for real), a
``Manager`` and the :class:`JobSimulator` controller. Engines add their own controllers to
``simulation.manager`` and drive everything with :meth:`Simulation.run_until`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from ..clock import Clock, RealClock, VirtualClock
from ..cluster import Cluster, FaultInjector
from ..cluster.memory import MemoryCluster
from ..runtime import Manager
from .jobs import ACTION_TYPE_ANNOTATION, ATTEMPT_LABEL, STEP_LABEL, JobSimulator, RunOutcome, job_finished, pod_name
from .outcomes import AttemptOutcome, LoadedOutcomes, Outcomes, OutcomesError, load_outcomes, parse_outcomes
from .process import ProcessResult, run_entrypoint, termination_message

__all__ = [
    "ACTION_TYPE_ANNOTATION",
    "ATTEMPT_LABEL",
    "STEP_LABEL",
    "AttemptOutcome",
    "JobSimulator",
    "LoadedOutcomes",
    "Outcomes",
    "OutcomesError",
    "ProcessResult",
    "RunOutcome",
    "Simulation",
    "job_finished",
    "load_outcomes",
    "parse_outcomes",
    "pod_name",
    "run_entrypoint",
    "termination_message",
]


class Simulation:
    """A MemoryCluster with a clock, a Manager and simulated Jobs, ready for engines to join."""

    def __init__(
        self,
        *,
        outcomes: Outcomes | None = None,
        entrypoints: Mapping[str, Sequence[str]] | None = None,
        realtime: bool = False,
        start: datetime | None = None,
        seed: int | None = 0,
        faults: FaultInjector | None = None,
        tekton_installed: bool = True,
        default_duration: float = 1.0,
        record_events: bool = False,
    ) -> None:
        self.clock: Clock = RealClock() if realtime else (VirtualClock(start) if start else VirtualClock())
        self.cluster = MemoryCluster(clock=self.clock, seed=seed, faults=faults,
                                     tekton_installed=tekton_installed)
        #: What the simulated controllers talk to: the same cluster (their requests logged as
        #: before, with no client name), answering with its read-only snapshots instead of a
        #: private copy per answer. Like the real controllers they simulate (client-go's
        #: informer contract), they never edit what they read or what a write answered.
        self.controllers_cluster: Cluster = self.cluster.client("", read_only_answers=True)
        self.manager = Manager(self.cluster, self.clock)
        self.jobs = JobSimulator(self.controllers_cluster, self.clock, outcomes=outcomes, entrypoints=entrypoints,
                                 default_duration=default_duration, record_events=record_events)
        self.manager.add(self.jobs.controller())

    @property
    def realtime(self) -> bool:
        return not isinstance(self.clock, VirtualClock)

    def run_until(self, predicate: Callable[[], bool], max_seconds: float | None = None) -> bool:
        """Drive every controller until ``predicate()`` holds (see ``Manager.run_until``)."""
        return self.manager.run_until(predicate, max_virtual_seconds=max_seconds)
