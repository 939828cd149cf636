"""The DAG rules' fast path (issue 13): a workflow without a declared cycle, or whose steps read no
outputs, is checked without building a networkx graph — with the same diagnostics as before."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import networkx as nx
import pytest

import compiler.rules.dag
import compiler.rules.references
from compiler.contracts import load_catalog
from compiler.frontend import compile_source
from compiler.rules.context import RuleContext
from compiler.rules.dag import declared_acyclic

CATALOG = load_catalog()[0]
IMAGE = "ghcr.io/kubernaut/actions/echo@sha256:" + "a" * 64
NAMES = ("a", "b", "c", "d")


def _document(steps: list[tuple[str, list[str], str]]) -> bytes:
    lines = ["apiVersion: workflowexecution.kubernaut.ai/v1alpha1", "kind: WorkflowExecution",
             "metadata:", "  name: wf", "spec:", "  steps:"]
    for name, after, inputs in steps:
        lines += [f"    - name: {name}", "      actionType: kubernaut/echo", f"      image: {IMAGE}",
                  f"      runAfter: [{', '.join(after)}]"]
        if inputs:
            lines.append(f"      inputs: {inputs}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def graphs_built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    built: list[int] = []
    original = compiler.rules.dag.declared_graph

    def counted(ctx: RuleContext) -> Any:
        built.append(1)
        return original(ctx)

    monkeypatch.setattr(compiler.rules.dag, "declared_graph", counted)
    monkeypatch.setattr(compiler.rules.references, "declared_graph", counted)
    return built


def test_a_valid_workflow_builds_no_graph(graphs_built: list[int]) -> None:
    result = compile_source("wf.yaml", _document([("a", [], ""), ("b", ["a"], ""), ("c", ["a", "b"], "")]), CATALOG)
    assert result.ok
    assert graphs_built == []


def test_cycles_are_still_found_and_located(graphs_built: list[int]) -> None:
    declared = compile_source("wf.yaml", _document([("a", ["b"], ""), ("b", ["a"], "")]), CATALOG)
    assert [(d.code, d.message) for d in declared.diagnostics if d.is_error] == [
        ("KN022", "dependency cycle: a -> b -> a")]
    implied = compile_source("wf.yaml", _document([("a", [], "{x: '$(steps.b.outputs.x)'}"), ("b", ["a"], "")]),
                             CATALOG)
    assert "KN034" in [d.code for d in implied.diagnostics if d.is_error]
    assert graphs_built  # the slow path, for the workflows that need it


def _context(edges: dict[str, list[str]]) -> Any:
    steps = [SimpleNamespace(name=name, runAfter=after) for name, after in edges.items()]
    return SimpleNamespace(steps=steps, step_index={name: i for i, name in enumerate(edges)})


def test_declared_acyclic_agrees_with_networkx_on_every_small_graph() -> None:
    pairs = [(u, v) for u in NAMES for v in NAMES]  # self-loops too: the rule ignores them
    for chosen in itertools.product((False, True), repeat=len(pairs)):
        if sum(chosen) > 6:
            continue  # dense graphs are all cyclic; the sparse ones are the interesting ones
        edges: dict[str, list[str]] = {name: [] for name in NAMES}
        for (upstream, name), on in zip(pairs, chosen, strict=True):
            if on:
                edges[name].append(upstream)
        edges["d"].extend(["nope", "a"])  # an unknown name and a repeat, as a bad spec may hold
        ctx = _context(edges)
        assert declared_acyclic(ctx) == nx.is_directed_acyclic_graph(compiler.rules.dag.declared_graph(ctx))
