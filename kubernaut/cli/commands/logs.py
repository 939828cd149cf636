"""``kubernaut logs NAME [--step S] [--attempt N] [-f]``: an action's log, the same for both
engines — from the Job's Pod (V1) or from the TaskRun Pod's ``step-execute`` container (V2)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from kubernaut.cli.app import app
from kubernaut.cli.clusterargs import ContextOpt, KubeconfigOpt, NamespaceOpt, StateOpt, open_target, run_reading
from reconciler.cluster import NotFound
from reconciler.inspect import InspectError, LogTarget, log_targets


def _header(target: LogTarget) -> str:
    container = f", container {target.container}" if target.container else ""
    return f"==> step {target.step}, attempt {target.attempt} (pod {target.pod}{container}) <==\n"


@app.command()
def logs(
    name: str = typer.Argument(..., help="The WorkflowExecution.", show_default=False),
    step: str | None = typer.Option(None, "--step", "-s", help="One step (default: every step that ran, "
                                    "each under a header).", show_default=False),
    attempt: int | None = typer.Option(None, "--attempt", min=1, help="Attempt number of --step (default: "
                                       "the latest).", show_default=False),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep streaming the (last) step's log while it "
                                "runs (a cluster only; a state file has nothing more to come)."),
    namespace: str | None = NamespaceOpt,
    state: Path | None = StateOpt,
    kubeconfig: Path | None = KubeconfigOpt,
    context: str | None = ContextOpt,
) -> None:
    """Print the action's log of a workflow's steps."""
    source = open_target(state, kubeconfig, context, namespace)

    def body() -> None:
        targets = log_targets(source.source, name, source.resolve(name), step=step, attempt=attempt)
        headers = len(targets) > 1 or step is None
        for index, target in enumerate(targets):
            if headers:
                sys.stdout.write(("\n" if index else "") + _header(target))
            last = index == len(targets) - 1
            try:
                if follow and last and source.cluster is not None:
                    for chunk in source.cluster.follow_pod_log(target.namespace, target.pod, target.container):
                        sys.stdout.write(chunk)
                        sys.stdout.flush()
                    continue
                text = source.source.read_pod_log(target.namespace, target.pod, target.container)
            except NotFound:
                raise InspectError(f"the log of step '{target.step}' (attempt {target.attempt}, pod {target.pod}) "
                                   "is gone: the pod was deleted") from None
            sys.stdout.write(text if not text or text.endswith("\n") else text + "\n")

    try:
        run_reading(body)
    finally:
        source.close()
