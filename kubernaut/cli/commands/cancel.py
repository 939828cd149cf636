"""``kubernaut cancel NAME``: ask the controller to stop a workflow (``spec.cancel: true``)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from kubernaut.cli.app import app
from kubernaut.cli.clusterargs import ContextOpt, KubeconfigOpt, NamespaceOpt, open_target, run_reading
from reconciler.cluster import Conflict
from reconciler.inspect import find_workflow
from reconciler.status import TERMINAL_WORKFLOW_PHASES

#: Attempts at the read-modify-write when another writer keeps moving the object on.
_CONFLICT_RETRIES = 5


@app.command()
def cancel(
    name: str = typer.Argument(..., help="The WorkflowExecution.", show_default=False),
    namespace: str | None = NamespaceOpt,
    kubeconfig: Path | None = KubeconfigOpt,
    context: str | None = ContextOpt,
) -> None:
    """Cancel a running workflow: running steps are stopped, the rest never start (phase Cancelled)."""
    target = open_target(None, kubeconfig, context, namespace)

    def body() -> None:
        ns = target.resolve(name)
        assert target.cluster is not None  # open_target without a state file connects
        for attempt in range(_CONFLICT_RETRIES):
            wfe = find_workflow(target.source, name, ns)
            phase = (wfe.get("status") or {}).get("phase")
            if phase in TERMINAL_WORKFLOW_PHASES:
                sys.stdout.write(f"workflowexecution {name} already finished ({phase}): nothing to cancel\n")
                return
            if (wfe.get("spec") or {}).get("cancel") is True:
                sys.stdout.write(f"workflowexecution {name} is already being cancelled\n")
                return
            wfe.setdefault("spec", {})["cancel"] = True
            try:
                target.cluster.update(wfe)  # resourceVersion from the read: a lost update is a 409
            except Conflict:
                if attempt == _CONFLICT_RETRIES - 1:
                    raise
                continue
            sys.stdout.write(f"workflowexecution {name} cancel requested\n")
            return

    try:
        run_reading(body)
    finally:
        target.close()
