"""``kubernaut run --stats FILE.json``: what a run asked of the (embedded) API server.

Requests are told apart by the client that made them (``MemoryCluster.client``): kubernaut's
controllers are ``kubernaut``; the simulated Job, Pod and Tekton controllers stand in for what a
real cluster's own controllers would do and are counted as ``simulator``. The requests of the
``kubernaut run`` command itself (creating the workflow, following its progress) are neither, and
are left out. Verbs are the API server's: a status patch and a server-side apply are ``patch``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.cluster.memory import MemoryCluster

__all__ = ["CLI_CLIENT", "KUBERNAUT_CLIENT", "VERBS", "run_stats", "steps_run", "write_stats"]

KUBERNAUT_CLIENT = "kubernaut"
CLI_CLIENT = "kubernaut-run"
VERBS = ("get", "list", "watch", "create", "update", "patch", "delete")
_API_VERB = {"patch_status": "patch", "apply": "patch"}


def steps_run(workflows: list[dict[str, Any]]) -> int:
    """Steps of these WorkflowExecutions that ran (at least one attempt): skipped steps and
    steps a failure left unstarted cost (almost) nothing, so they are not counted."""
    return sum(1 for wfe in workflows for step in (wfe.get("status") or {}).get("steps") or []
               if int(step.get("attempts") or 0) > 0)


def run_stats(cluster: MemoryCluster, steps: int, wall_seconds: float) -> dict[str, Any]:
    """``{"steps": n, "requests": {"kubernaut": {verb: n}, "simulator": {verb: n}}, "wallSeconds": s}``."""
    requests: dict[str, dict[str, int]] = {"kubernaut": dict.fromkeys(VERBS, 0), "simulator": dict.fromkeys(VERBS, 0)}
    for (client, verb, _kind), count in cluster.request_counts().items():
        if client == CLI_CLIENT:
            continue
        side = "kubernaut" if client == KUBERNAUT_CLIENT else "simulator"
        requests[side][_API_VERB.get(verb, verb)] += count
    return {"steps": steps, "requests": requests, "wallSeconds": round(wall_seconds, 3)}


def write_stats(path: Path, cluster: MemoryCluster, steps: int, wall_seconds: float) -> None:
    """Write :func:`run_stats` as JSON; OSError is the caller's to report."""
    path.write_text(json.dumps(run_stats(cluster, steps, wall_seconds), indent=2) + "\n", encoding="utf-8")
