"""``kubernaut report``: V1 against V2 from WorkflowExecutions — the rollout's scorecard and gate.

Input: the cluster (every namespace, or ``-n``), or ``-f FILE`` holding what
``kubectl get workflowexecutions -A -o json`` prints (a List; YAML works too). Exit status: 0,
or 1 when ``--max-regression PCT`` is given and V2's success rate is below V1's by more than PCT
percentage points (a CI/CD gate), or when the input cannot be read.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
import yaml

from kubernaut.cli.app import app
from kubernaut.cli.clusterargs import (
    ContextOpt,
    KubeconfigOpt,
    NamespaceOpt,
    check_output,
    fail,
    format_table,
    open_target,
    run_reading,
)
from kubernaut.cli.common import EXIT_INVALID, EXIT_USAGE
from kubernaut.cli.progress import format_duration
from reconciler.clock import parse_rfc3339
from reconciler.engines.registry import known_engines
from reconciler.inspect import EngineStats, Report, build_report, list_workflows, parse_since


def _label(engine: str) -> str:
    """``V1 jobs``: the registry's label, or the bare name of an engine it does not know."""
    info = known_engines().get(engine)
    return info.label if info is not None else engine


def _read_list(path: Path) -> list[dict[str, Any]]:
    """The items of a List (or one object, or a bare array) from a JSON or YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail(f"no such file: {path}", EXIT_USAGE) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{path}: cannot read: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
            raise fail(f"{where}: neither JSON nor YAML: {getattr(exc, 'problem', exc)}") from None
    items = data.get("items") if isinstance(data, dict) and "items" in data else data
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise fail(f"{path}: expected a List of WorkflowExecutions "
                   "(kubectl get workflowexecutions -A -o json)")
    return [i for i in items if i.get("kind") in (None, "WorkflowExecution")]


def _rate(stats: EngineStats) -> str:
    if stats.success_rate is None or stats.success_interval is None:
        return "-"
    low, high = stats.success_interval
    return f"{stats.success_rate * 100:.1f}% [{low * 100:.1f}-{high * 100:.1f}]"


def _seconds(value: float | None) -> str:
    return format_duration(value) if value is not None else "-"


def render(report: Report, since: str | None = None) -> str:
    window = f"last {since}" if since else "all time"
    lines = [f"Rollout report ({window}): {report.considered} workflow(s)"]
    header = ["ENGINE", "TYPE", "TOTAL", "SUCCEEDED", "FAILED", "CANCELLED", "RUNNING", "SUCCESS RATE [95% CI]",
              "MEAN", "P50", "P95"]
    rows = [header]
    for stats in (*report.engines, *report.by_type):
        rows.append([_label(stats.engine), stats.workflow_type or "(all)", str(stats.total),
                     str(stats.succeeded), str(stats.failed), str(stats.cancelled), str(stats.unfinished),
                     _rate(stats), _seconds(stats.mean_seconds), _seconds(stats.p50_seconds),
                     _seconds(stats.p95_seconds)])
    lines += format_table(rows, "  ")
    reasons = [s for s in report.engines if s.failure_reasons]
    if reasons:
        lines.append("Failure reasons:")
        for stats in reasons:
            for reason, count in stats.failure_reasons:
                lines.append(f"  {_label(stats.engine):<9}  {count:>4}  {reason}")
    compared = [c for c in report.per_type if c.interval is not None]
    if compared:
        lines.append("V2 - V1 success rate by workflow type:")
        for c in compared:
            assert c.interval is not None
            i = c.interval
            lines.append(f"  {c.workflow_type}: {i.difference * 100:+.1f} points "
                         f"(95% CI {i.low * 100:+.1f} to {i.high * 100:+.1f})")
    if report.overall.interval is not None:
        lines.append(f"Method: {report.overall.interval.method}; success rate = Succeeded / (Succeeded + Failed); "
                     "times are start to completion of succeeded workflows.")
    lines.extend(f"Note: {n}" for n in report.notes)
    lines.append(f"Verdict: {report.verdict}")
    return "\n".join(lines) + "\n"


@app.command()
def report(
    file: Path | None = typer.Option(None, "-f", "--filename", help="A List of WorkflowExecutions (kubectl get "
                                     "workflowexecutions -A -o json) instead of the cluster.", show_default=False),
    since: str | None = typer.Option(None, "--since", help="Only workflows started within this window: "
                                     "30m, 12h, 7d, 2w (default: all).", show_default=False),
    output: str | None = typer.Option(None, "--output", "-o", help="json: the report as data.",
                                      show_default=False),
    max_regression: float | None = typer.Option(None, "--max-regression", min=0.0, help="Exit 1 when V2's "
                                                "success rate is below V1's by more than PCT percentage points.",
                                                metavar="PCT", show_default=False),
    now: str | None = typer.Option(None, "--now", help="Reference time for --since (RFC 3339; default: now).",
                                   show_default=False),
    namespace: str | None = NamespaceOpt,
    kubeconfig: Path | None = KubeconfigOpt,
    context: str | None = ContextOpt,
) -> None:
    """Compare V1 (jobs) and V2 (tekton): success rate, time to completion, failure reasons, verdict."""
    check_output(output, ("json",))
    try:
        window = parse_since(since) if since is not None else None
        reference = parse_rfc3339(now) if now is not None else datetime.now(UTC)
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    if file is not None:
        if kubeconfig is not None or context is not None:
            raise fail("-f reads a file: it cannot be combined with --kubeconfig or --context", EXIT_USAGE)
        items = _read_list(file)
    else:
        target = open_target(None, kubeconfig, context, namespace, all_namespaces=namespace is None)
        found: list[dict[str, Any]] = []
        try:
            run_reading(lambda: found.extend(list_workflows(target.source, target.namespace)))
        finally:
            target.close()
        items = found
    result = build_report(items, now=reference, since=window, max_regression=max_regression)
    if output == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render(result, since))
    if result.gate_failed:
        raise typer.Exit(EXIT_INVALID)
