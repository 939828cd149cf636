"""What every engine test harness does with the cluster: create workflows outside fault
injection, run the Manager until they settle, and read their status without faults."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from compiler.spec import KIND as WFE_KIND
from reconciler.cluster.memory import MemoryCluster
from reconciler.runtime import Manager
from reconciler.status import TERMINAL_WORKFLOW_PHASES
from reconciler.workflow_controller import FINALIZER


class WorkflowDriver:
    """Mixin for harnesses that set ``self.cluster`` and ``self.manager``."""

    cluster: MemoryCluster
    manager: Manager

    def create(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        faults, self.cluster.faults = self.cluster.faults, None  # the user's create is not under test
        try:
            return self.cluster.create(copy.deepcopy(dict(doc)))
        finally:
            self.cluster.faults = faults

    def settled(self) -> bool:
        """Every workflow final and cleaned up (its finalizer gone). Reads without faults."""
        found = self.cluster.objects(WFE_KIND)
        return bool(found) and all(
            (w.get("status") or {}).get("phase") in TERMINAL_WORKFLOW_PHASES
            and FINALIZER not in (w["metadata"].get("finalizers") or []) for w in found)

    def run(self, max_seconds: float = 4 * 3600) -> bool:
        return self.manager.run_until(self.settled, max_virtual_seconds=max_seconds)

    def wfe(self, name: str, namespace: str = "default") -> dict[str, Any]:
        for obj in self.cluster.objects(WFE_KIND, namespace):
            if obj["metadata"]["name"] == name:
                return obj
        raise KeyError(name)

    def status(self, name: str) -> dict[str, Any]:
        return dict(self.wfe(name).get("status") or {})

    def step(self, workflow: str, name: str) -> dict[str, Any]:
        for entry in self.status(workflow).get("steps") or []:
            if entry["name"] == name:
                return dict(entry)
        raise KeyError(name)

    def steps(self, workflow: str) -> dict[str, tuple[str, int]]:
        return {s["name"]: (s["phase"], s["attempts"]) for s in self.status(workflow).get("steps") or []}
