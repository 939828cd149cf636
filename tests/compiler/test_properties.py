"""Property-based tests: random DAGs compile to the right IR; random garbage never crashes."""

from __future__ import annotations

import hashlib

import networkx as nx
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.contracts import load_catalog
from compiler.diagnostics import render_all
from compiler.frontend import compile_source

CATALOG, _ = load_catalog()
IMAGE = "ghcr.io/kubernaut/actions/echo@sha256:" + hashlib.sha256(b"echo").hexdigest()


@st.composite
def dags(draw: st.DrawFn) -> tuple[int, set[tuple[int, int]], set[tuple[int, int]]]:
    """A random DAG over n steps: declared edges and reference edges, both i -> j with i < j."""
    n = draw(st.integers(min_value=1, max_value=25))
    pairs = [(i, j) for j in range(n) for i in range(j)]
    declared = set(draw(st.lists(st.sampled_from(pairs), max_size=40))) if pairs else set()
    referenced = set(draw(st.lists(st.sampled_from(pairs), max_size=20))) if pairs else set()
    return n, declared, referenced


def workflow_doc(n: int, declared: set[tuple[int, int]], referenced: set[tuple[int, int]]) -> dict:
    steps = []
    for j in range(n):
        inputs: dict[str, object] = {"own": j}
        for i in sorted(i for i, k in referenced if k == j):
            inputs[f"from{i}"] = f"$(steps.s{i}.outputs.own)"
        steps.append({"name": f"s{j}", "actionType": "kubernaut/echo", "image": IMAGE,
                      "runAfter": [f"s{i}" for i in sorted(i for i, k in declared if k == j)],
                      "inputs": inputs})
    return {"apiVersion": "workflowexecution.kubernaut.ai/v1alpha1", "kind": "WorkflowExecution",
            "metadata": {"name": "random"}, "spec": {"steps": steps}}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags())
def test_random_dags_compile_with_declared_plus_implied_edges(dag: tuple[int, set, set]) -> None:
    n, declared, referenced = dag
    result = compile_source("random.yaml", yaml.safe_dump(workflow_doc(n, declared, referenced)).encode(), CATALOG)
    assert result.ok, render_all(result.diagnostics, result.sources)
    (workflow,) = result.workflows
    expected = {(f"s{i}", f"s{j}") for i, j in declared | referenced}
    assert set(workflow.edges) == expected
    for step in workflow.steps:
        assert set(step.dependencies) == {u for u, v in expected if v == step.name}
    graph = nx.DiGraph(list(workflow.edges))
    assert nx.is_directed_acyclic_graph(graph)


@settings(max_examples=40, deadline=None)
@given(dags(), st.data())
def test_adding_a_back_edge_is_always_reported_as_a_cycle(dag: tuple[int, set, set], data: st.DataObject) -> None:
    n, declared, referenced = dag
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(declared | referenced)
    reachable = [(i, j) for i in range(n) for j in nx.descendants(graph, i)]
    if not reachable:
        return
    upstream, downstream = data.draw(st.sampled_from(reachable))
    doc = workflow_doc(n, declared, referenced)
    # Make `upstream` reference `downstream`, closing a cycle through an implied edge.
    doc["spec"]["steps"][upstream]["inputs"]["back"] = f"$(steps.s{downstream}.outputs.own)"
    result = compile_source("cycle.yaml", yaml.safe_dump(doc).encode(), CATALOG)
    assert not result.ok
    assert {d.code for d in result.diagnostics if d.is_error} <= {"KN022", "KN034"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(raw: bytes) -> None:
    result = compile_source("garbage.yaml", raw, CATALOG)
    render_all(result.diagnostics, result.sources)
    assert result.ok or result.diagnostics


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc:-[]{}'\"$()#&*!|>\n  \t0123456789.@/")), max_size=300))
def test_random_yaml_like_text_never_crashes(text: str) -> None:
    result = compile_source("garbage.yaml", text.encode(), CATALOG)
    render_all(result.diagnostics, result.sources)
    for diagnostic in result.diagnostics:
        assert diagnostic.code.startswith("KN")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, st.sampled_from(["spec", "metadata", "steps", "inputs", "when", "runAfter", "retries"]))
def test_random_values_in_any_field_never_crash(value: object, where: str) -> None:
    doc = workflow_doc(2, {(0, 1)}, set())
    targets = {
        "spec": doc, "metadata": doc, "steps": doc["spec"],
        "inputs": doc["spec"]["steps"][0], "when": doc["spec"]["steps"][1],
        "runAfter": doc["spec"]["steps"][1], "retries": doc["spec"]["steps"][0],
    }
    targets[where][where if where != "steps" else "steps"] = value
    result = compile_source("random.yaml", yaml.safe_dump(doc, allow_unicode=True).encode(), CATALOG)
    render_all(result.diagnostics, result.sources)
    assert result.ok or any(d.is_error for d in result.diagnostics)
