"""The ``Engine`` protocol: what the engine-agnostic WorkflowExecution controller needs from V1
(``jobs``) and V2 (``tekton``).

The controller (``reconciler.workflow_controller``) owns everything both engines share: reading
the WorkflowExecution, finalizer, compiling, routing and the sticky ``status.engine``, the
workflow timeout, cancellation, writing ``status`` (only when it changed), Events and metrics.
An engine only runs the steps:

* :meth:`Engine.reconcile` makes progress and reports the step statuses and the workflow phase
  it observes (level-triggered: from cluster state, never from memory);
* :meth:`Engine.cancel` stops whatever is running (idempotent);
* :meth:`Engine.cleanup` removes what must not outlive the workflow (idempotent; True when done).

``watches`` names the kinds whose changes concern a workflow, each with a mapper to the
WorkflowExecution's key, so the controller wakes up when an engine's children change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from compiler import ir

from ..clock import Clock
from ..cluster import Cluster, JsonObject
from ..controller import WatchSpec
from ..events import EventRecorder
from ..metrics import Metrics
from ..status import StepStatus, WorkflowPhase, WorkflowStatus
from ..verification import ImageVerification
from .action_rbac import ActionRbac

__all__ = ["Engine", "EngineContext", "EngineResult", "EngineSetup", "owner_reference"]


def owner_reference(obj: JsonObject, *, controller: bool = True) -> dict[str, Any]:
    """An ownerReference to ``obj``: garbage collection removes the child with its owner."""
    meta = obj["metadata"]
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"], "uid": meta["uid"],
            "controller": controller, "blockOwnerDeletion": True}


@dataclass(frozen=True)
class EngineSetup:
    """What the assembly (``reconciler.app``) hands every engine's ``build_engine``: the image
    policy hook, who applies the action types' RBAC, and the V2 helper image settings (an engine
    ignores what it does not use)."""

    verification: ImageVerification
    action_rbac: ActionRbac = ActionRbac.APPLY
    helper_image: str | None = None  # None: the engine's default
    require_released_helper: bool = False


@dataclass(frozen=True)
class EngineContext:
    """Everything an engine may use for one workflow in one reconcile.

    ``wfe`` is the WorkflowExecution as read at the start of the reconcile and ``status`` its
    parsed status (read-only: the controller writes status from the :class:`EngineResult`).
    ``workflow`` is always set for :meth:`Engine.reconcile`; it is None for ``cancel`` and
    ``cleanup`` only when the current spec no longer compiles (engines must still stop and
    clean up then, by names and labels).

    ``stopping`` is set when the controller is about to cancel the workflow (``spec.cancel``,
    deletion, the workflow timeout) and only wants the freshest step statuses: ``reconcile``
    must then observe and report, and start nothing.
    """

    cluster: Cluster
    clock: Clock
    wfe: JsonObject
    workflow: ir.Workflow | None
    status: WorkflowStatus
    recorder: EventRecorder
    metrics: Metrics
    stopping: bool = False

    @property
    def name(self) -> str:
        return str(self.wfe["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.wfe["metadata"].get("namespace") or "default")

    @property
    def uid(self) -> str:
        return str(self.wfe["metadata"].get("uid") or "")

    def owner_reference(self) -> dict[str, Any]:
        return owner_reference(self.wfe)


@dataclass(frozen=True)
class EngineResult:
    """What an engine observed: the steps (workflow order), the phase, and when to look again.

    ``phase`` is Running, Succeeded or Failed (cancellation belongs to the controller);
    ``message`` explains a Failed phase (the failed step's last message). ``requeue_after``
    asks for another reconcile even if nothing watched changes (a timer the engine needs).
    """

    steps: list[StepStatus]
    phase: WorkflowPhase = WorkflowPhase.RUNNING
    message: str | None = None
    requeue_after: float | None = None

    def __post_init__(self) -> None:
        if self.phase not in (WorkflowPhase.RUNNING, WorkflowPhase.SUCCEEDED, WorkflowPhase.FAILED):
            raise ValueError(f"an engine reports Running, Succeeded or Failed, not {self.phase}")


@runtime_checkable
class Engine(Protocol):
    #: Its name in ``reconciler.engines.registry``: the value recorded in ``status.engine``.
    name: str
    #: Kinds whose changes concern a workflow, mapped to the WorkflowExecution's key.
    watches: Sequence[WatchSpec]

    def reconcile(self, ctx: EngineContext) -> EngineResult:
        """Start what is ready, observe what runs; never block. Raise for API errors (the
        controller retries transient ones with backoff)."""
        ...

    def cancel(self, ctx: EngineContext) -> None:
        """Stop everything still running for the workflow; start nothing new. Idempotent."""
        ...

    def cleanup(self, ctx: EngineContext) -> bool:
        """Release per-workflow resources once the workflow is over (called only after its final
        status is persisted). Idempotent; True when nothing is left to do."""
        ...
