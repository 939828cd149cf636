"""Data passing end to end: the emitted Tekton manifests, run through the meta-Task's runtime,
give every step exactly the inputs (and every guard exactly the outcome) the V1 resolver gives.

``simulate`` plays Tekton's part from the manifests alone: it substitutes params and result
references the way Tekton does (one pass, no re-expansion), evaluates ``when`` expressions, skips
consumers of skipped tasks, and runs ``resolve-inputs`` / ``publish-outputs`` through
``targets.tekton.runtime``. The V1 side calls ``compiler.expressions`` directly, as the V1
controller does.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import ir
from compiler.expressions import JSON, Context, ResolutionError, evaluate_guard, parse_guard, resolve_inputs
from targets.tekton import pipeline_manifests, runtime
from targets.tekton.dataflow import plan_dataflow

ECHO = "ghcr.io/kubernaut/actions/echo@sha256:092c79e8f80e559e404bcf660c48f3522b67aba9ff1484b0367e1a4ddef7431d"
COMMIT = "ghcr.io/kubernaut/actions/git-commit@sha256:1d3fdcc8de59ab432467d703a1bba24b3af933c5e20e580c6ce42d75dc22704d"
# The PipelineRun's context (the namespace only matters for workflows that name none).
IDENTITY = runtime.WorkflowIdentity("run-name", "run-namespace", "0b5e-uid")
TRICKY: list[JSON] = ["abc", "$(echo hi)", "$$(x) $(", "", "ünïcödé\nline2\t\"q\"", 3, 0, -2.5, True, False, None,
                      {"a": [1, "$(steps.x.outputs.y)"], "b": {}}, [], ["x", 1, None]]
OutputsFn = Callable[[str, JSON], dict[str, JSON]]
_VARIABLE = re.compile(r"\$\((params\.[A-Za-z]+|context\.pipelineRun\.(?:uid|namespace)"
                       r"|tasks\.[-a-z0-9]+\.results\.(?:outputs|guardValues\[\d+\]))\)")


def _substitute(text: str, values: Mapping[str, str]) -> str:
    # Tekton replaces all variables of one pass at once (strings.Replacer): no re-expansion.
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _task_values(params: Mapping[str, str], results: Mapping[str, tuple[str, list[str]]]) -> dict[str, str]:
    values = {f"params.{k}": v for k, v in params.items()}
    for task, (outputs, guards) in results.items():
        values[f"tasks.{task}.results.outputs"] = outputs
        values.update({f"tasks.{task}.results.guardValues[{i}]": g for i, g in enumerate(guards)})
    return values


def simulate(docs: list[dict[str, Any]], outputs_of: OutputsFn) -> dict[str, Any]:
    """Run the Pipeline; returns step -> resolved inputs, or "skipped"."""
    pipeline, run = docs[-2:]  # after the meta-Task and any generated Tasks
    context = {"context.pipelineRun.uid": IDENTITY.uid, "context.pipelineRun.namespace": IDENTITY.namespace}
    params = {p["name"]: _substitute(p["value"], context) for p in run["spec"]["params"]}
    results: dict[str, tuple[str, list[str]]] = {}
    seen: dict[str, Any] = {}
    pending = list(pipeline["spec"]["tasks"])
    while pending:
        for task in pending:
            text = json.dumps(task)
            needs = set(task.get("runAfter", [])) | set(re.findall(r"\$\(tasks\.([-a-z0-9]+)\.", text))
            if needs <= set(seen):
                break
        else:
            raise AssertionError("the pipeline has a cycle")
        pending.remove(task)
        name = task["name"]
        referenced = set(re.findall(r"\$\(tasks\.([-a-z0-9]+)\.", text))
        if any(seen[s] == "skipped" for s in referenced):
            seen[name] = "skipped"  # Tekton: a task consuming results of a skipped task is skipped
            continue
        values = _task_values(params, results)
        skip = False
        for when in task.get("when", []):
            left = _substitute(when["input"], values)
            holds = left in [_substitute(v, values) for v in when["values"]]
            skip |= not holds if when["operator"] == "in" else holds
        if skip:
            seen[name] = "skipped"
            continue
        args: dict[str, Any] = {}
        for p in task["params"]:
            value = p["value"]
            args[p["name"]] = ([_substitute(v, values) for v in value] if isinstance(value, list)
                               else _substitute(value, values))
        upstream = runtime.upstream_results(args.get("upstreamSteps", []), args.get("upstreamOutputs", []))
        identity = runtime.WorkflowIdentity(args["workflowName"], args["workflowNamespace"], args["workflowUid"])
        resolved = runtime.resolve_step_inputs(args["inputs"], upstream, identity)
        seen[name] = resolved
        printed = json.dumps(outputs_of(name, resolved), ensure_ascii=False, indent=1)
        results[name] = runtime.publish(printed, args.get("guardKeys", []), name, args.get("requiredOutputs", []))
    return seen


def v1_run(wf: ir.Workflow, outputs_of: OutputsFn) -> dict[str, Any]:
    """What the V1 controller computes, with the same outputs."""
    outputs: dict[str, dict[str, JSON]] = {}
    skipped: set[str] = set()
    seen: dict[str, Any] = {}
    for step in _topological(wf):
        ctx = Context(outputs=outputs, workflow_name=wf.name, workflow_namespace=wf.namespace or IDENTITY.namespace,
                      workflow_uid=IDENTITY.uid, skipped=frozenset(skipped))
        try:
            holds = all(evaluate_guard(parse_guard(g.source), ctx) for g in step.guards)
            resolved = resolve_inputs(step.inputs, ctx) if holds else None
        except ResolutionError as exc:
            assert exc.skipped_step is not None, exc.message
            holds = False
        if not holds:
            skipped.add(step.name)
            seen[step.name] = "skipped"
            continue
        seen[step.name] = resolved
        outputs[step.name] = outputs_of(step.name, resolved)
    return seen


def _topological(wf: ir.Workflow) -> list[ir.Step]:
    done: list[ir.Step] = []
    while len(done) < len(wf.steps):
        for step in wf.steps:
            if step not in done and set(step.dependencies) <= {s.name for s in done}:
                done.append(step)
                break
    return done


def fake_outputs(wf: ir.Workflow, table: list[JSON]) -> OutputsFn:
    """Echo the inputs, plus a value from ``table`` (if any) for every key a consumer reads."""
    flows = plan_dataflow(wf)

    def outputs_of(step: str, resolved: JSON) -> dict[str, JSON]:
        out: dict[str, JSON] = dict(resolved) if isinstance(resolved, dict) else {}
        for key in flows[step].read_keys if table else ():
            digest = int(hashlib.sha256(f"{step}/{key}".encode()).hexdigest(), 16)
            out[key] = table[digest % len(table)]
        return out

    return outputs_of


def test_every_corpus_workflow_resolves_like_v1(corpus_workflow: ir.Workflow) -> None:
    outputs_of = fake_outputs(corpus_workflow, TRICKY)
    assert simulate(pipeline_manifests(corpus_workflow), outputs_of) == v1_run(corpus_workflow, outputs_of)


def test_typed_and_interpolated_references(lower: Callable[..., ir.Workflow]) -> None:
    wf = lower(f"""
    - name: produce
      actionType: kubernaut/echo
      image: {ECHO}
      inputs: {{replicas: 3, enabled: true, labels: {{team: pay}}, note: "$$(date)", nothing: null}}
    - name: consume
      actionType: kubernaut/echo
      image: {ECHO}
      usesWorkspace: true
      inputs:
        count: $(steps.produce.outputs.replicas)
        labels: $(steps.produce.outputs.labels)
        text: "n=$(steps.produce.outputs.replicas) l=$(steps.produce.outputs.labels) e=$(steps.produce.outputs.enabled)"
        note: $(steps.produce.outputs.note)
        nothing: "[$(steps.produce.outputs.nothing)]"
        where: "$(workspace.path)/x in $(workflow.namespace)/$(workflow.name) ($(workflow.uid))"
    """)
    seen = simulate(pipeline_manifests(wf), fake_outputs(wf, []))
    assert seen["consume"] == {
        "count": 3, "labels": {"team": "pay"}, "text": 'n=3 l={"team":"pay"} e=true', "note": "$(date)",
        "nothing": "[null]", "where": "/workspace/x in ns/wf (0b5e-uid)",
    }
    assert seen == v1_run(wf, fake_outputs(wf, []))


def test_escaped_dollar_in_a_commit_message_arrives_intact(lower: Callable[..., ir.Workflow]) -> None:
    wf = lower(f"""
    - name: commit
      actionType: git/commit
      image: {COMMIT}
      usesWorkspace: true
      inputs: {{message: "fix: run $$(echo hi) and pay $$5 $$$$(x)"}}
    """)
    docs = pipeline_manifests(wf)
    param = next(p["value"] for p in docs[1]["spec"]["tasks"][0]["params"] if p["name"] == "inputs")
    assert "$" not in param
    resolved = runtime.resolve_step_inputs(param, {}, IDENTITY)
    assert resolved == {"message": "fix: run $(echo hi) and pay $$5 $$$(x)"}  # "$$$$(" is "$$" + "$$("
    assert resolved == resolve_inputs(wf.steps[0].inputs, Context({}, "a", "b", "c"))


def test_skipped_producer_skips_its_consumers_only(lower: Callable[..., ir.Workflow]) -> None:
    wf = lower(f"""
    - name: gate
      actionType: kubernaut/echo
      image: {ECHO}
      inputs: {{go: false}}
    - name: guarded
      actionType: kubernaut/echo
      image: {ECHO}
      when: ["$(steps.gate.outputs.go) == true"]
      inputs: {{x: 1}}
    - name: reads-guarded
      actionType: kubernaut/echo
      image: {ECHO}
      inputs: {{y: $(steps.guarded.outputs.x)}}
    - name: after-guarded
      actionType: kubernaut/echo
      image: {ECHO}
      runAfter: [guarded]
      inputs: {{z: 2}}
    - name: guard-on-skipped
      actionType: kubernaut/echo
      image: {ECHO}
      when: ["$(steps.guarded.outputs.x) != 'never'"]
      inputs: {{w: 3}}
    """)
    echo = fake_outputs(wf, [False])
    seen = simulate(pipeline_manifests(wf), echo)
    assert seen == v1_run(wf, echo)
    assert [s for s, v in seen.items() if v == "skipped"] == ["guarded", "reads-guarded", "guard-on-skipped"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(table=st.lists(JSON_VALUES, min_size=1, max_size=5))
def test_any_outputs_resolve_like_v1(table: list[JSON], lower: Callable[..., ir.Workflow]) -> None:
    wf = lower(f"""
    - name: a
      actionType: kubernaut/echo
      image: {ECHO}
      inputs: {{k1: 0, k2: 0, k3: 0}}
    - name: b
      actionType: kubernaut/echo
      image: {ECHO}
      when: ["$(steps.a.outputs.k1) notin ['x', 1, true, null]"]
      inputs: {{whole: $(steps.a.outputs.k2), text: "<$(steps.a.outputs.k2)|$(steps.a.outputs.k1)>"}}
    - name: c
      actionType: kubernaut/echo
      image: {ECHO}
      inputs: {{from-b: "$(steps.b.outputs.whole)", k3: $(steps.a.outputs.k3)}}
    """)
    outputs_of = fake_outputs(wf, table)
    expected = v1_run(wf, outputs_of)
    try:
        seen = simulate(pipeline_manifests(wf), outputs_of)
    except runtime.TaskError as exc:  # V1 fails such a step too: the outputs exceed 4096 bytes
        assert "4096" in exc.message
        return
    assert seen == expected


def _step(name: str, inputs: dict[str, JSON] | None = None, refs: tuple[tuple[str, str], ...] = (),
          guards: tuple[tuple[str, str], ...] = (), after: tuple[str, ...] = ()) -> ir.Step:
    return ir.Step(
        name=name, action_type="a", image="i", inputs=inputs or {},
        references=tuple(ir.Ref(kind="step", step=s, key=k) for s, k in refs),
        guards=tuple(ir.Guard(source=f"$(steps.{s}.outputs.{k}) == 1", left_ref=ir.Ref(kind="step", step=s, key=k),
                              op="==", values=(1,)) for s, k in guards),
        run_after=after, dependencies=tuple(dict.fromkeys([*after, *(s for s, _ in refs + guards)])))


def test_consumed_outputs_are_the_keys_later_steps_read_in_order_of_first_use() -> None:
    wf = ir.Workflow(name="w", steps=(
        _step("p"), _step("q"),
        _step("c1", refs=(("p", "b"), ("q", "x"), ("p", "a")), guards=(("p", "g"), ("p", "b"))),
        _step("c2", refs=(("p", "z"),), guards=(("q", "y"),)),
        _step("c3", after=("p",)),  # ordering only: reads nothing
    ))
    assert wf.consumed_outputs("p") == ("b", "a", "g", "z")  # c1's inputs, c1's guards, then c2
    assert wf.consumed_outputs("q") == ("x", "y")
    assert wf.consumed_outputs("c1") == wf.consumed_outputs("c3") == ()
    assert wf.consumed_outputs_by_step() == {"p": ("b", "a", "g", "z"), "q": ("x", "y"), "c1": (), "c2": (), "c3": ()}
    # The Pipeline requires exactly these keys of each producer (V1 writes them on the
    # ActionExecution): guard keys among them, in the same order on both engines.
    flows = plan_dataflow(wf)
    assert {name: flow.read_keys for name, flow in flows.items()} == wf.consumed_outputs_by_step()
    tasks = {t["name"]: t for t in pipeline_manifests(wf)[1]["spec"]["tasks"]}
    required: dict[str, list[str]] = {
        name: next((p["value"] for p in task["params"] if p["name"] == "requiredOutputs"), [])
        for name, task in tasks.items()}
    assert required == {"p": ["b", "a", "g", "z"], "q": ["x", "y"], "c1": [], "c2": [], "c3": []}
