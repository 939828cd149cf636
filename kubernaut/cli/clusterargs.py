"""What the cluster-facing commands share: connection options like kubectl's, ``--state FILE``
as an alternative source, namespace resolution, and kubectl-style ages.

Exit statuses follow the other commands: 1 for an unknown object or an unreadable state file
or cluster (the request could not be answered), 2 for contradictory options.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
import yaml
from kubernetes import config as kube_config

from kubernaut.cli.common import EXIT_INVALID, EXIT_USAGE
from reconciler.cluster import ApiError
from reconciler.cluster.kube import KubeCluster
from reconciler.inspect import InspectError, ReadSource, StateError, list_workflows, load_state
from reconciler.service import in_cluster

__all__ = [
    "AllNamespacesOpt",
    "ContextOpt",
    "KubeconfigOpt",
    "NamespaceOpt",
    "OutputOpt",
    "StateOpt",
    "Target",
    "check_output",
    "connect",
    "fail",
    "format_table",
    "human_age",
    "open_target",
    "print_objects",
    "run_reading",
]

KubeconfigOpt = typer.Option(None, "--kubeconfig", help="Kubeconfig file (default: in-cluster, else "
                             "$KUBECONFIG or ~/.kube/config).", show_default=False)
ContextOpt = typer.Option(None, "--context", help="Kubeconfig context (default: its current context).",
                          show_default=False)
NamespaceOpt = typer.Option(None, "-n", "--namespace", help="Namespace (default: the context's, else "
                            "'default'; with --state: any namespace of the file).", show_default=False)
AllNamespacesOpt = typer.Option(False, "-A", "--all-namespaces", help="Every namespace.")
StateOpt = typer.Option(None, "--state", help="Read a state file written by 'kubernaut run --save-state' "
                        "instead of a cluster.", show_default=False)
OutputOpt = typer.Option(None, "-o", "--output", help="json or yaml: the objects themselves.", show_default=False)


def fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    sys.stderr.write(f"kubernaut: {message}\n")
    return typer.Exit(code)


def connect(kubeconfig: Path | None, context: str | None) -> KubeCluster:
    """A KubeCluster from the pod's service account or a kubeconfig, like kubectl picks one."""
    try:
        if kubeconfig is None and context is None and in_cluster():
            return KubeCluster.from_in_cluster()
        return KubeCluster.from_kubeconfig(str(kubeconfig) if kubeconfig else None, context)
    except Exception as exc:  # the kubernetes client raises several types for bad configs
        raise fail(f"cannot connect: {exc}") from None


def _context_namespace(kubeconfig: Path | None, context: str | None) -> str:
    """The namespace of the kubeconfig context (``kubectl config set-context --namespace``)."""
    if kubeconfig is None and context is None and in_cluster():
        path = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
        return path.read_text().strip() if path.is_file() else "default"
    file = str(kubeconfig) if kubeconfig else os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    try:
        contexts, current = kube_config.list_kube_config_contexts(file)
    except Exception:  # unreadable here means connect() reports it
        return "default"
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else current
    return str(((chosen or {}).get("context") or {}).get("namespace") or "default")


@dataclass
class Target:
    """Where a command reads from: a cluster (``cluster`` set) or a state file."""

    source: ReadSource
    now: datetime
    namespace: str | None  # None: any namespace (a state file, or -A)
    cluster: KubeCluster | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in self.closers:
            close()

    def resolve(self, name: str) -> str:
        """The namespace of workflow ``name``: the chosen one, or the only one holding it."""
        if self.namespace is not None:
            return self.namespace
        found = sorted({str(w["metadata"].get("namespace")) for w in list_workflows(self.source, None)
                        if w["metadata"].get("name") == name})
        if not found:
            raise InspectError(f'workflowexecution "{name}" not found')
        if len(found) > 1:
            raise InspectError(f'workflowexecution "{name}" exists in namespaces {", ".join(found)}: '
                               "choose one with -n")
        return found[0]


def open_target(state: Path | None, kubeconfig: Path | None, context: str | None, namespace: str | None,
                all_namespaces: bool = False) -> Target:
    """The source the options name; exits with a message when it cannot be opened."""
    if state is not None:
        if kubeconfig is not None or context is not None:
            raise fail("--state reads a file: it cannot be combined with --kubeconfig or --context", EXIT_USAGE)
        try:
            saved = load_state(state)
        except StateError as exc:
            raise fail(str(exc)) from None
        return Target(saved, saved.saved_at or datetime.now(UTC), None if all_namespaces else namespace)
    cluster = connect(kubeconfig, context)
    chosen = None if all_namespaces else (namespace or _context_namespace(kubeconfig, context))
    return Target(cluster, datetime.now(UTC), chosen, cluster, [cluster.close])


def run_reading(action: Callable[[], None]) -> None:
    """Run a command body, turning inspection and API errors into a message and exit 1."""
    try:
        action()
    except InspectError as exc:
        raise fail(exc.message) from None
    except ApiError as exc:
        raise fail(f"API error: {exc}") from None


def human_age(seconds: float | None) -> str:
    """kubectl's ``HumanDuration``: 45s, 3m20s, 45m, 3h25m, 30h, 4d5h, 30d, 2y30d."""
    if seconds is None:
        return "<unknown>"
    s = int(seconds)
    if s < 0:
        return "<invalid>"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    d = h // 24
    if d < 8:
        return f"{d}d{h % 24}h" if h % 24 else f"{d}d"
    if d < 730:
        return f"{d}d"
    y = d // 365
    return f"{y}y{d % 365}d" if y < 8 and d % 365 else f"{y}y"


def format_table(rows: Sequence[Sequence[str]], indent: str = "") -> list[str]:
    """kubectl's layout: left-aligned columns three spaces apart, the last one unpadded, no
    trailing blanks."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return [(indent + "   ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]])).rstrip()
            for r in rows]


def print_objects(value: Any, output: str) -> None:
    """``-o json`` / ``-o yaml`` of an object or a List, deterministic."""
    if output == "json":
        sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False))


def check_output(output: str | None, allowed: tuple[str, ...] = ("json", "yaml")) -> None:
    if output is not None and output not in allowed:
        raise fail(f"-o/--output must be one of {', '.join(allowed)}, not '{output}'", EXIT_USAGE)
