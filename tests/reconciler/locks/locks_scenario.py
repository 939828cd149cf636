"""Workflows that remediate the same Deployment, and the invariant every test of this folder
checks: at no revision of the cluster do two of them run at once (``reconciler.locks``)."""

from __future__ import annotations

from typing import Any

from jobs_engine_harness import Harness, echo_step, outcomes, workflow

from reconciler.cluster import FaultInjector

TARGET = "targetResource: {kind: Deployment, name: payments}"
SCRIPT = """
    steps:
      fix: [{duration: 20s, outputs: {ok: "yes"}}]
"""
NAMES = ("first", "second", "third")


def remediation(name: str, *, policy: str | None = None, target: str = TARGET) -> dict[str, Any]:
    spec = target + (f"\nlockPolicy: {policy}" if policy else "")
    return workflow(name, echo_step("fix", inputs={"ok": "yes"}) + echo_step("check", after=["fix"]), spec=spec)


def harness(faults: FaultInjector | None = None, *, names: tuple[str, ...] = NAMES) -> Harness:
    h = Harness(outcomes=outcomes(SCRIPT), faults=faults)
    for name in names:
        h.create(remediation(name))
        h.clock.advance(1.0)  # creation order is creation time (whole seconds, as in Kubernetes)
    return h


def running_at_once(h: Harness) -> int:
    """The most workflows of the target that were running (engine chosen, not finished) at any
    revision, replaying every WorkflowExecution watch event in order."""
    current: dict[str, dict[str, Any]] = {}
    most = 0
    for seen in h.seen("WorkflowExecution"):
        if seen.type == "DELETED":
            current.pop(seen.name, None)
        else:
            current[seen.name] = seen.obj
        running = [n for n, obj in current.items()
                   if (obj.get("status") or {}).get("engine")
                   and (obj.get("status") or {}).get("phase") not in ("Succeeded", "Failed", "Cancelled")]
        most = max(most, len(running))
    return most


def start_order(h: Harness) -> list[str]:
    """The workflows in the order they started running."""
    started: list[str] = []
    for seen in h.seen("WorkflowExecution"):
        if (seen.obj.get("status") or {}).get("engine") and seen.name not in started:
            started.append(seen.name)
    return started


def check_serialised(h: Harness, names: tuple[str, ...] = NAMES) -> None:
    for name in names:
        assert h.status(name)["phase"] == "Succeeded", (name, h.status(name))
    assert running_at_once(h) == 1
    assert start_order(h) == list(names)
    # Every lock released: no Lease has a holder any more.
    assert all(not (lease.get("spec") or {}).get("holderIdentity") for lease in h.objects("Lease"))
