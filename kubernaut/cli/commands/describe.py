"""``kubernaut describe NAME``: a workflow's steps, the objects behind them, and recent Events."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from kubernaut.cli.app import app
from kubernaut.cli.clusterargs import (
    ContextOpt,
    KubeconfigOpt,
    NamespaceOpt,
    StateOpt,
    format_table,
    human_age,
    open_target,
    run_reading,
)
from kubernaut.cli.progress import format_duration
from reconciler.inspect import Description, EngineObject, describe_workflow
from reconciler.inspect.summary import seconds_between

_OUTPUT_WIDTH = 160


def _compact(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _OUTPUT_WIDTH else text[: _OUTPUT_WIDTH - 3] + "..."


def _failure(value: Any) -> str:
    """``reason: message (exit code 1, retryable)`` for the failure-details shape, else JSON."""
    if not isinstance(value, dict) or not value.get("reason"):
        return _compact(value)
    extras = []
    for key, item in sorted(value.items()):
        if key in ("reason", "message", "step"):
            continue
        if key == "exitCode":
            extras.append(f"exit code {item}")
        elif item is True:
            extras.append(key)
        elif item not in (False, None, "", [], {}):
            extras.append(f"{key} {_compact(item) if isinstance(item, (dict, list)) else item}")
    text = str(value["reason"])
    if value.get("step"):
        text += f" in step {value['step']}"
    if value.get("message"):
        text += f": {value['message']}"
    return text + (f" ({', '.join(extras)})" if extras else "")


def _objects(objects: tuple[EngineObject, ...], indent: str) -> list[str]:
    lines = []
    for obj in objects:
        lines.append(f"{indent}{obj.kind}/{obj.name}" + (f"  {obj.state}" if obj.state else ""))
        lines.extend(_objects(obj.children, indent + "  "))
    return lines


def _field(label: str, value: str, width: int = 17) -> str:
    return f"{label + ':':<{width}}{value}".rstrip()


def render(d: Description, now: datetime) -> str:
    lines = [
        _field("Name", d.name), _field("Namespace", d.namespace),
        _field("Workflow type", d.workflow_type or "<none>"), _field("Engine", d.engine or "<not chosen yet>"),
        _field("Phase", d.phase), _field("Created", d.created or ""), _field("Started", d.start or ""),
        _field("Completed", d.completion or ""), _field("Duration", format_duration(d.duration_seconds)),
    ]
    if d.message:
        lines.append(_field("Message", d.message))
    if d.failure_details is not None:
        lines.append(_field("Failure", _failure(d.failure_details)))
    if d.diagnostics:
        lines.append("Diagnostics:")
        lines.extend(f"  {line}" for line in d.diagnostics)
    if d.conditions:
        lines.append("Conditions:")
        rows = [["TYPE", "STATUS", "REASON", "MESSAGE"]] + [
            [str(c.get("type")), str(c.get("status")), str(c.get("reason") or ""), str(c.get("message") or "")]
            for c in d.conditions]
        lines.extend(format_table(rows, "  "))
    lines.append("Steps:")
    for step in d.steps:
        lines.append(f"  {step.name}:")
        lines.append(_field("    Phase", step.phase, 18))
        lines.append(_field("    Attempts", str(step.attempts), 18))
        if step.start:
            lines.append(_field("    Started", step.start, 18))
            lines.append(_field("    Duration", format_duration(step.duration_seconds), 18))
        if step.outputs:
            lines.append(_field("    Outputs", _compact(step.outputs), 18))
        if step.failure is not None:
            lines.append(_field("    Failure", _failure(step.failure), 18))
        if step.message:
            lines.append(_field("    Message", step.message, 18))
        if step.objects:
            lines.append("    Objects:")
            lines.extend(_objects(step.objects, "      "))
    lines.append("Events:" if d.events else _field("Events", "<none>"))
    if d.events:
        rows = [["TYPE", "REASON", "AGE", "OBJECT", "MESSAGE"]]
        for e in d.events:
            age = human_age(seconds_between(e.last, now))
            if e.count > 1:
                age += f" (x{e.count} over {human_age(seconds_between(e.first, now))})"
            rows.append([e.type, e.reason, age, e.object, e.message])
        lines.extend(format_table(rows, "  "))
    return "\n".join(lines) + "\n"


@app.command()
def describe(
    name: str = typer.Argument(..., help="The WorkflowExecution.", show_default=False),
    namespace: str | None = NamespaceOpt,
    state: Path | None = StateOpt,
    kubeconfig: Path | None = KubeconfigOpt,
    context: str | None = ContextOpt,
) -> None:
    """Show a workflow's steps, the engine objects behind each step, and recent Events.

    Steps with phase, attempts, durations, outputs and failure reasons; ActionExecution/Job/Pod
    (V1) or TaskRun/Pod (V2) per attempt.
    """
    target = open_target(state, kubeconfig, context, namespace)

    def body() -> None:
        description = describe_workflow(target.source, name, target.resolve(name), target.now)
        sys.stdout.write(render(description, target.now))

    try:
        run_reading(body)
    finally:
        target.close()


__all__ = ["describe", "render"]
