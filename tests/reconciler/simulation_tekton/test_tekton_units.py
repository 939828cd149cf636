"""The pieces of the Tekton simulation on their own: variable substitution, the kubelet's
expansion, Go durations, the task graph, names, conditions."""

from __future__ import annotations

import pytest

from reconciler.simulation.tekton.children import pvc_name, taskrun_name
from reconciler.simulation.tekton.conditions import go_duration, parse_go_duration, with_condition
from reconciler.simulation.tekton.dag import GraphError, build_graph
from reconciler.simulation.tekton.facts import PipelineFacts
from reconciler.simulation.tekton.kubelet import expand
from reconciler.simulation.tekton.params import (
    ParamError,
    Replacements,
    param_values,
    result_refs,
    substitute,
    substitute_list,
    task_replacements,
)


def test_substitution_is_one_pass_and_leaves_unknown_variables() -> None:
    repl = Replacements({"params.a": "$(params.b)", "params.b": "B"})
    assert substitute("x $(params.a) $(params.b) $(params.c) $(steps.s.outputs.k)", repl) == \
        "x $(params.b) B $(params.c) $(steps.s.outputs.k)"


def test_params_then_context_resolve_a_param_holding_a_context_variable() -> None:
    params = param_values([{"name": "uid", "type": "string"}], [{"name": "uid", "value": "$(context.pipelineRun.uid)"}])
    context = Replacements({"context.pipelineRun.uid": "u-1"})
    assert substitute(substitute("$(params.uid)", params), context) == "u-1"


def test_arrays_splice_as_whole_elements_and_index() -> None:
    repl = param_values([{"name": "xs", "type": "array"}, {"name": "s", "type": "string", "default": "d"}],
                        [{"name": "xs", "value": ["1", "2"]}])
    assert substitute_list(["--m", "$(params.xs[*])", "$(params.xs[1])", "$(params.s)", 'p$(params["s"])'], repl) == \
        ["--m", "1", "2", "2", "d", "pd"]
    assert substitute_list(["$(params.nothing[*])"], repl) == ["$(params.nothing[*])"]


def test_param_errors_like_tektons_validation() -> None:
    with pytest.raises(ParamError, match="without default: x"):
        param_values([{"name": "x"}], [])
    with pytest.raises(ParamError, match="is an array"):
        param_values([{"name": "x", "type": "array"}], [{"name": "x", "value": "s"}])


def test_result_references_are_found_with_indexes() -> None:
    refs = result_refs(["$(tasks.a.results.outputs)", "x $(tasks.b-2.results.guardValues[3]) $(params.p)",
                        "$(tasks.a.results.outputs)", "$(tasks.c.results.r[*])"])
    assert [(r.task, r.result, r.index) for r in refs] == [
        ("a", "outputs", None), ("b-2", "guardValues", "3"), ("c", "r", "*")]


def test_task_replacements_cover_context_results_and_workspaces() -> None:
    task = {"params": [{"name": "p", "default": "d"}], "results": [{"name": "outputs"}],
            "workspaces": [{"name": "workspace", "mountPath": "/workspace"}, {"name": "other"}]}
    taskrun = {"metadata": {"name": "tr", "namespace": "ns", "uid": "u"},
               "spec": {"taskRef": {"name": "t"}, "params": [],
                        "workspaces": [{"name": "workspace", "persistentVolumeClaim": {"claimName": "pvc-1"}}]}}
    repl = task_replacements(task, taskrun, retry_count=2)
    text = ("$(params.p) $(context.taskRun.name) $(context.task.name) $(context.task.retry-count) "
            "$(results.outputs.path) $(workspaces.workspace.path) $(workspaces.workspace.claim) "
            "[$(workspaces.other.path)] $(workspaces.other.bound)")
    assert substitute(text, repl) == "d tr t 2 /tekton/results/outputs /workspace pvc-1 [] false"


def test_kubelet_expansion() -> None:
    env = {"A": "a", "B": "$(A)"}
    assert expand("$(A)-$(B)-$(C)-$$(A)-$$-$x-$", env) == "a-$(A)-$(C)-$(A)-$-$x-$"
    assert expand("unterminated $(A", env) == "unterminated $(A"


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (0.5, "500ms"), (1.5, "1.5s"), (90, "1m30s"), (120, "2m0s"), (3600, "1h0m0s"), (3725, "1h2m5s")])
def test_go_durations(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text
    assert parse_go_duration(text) == seconds


def test_graph_is_built_from_run_after_and_result_references() -> None:
    graph = build_graph([
        {"name": "a"},
        {"name": "b", "params": [{"name": "x", "value": ["$(tasks.a.results.outputs)"]}]},
        {"name": "c", "runAfter": ["b"], "when": [{"input": "$(tasks.a.results.g[0])", "operator": "in",
                                                    "values": ["1"]}]},
    ])
    assert graph.parents == {"a": (), "b": ("a",), "c": ("a", "b")}
    assert graph.candidates({"a"}.__contains__) == ["b"]
    with pytest.raises(GraphError, match="depends on z but z wasn't present"):
        build_graph([{"name": "a", "runAfter": ["z"]}])
    with pytest.raises(GraphError, match="cycle detected: a -> b -> a"):
        build_graph([{"name": "a", "runAfter": ["b"]}, {"name": "b", "runAfter": ["a"]}])


def test_names_follow_kmeta_and_the_pvc_handler() -> None:
    long_run = "r" * 60
    name = taskrun_name({"metadata": {"name": long_run}, "status": {}}, "step")
    assert len(name) == 63 and name.endswith("-step")
    recorded = {"metadata": {"name": "pr"}, "status": {"childReferences": [
        {"kind": "TaskRun", "name": "custom", "pipelineTaskName": "t"}]}}
    assert taskrun_name(recorded, "t") == "custom"
    binding = {"name": "workspace", "volumeClaimTemplate": {"spec": {}}}
    assert pvc_name(binding, "uid-1") == pvc_name(binding, "uid-1") != pvc_name(binding, "uid-2")
    assert pvc_name(binding, "uid-1").startswith("pvc-")


def test_condition_transition_time_moves_only_on_change() -> None:
    first = with_condition({}, "Unknown", "Running", "m", "t1")
    same = with_condition({"conditions": first}, "Unknown", "Running", "m", "t2")
    changed = with_condition({"conditions": same}, "True", "Succeeded", "m", "t3")
    assert [c["lastTransitionTime"] for c in (first[0], same[0], changed[0])] == ["t1", "t1", "t3"]


def test_long_chains_need_no_deep_recursion() -> None:
    tasks = [{"name": "t0"}] + [{"name": f"t{i}", "runAfter": [f"t{i - 1}"]} for i in range(1, 5000)]
    graph = build_graph(tasks)
    assert graph.topological[:3] == ("t0", "t1", "t2")
    facts = PipelineFacts(tasks, {}, graph)
    assert facts.skip("t4999") is None
    assert facts.execution_queue() == ["t0"]
    with pytest.raises(GraphError, match="cycle detected: a -> b -> c -> a"):
        build_graph([{"name": "a", "runAfter": ["b"]}, {"name": "b", "runAfter": ["c"]},
                     {"name": "c", "runAfter": ["a"]}])
