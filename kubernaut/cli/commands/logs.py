"""``kubernaut logs NAME [--step S] [--attempt N] [-f]``: an action's log, the same for both
engines — from the Job's Pod (V1) or from the TaskRun Pod's ``step-execute`` container (V2)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from kubernaut.cli.app import app
from kubernaut.cli.clusterargs import ContextOpt, KubeconfigOpt, NamespaceOpt, StateOpt, open_target, run_reading
from reconciler.cluster import BadRequest, NotFound
from reconciler.cluster.kube import KubeCluster
from reconciler.inspect import InspectError, LogTarget, NotStartedError, ReadSource, log_targets, workflow_finished
from reconciler.inspect.source import find_workflow

#: Seconds between looks at a workflow whose step has not started, with ``-f``.
_WAIT_SECONDS = 1.0


def _targets_when_started(source: ReadSource, name: str, namespace: str, step: str | None,
                          attempt: int | None) -> list[LogTarget]:
    """``-f`` on a step that has not started: wait for its pod (or for the workflow to end)."""
    while True:
        try:
            return log_targets(source, name, namespace, step=step, attempt=attempt)
        except NotStartedError:
            if workflow_finished(find_workflow(source, name, namespace)):
                raise
        time.sleep(_WAIT_SECONDS)


def _gone(target: LogTarget) -> InspectError:
    return InspectError(f"the log of step '{target.step}' (attempt {target.attempt}, pod {target.pod}) is gone: "
                        "the pod was deleted")


def _follow(cluster: KubeCluster, target: LogTarget, workflow: str) -> None:
    """Stream the log; a pod whose container has not started yet (no log: 404 here, 400
    "waiting to start" from a kubelet) is waited for while the workflow runs."""
    while True:
        try:
            for chunk in cluster.follow_pod_log(target.namespace, target.pod, target.container):
                sys.stdout.write(chunk)
                sys.stdout.flush()
            return
        except (NotFound, BadRequest):
            if workflow_finished(find_workflow(cluster, workflow, target.namespace)):
                raise _gone(target) from None
        time.sleep(_WAIT_SECONDS)


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
    follow: bool = typer.Option(False, "--follow", "-f", help="Wait for the step to start, then stream the "
                                "(last) step's log while it runs (a cluster only; a state file has nothing more "
                                "to come)."),
    namespace: str | None = NamespaceOpt,
    state: Path | None = StateOpt,
    kubeconfig: Path | None = KubeconfigOpt,
    context: str | None = ContextOpt,
) -> None:
    """Print the action's log of a workflow's steps."""
    source = open_target(state, kubeconfig, context, namespace)

    def body() -> None:
        namespace_ = source.resolve(name)
        if follow and source.cluster is not None:
            targets = _targets_when_started(source.source, name, namespace_, step, attempt)
        else:
            targets = log_targets(source.source, name, namespace_, step=step, attempt=attempt)
        headers = len(targets) > 1 or step is None
        for index, target in enumerate(targets):
            if headers:
                sys.stdout.write(("\n" if index else "") + _header(target))
            last = index == len(targets) - 1
            if follow and last and source.cluster is not None:
                _follow(source.cluster, target, name)
                continue
            try:
                text = source.source.read_pod_log(target.namespace, target.pod, target.container)
            except NotFound:
                raise _gone(target) from None
            sys.stdout.write(text if not text or text.endswith("\n") else text + "\n")

    try:
        run_reading(body)
    finally:
        source.close()
