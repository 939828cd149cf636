"""``kubernaut run FILE --cluster``: submit the workflow to a real cluster and follow it.

Same live progress, summary and ``--output json`` as the embedded run, on the real clock. Exit
0 Succeeded, 1 Failed/Cancelled/not finished in time or a rejected submission. Ctrl-C stops
following and leaves the workflow running (say where to look), unless ``--cancel-on-interrupt``:
then ``spec.cancel`` is set first. Exit 130 after an interrupt, like a shell.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console

from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND
from kubernaut.cli.clusterargs import Target, fail
from kubernaut.cli.common import EXIT_INVALID, EXIT_OK
from kubernaut.cli.progress import Progress
from reconciler.clock import RealClock
from reconciler.cluster import ApiError, Conflict
from reconciler.inspect import InspectError, follow_workflow

__all__ = ["EXIT_INTERRUPTED", "run_in_cluster"]

EXIT_INTERRUPTED = 130
_CANCEL_ATTEMPTS = 5


def _cancel(target: Target, name: str, namespace: str) -> None:
    assert target.cluster is not None
    for attempt in range(_CANCEL_ATTEMPTS):
        wfe = target.cluster.get(WFE_API_VERSION, WFE_KIND, name, namespace)
        wfe.setdefault("spec", {})["cancel"] = True
        try:
            target.cluster.update(wfe)
            return
        except Conflict:
            if attempt == _CANCEL_ATTEMPTS - 1:
                raise


def run_in_cluster(target: Target, obj: dict[str, Any], *, output: str, timeout: float,
                   cancel_on_interrupt: bool) -> None:
    """Create ``obj`` and follow it; always raises ``typer.Exit``."""
    assert target.cluster is not None
    cluster = target.cluster
    try:
        created = cluster.create(obj)
    except Conflict as exc:
        meta = obj["metadata"]
        if exc.already_exists:
            raise fail(f'workflowexecution "{meta["name"]}" already exists in namespace "{meta["namespace"]}": '
                       "delete it or rename the workflow") from None
        raise fail(f"API error: {exc}") from None
    except ApiError as exc:
        raise fail(f"the cluster rejected the workflow: {exc}") from None
    name, namespace = created["metadata"]["name"], created["metadata"]["namespace"]
    if output == "text":
        sys.stdout.write(f"workflowexecution {namespace}/{name} created\n")
    progress = Progress(Console(file=sys.stdout), lambda: datetime.now(UTC)) if output == "text" else None
    try:
        latest, finished = follow_workflow(cluster, name, namespace,
                                           progress.update if progress is not None else (lambda _: None),
                                           timeout=timeout, clock=RealClock())
    except KeyboardInterrupt:
        if progress is not None:
            progress.close()
        if cancel_on_interrupt:
            try:
                _cancel(target, name, namespace)
            except ApiError as exc:
                raise fail(f"interrupted; cancelling {namespace}/{name} failed: {exc}", EXIT_INTERRUPTED) from None
            sys.stderr.write(f"kubernaut: interrupted; cancel of {namespace}/{name} requested\n")
        else:
            sys.stderr.write(f"kubernaut: interrupted; {namespace}/{name} keeps running in the cluster "
                             f"(kubernaut get/describe/logs -n {namespace} {name}; kubernaut cancel to stop it)\n")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (InspectError, ApiError) as exc:
        if progress is not None:
            progress.close()
        raise fail(exc.message if isinstance(exc, InspectError) else f"API error: {exc}") from None
    if progress is not None:
        progress.close()
    phase = (latest.get("status") or {}).get("phase")
    if output == "json":
        sys.stdout.write(json.dumps(latest, indent=2, ensure_ascii=False) + "\n")
    elif progress is not None:
        progress.summary(latest)
    if not finished:
        sys.stderr.write(f"kubernaut: workflow {name} did not finish within {timeout:g}s; it keeps running\n")
        raise typer.Exit(EXIT_INVALID)
    raise typer.Exit(EXIT_OK if phase == "Succeeded" else EXIT_INVALID)
