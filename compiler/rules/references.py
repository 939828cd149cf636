"""References: known steps and outputs, workspace use, and cycles created by implied edges."""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx

from compiler.diagnostics import Diagnostic, error
from compiler.didyoumean import did_you_mean
from compiler.rules.context import RuleContext
from compiler.rules.dag import declared_graph, describe_cycle


def known_outputs(ctx: RuleContext, step_name: str) -> list[str] | None:
    """Output names of a step per its contract, or None when they are unknown."""
    index = ctx.step_index.get(step_name)
    if index is None:
        return None
    step = ctx.steps[index]
    contract = ctx.contract(step)
    return contract.output_names(step.inputs) if contract else None


def known_references(ctx: RuleContext) -> Iterator[Diagnostic]:
    for i, step in enumerate(ctx.steps):
        for located in ctx.analysis.steps[i].refs:
            ref = located.ref
            if ref.kind == "workspace" and not step.usesWorkspace:
                yield error("KN036", f"step '{step.name}' uses $(workspace.path) but not the workspace",
                            located.span, "set 'usesWorkspace: true' on the step")
            if ref.kind != "step" or ref.step is None:
                continue
            if ref.step == step.name:
                yield error("KN021", f"step '{step.name}' references its own output '{ref.key}'", located.span,
                            "a step can only read outputs of steps that ran before it")
            elif ref.step not in ctx.step_index:
                yield error("KN032", f"reference to unknown step '{ref.step}'", located.span,
                            did_you_mean(ref.step, ctx.step_index) or "reference a step of this workflow")
            else:
                outputs = known_outputs(ctx, ref.step)
                if outputs is not None and ref.key not in outputs:
                    listed = ", ".join(outputs) or "none"
                    yield error("KN033", f"step '{ref.step}' has no output '{ref.key}' (its outputs: {listed})",
                                located.span, did_you_mean(ref.key, outputs))


def implied_cycles(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Add implied edges in file order; report the reference that would close a cycle."""
    implied = [(step.name, located) for i, step in enumerate(ctx.steps) for located in ctx.analysis.steps[i].refs
               if located.ref.kind == "step" and located.ref.step is not None and located.ref.step != step.name
               and located.ref.step in ctx.step_index]
    if not implied:
        return  # no step reads another's outputs: no edge to add, no graph to build
    graph = declared_graph(ctx)
    if not nx.is_directed_acyclic_graph(graph):
        return  # declared cycles are reported on their own; do not pile up follow-on errors
    for name, located in implied:
        upstream = located.ref.step
        assert upstream is not None  # filtered above
        if graph.has_edge(upstream, name):
            continue
        if nx.has_path(graph, name, upstream):
            path = nx.shortest_path(graph, name, upstream)
            yield error("KN034", f"reference to '{upstream}' creates a dependency cycle: "
                        f"{describe_cycle(path)}", located.span,
                        f"'{upstream}' already runs after '{name}'; pass the value the other way")
            continue
        graph.add_edge(upstream, name)
