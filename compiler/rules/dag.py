"""The declared DAG: runAfter names known steps, no self-dependency, no duplicates, no cycle."""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx

from compiler.diagnostics import Diagnostic, error
from compiler.didyoumean import did_you_mean
from compiler.rules.context import RuleContext


def run_after(ctx: RuleContext) -> Iterator[Diagnostic]:
    for i, step in enumerate(ctx.steps):
        seen: set[str] = set()
        for j, upstream in enumerate(step.runAfter):
            span = ctx.doc.span(ctx.step_path(i, "runAfter", j))
            if upstream == step.name:
                yield error("KN021", f"step '{step.name}' depends on itself", span,
                            "remove it from its own runAfter")
            elif upstream not in ctx.step_index:
                yield error("KN020", f"runAfter names unknown step '{upstream}'", span,
                            did_you_mean(upstream, ctx.step_index) or "runAfter lists names of steps in this workflow")
            elif upstream in seen:
                yield error("KN023", f"runAfter lists '{upstream}' twice", span, "remove the repeated entry")
            seen.add(upstream)


def declared_graph(ctx: RuleContext) -> nx.DiGraph:
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(ctx.step_index)
    for step in ctx.steps:
        for upstream in step.runAfter:
            if upstream in ctx.step_index and upstream != step.name:
                graph.add_edge(upstream, step.name)
    return graph


def declared_acyclic(ctx: RuleContext) -> bool:
    """Whether :func:`declared_graph` has no cycle, by Kahn's algorithm on plain dicts: a valid
    workflow, compiled by the controller for every WorkflowExecution, never needs the networkx
    graph that only locates a cycle (building it was most of this rule's cost)."""
    waiting = dict.fromkeys(ctx.step_index, 0)
    dependents: dict[str, list[str]] = {name: [] for name in ctx.step_index}
    edges: set[tuple[str, str]] = set()
    for step in ctx.steps:
        for upstream in step.runAfter:
            edge = (upstream, step.name)
            if upstream in ctx.step_index and upstream != step.name and edge not in edges:
                edges.add(edge)
                dependents[upstream].append(step.name)
                waiting[step.name] += 1
    ready = [name for name, count in waiting.items() if count == 0]
    done = 0
    while ready:
        done += 1
        for name in dependents[ready.pop()]:
            waiting[name] -= 1
            if waiting[name] == 0:
                ready.append(name)
    return done == len(waiting)


def describe_cycle(nodes: list[str]) -> str:
    return " -> ".join([*nodes, nodes[0]])


def cycle_through(graph: nx.DiGraph, component: set[str]) -> list[str]:
    """One cycle inside a strongly connected component, as a node list in edge order."""
    edges = nx.find_cycle(graph.subgraph(component))
    return [u for u, _v, *_ in edges]


def declared_cycles(ctx: RuleContext) -> Iterator[Diagnostic]:
    if declared_acyclic(ctx):
        return
    graph = declared_graph(ctx)
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2:
            continue
        cycle = cycle_through(graph, component)
        # Report at the runAfter entry that closes the cycle on its first step, in file order.
        order = sorted(cycle, key=ctx.step_index.__getitem__)
        head = order[0]
        position = cycle.index(head)
        upstream = cycle[position - 1]
        i = ctx.step_index[head]
        j = ctx.steps[i].runAfter.index(upstream)
        yield error("KN022", f"dependency cycle: {describe_cycle(cycle[position:] + cycle[:position])}",
                    ctx.doc.span(ctx.step_path(i, "runAfter", j)),
                    "a workflow is a DAG; remove one of the runAfter entries in the cycle")
