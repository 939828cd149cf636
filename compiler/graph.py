"""Render a workflow's DAG as text, Mermaid or Graphviz dot (deterministic)."""

from __future__ import annotations

import json

from compiler import ir


def _label(step: ir.Step) -> str:
    return f"{step.name}\n{step.action_type}"


def to_text(workflow: ir.Workflow) -> str:
    lines = [f"workflow {workflow.name} ({len(workflow.steps)} steps)"]
    for step in workflow.steps:
        after = ", ".join(step.dependencies) if step.dependencies else "-"
        extras = []
        if step.uses_workspace:
            extras.append("workspace")
        if step.guards:
            extras.append("when: " + " && ".join(g.source for g in step.guards))
        suffix = f"  [{'; '.join(extras)}]" if extras else ""
        lines.append(f"  {step.name} ({step.action_type}) after: {after}{suffix}")
    return "\n".join(lines) + "\n"


def _mermaid_id(name: str) -> str:
    return "s_" + name.replace("-", "_")


def to_mermaid(workflow: ir.Workflow) -> str:
    lines = ["flowchart TD"]
    for step in workflow.steps:
        label = f"{step.name}<br/>{step.action_type}".replace('"', "#quot;")
        lines.append(f'  {_mermaid_id(step.name)}["{label}"]')
    for upstream, downstream in workflow.edges:
        lines.append(f"  {_mermaid_id(upstream)} --> {_mermaid_id(downstream)}")
    return "\n".join(lines) + "\n"


def to_dot(workflow: ir.Workflow) -> str:
    lines = [f"digraph {json.dumps(workflow.name)} {{", "  rankdir=TB;", "  node [shape=box];"]
    for step in workflow.steps:
        lines.append(f"  {json.dumps(step.name)} [label={json.dumps(_label(step))}];")
    for upstream, downstream in workflow.edges:
        lines.append(f"  {json.dumps(upstream)} -> {json.dumps(downstream)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


RENDERERS = {"text": to_text, "mermaid": to_mermaid, "dot": to_dot}
