"""Simulated Tekton Pipelines for ``MemoryCluster``: PipelineRuns and TaskRuns run without a cluster.

Two controllers model Tekton's: :class:`PipelineRunSimulator` (DAG readiness, ``when`` and skip
propagation, result passing, TaskRun creation, timeouts, cancellation, the PipelineRun's status)
and :class:`TaskRunSimulator` (attempts of the meta-Task ``kubernaut-action`` — its helper steps
through ``targets.tekton.runtime``, the action scripted or as a local entrypoint reading its
inputs on stdin — retries with ``retriesStatus``, per-attempt timeouts, results).

Wire them next to the Job simulation (the same outcomes drive both engines)::

    sim = Simulation(outcomes=outcomes, entrypoints=LOCAL_ENTRYPOINTS)
    tekton = add_tekton(sim)        # or: for ctl in tekton_controllers(...): manager.add(ctl)

docs/simulation.md describes both simulations and how they differ from a real cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ...clock import Clock
from ...cluster import Cluster
from ...controller import Controller
from .. import Simulation
from ..informer_reads import InformerReads
from ..outcomes import Outcomes
from . import conditions
from .conditions import condition_reason, run_failed, run_finished, run_succeeded, succeeded_condition
from .pipelinerun import PipelineRunSimulator
from .steps import AttemptRun, MetaTaskRunner, StepRun
from .taskrun import TaskRunSimulator, pod_name

__all__ = [
    "AttemptRun",
    "MetaTaskRunner",
    "PipelineRunSimulator",
    "StepRun",
    "TaskRunSimulator",
    "TektonSimulators",
    "add_tekton",
    "condition_reason",
    "conditions",
    "pod_name",
    "run_failed",
    "run_finished",
    "run_succeeded",
    "succeeded_condition",
    "tekton_controllers",
    "tekton_simulators",
]


@dataclass(frozen=True)
class TektonSimulators:
    """Both simulated Tekton controllers (keep this to read step logs or count processes)."""

    pipelineruns: PipelineRunSimulator
    taskruns: TaskRunSimulator

    def controllers(self, workers: int = 1) -> list[Controller]:
        return [self.pipelineruns.controller(workers), self.taskruns.controller(workers)]


def tekton_simulators(
    cluster: Cluster,
    clock: Clock,
    *,
    outcomes: Outcomes | None = None,
    entrypoints: Mapping[str, Sequence[str]] | None = None,
    default_duration: float = 1.0,
    failure_reason: str = conditions.TR_REASON_FAILED,
) -> TektonSimulators:
    """The two simulators on ``cluster``, timed by ``clock``. ``failure_reason``: the TaskRun
    reason of a failed step (``Failed``; Tekton >= 1.12 says ``StepFailed``)."""
    reads = InformerReads(cluster, clock, conditions.INFORMER_KINDS)  # one process, shared informers
    return TektonSimulators(
        PipelineRunSimulator(cluster, clock, reads=reads),
        TaskRunSimulator(cluster, clock, outcomes=outcomes, entrypoints=entrypoints,
                         default_duration=default_duration, failure_reason=failure_reason, reads=reads),
    )


def tekton_controllers(
    cluster: Cluster,
    clock: Clock,
    *,
    outcomes: Outcomes | None = None,
    entrypoints: Mapping[str, Sequence[str]] | None = None,
    default_duration: float = 1.0,
    workers: int = 1,
) -> list[Controller]:
    """Controllers to add to a ``Manager`` on ``cluster`` so that PipelineRuns run."""
    sims = tekton_simulators(cluster, clock, outcomes=outcomes, entrypoints=entrypoints,
                             default_duration=default_duration)
    return sims.controllers(workers)


def add_tekton(simulation: Simulation, *, outcomes: Outcomes | None = None,
               entrypoints: Mapping[str, Sequence[str]] | None = None,
               default_duration: float | None = None, failure_reason: str = conditions.TR_REASON_FAILED,
               workers: int = 1) -> TektonSimulators:
    """Add the Tekton simulation to a ``reconciler.simulation.Simulation``. Outcomes, entrypoints
    and the default duration default to those of its Job simulation, so one outcomes file drives
    both engines alike."""
    jobs = simulation.jobs
    sims = tekton_simulators(
        simulation.controllers_cluster, simulation.clock,
        outcomes=outcomes if outcomes is not None else jobs.outcomes,
        entrypoints=entrypoints if entrypoints is not None else jobs.entrypoints,
        default_duration=default_duration if default_duration is not None else jobs.default_duration,
        failure_reason=failure_reason,
    )
    for controller in sims.controllers(workers):
        simulation.manager.add(controller)
    return sims
