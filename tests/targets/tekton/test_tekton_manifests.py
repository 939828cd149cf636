"""The tekton target over the corpus (golden cases and examples): Tekton accepts every object,
and every workflow property reaches the manifests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from support.pss import check_restricted, tekton_pod_specs
from support.tekton_schema import validate_tekton

from compiler import ir
from compiler.expressions import to_text
from compiler.values import parse_duration
from targets.common.accounts import action_service_account
from targets.common.interfaces import mounts_of
from targets.common.rbac import rbac_for
from targets.tekton import DEFAULT_HELPER_IMAGE, TektonOptions, compile_workflow, pipeline_manifests
from targets.tekton.inputs_param import decode_inputs_param

# The only `$(` kubernaut emits: Tekton variables of these forms (anything else would be a user
# value or a kubernaut reference reaching Tekton unencoded).
TEKTON_VARIABLES = re.compile(
    r"\$\((?:params\.[A-Za-z]+(?:\[\*\])?"
    r"|tasks\.[a-z0-9-]+\.results\.(?:outputs|guardValues\[\d+\])"
    r"|results\.(?:outputs|guardValues|failure)\.path"
    r"|context\.pipelineRun\.(?:uid|namespace))\)"
)
TASK_REF = re.compile(r"\$\(tasks\.([a-z0-9-]+)\.results\.")


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")


def params_of(task: dict[str, Any]) -> dict[str, Any]:
    return {p["name"]: p["value"] for p in task["params"]}


@pytest.fixture
def docs(corpus_workflow: ir.Workflow) -> list[dict[str, Any]]:
    # The meta-Task, the Pipeline and the PipelineRun; Tasks generated for env actions and
    # mounts (between them) are checked in tests/interfaces.
    everything = pipeline_manifests(corpus_workflow)
    return [everything[0], *everything[-2:]]


def test_objects_are_task_pipeline_pipelinerun(corpus_workflow: ir.Workflow, docs: list[dict[str, Any]]) -> None:
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("Task", "kubernaut-action"), ("Pipeline", corpus_workflow.name), ("PipelineRun", corpus_workflow.name)]
    assert docs[2]["spec"]["pipelineRef"] == {"name": corpus_workflow.name}
    for doc in docs:
        assert doc["apiVersion"] == "tekton.dev/v1"
        assert doc["metadata"].get("namespace") == corpus_workflow.namespace


def test_tekton_accepts_every_object(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        assert validate_tekton(doc) == [], doc["kind"]


def test_same_bytes_every_time(corpus_workflow: ir.Workflow, docs: list[dict[str, Any]]) -> None:
    from compiler.yamlout import dump_documents

    again = ir.Workflow.model_validate(corpus_workflow.dump())
    assert dump_documents(pipeline_manifests(again)) == dump_documents(pipeline_manifests(corpus_workflow))


def test_meta_task_is_the_same_for_every_workflow(docs: list[dict[str, Any]]) -> None:
    baseline = pipeline_manifests(ir.Workflow(name="other", namespace=docs[0]["metadata"].get("namespace"),
                                            steps=(ir.Step(name="s", action_type="a/b", image="i", inputs={}),)))
    assert docs[0] == baseline[0]
    assert "kubernaut.ai/workflow" not in docs[0]["metadata"]["labels"]


def test_only_tekton_variables_reach_tekton(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        for path, text in strings(doc):
            if path.endswith(".script"):
                assert "$(" not in text, path  # constant scripts: nothing to substitute, nothing to expand
                continue
            leftover = TEKTON_VARIABLES.sub("", text)
            assert "$(" not in leftover, (doc["kind"], path, text)


def test_inputs_arrive_without_any_dollar(corpus_workflow: ir.Workflow, docs: list[dict[str, Any]]) -> None:
    for step, task in zip(corpus_workflow.steps, docs[1]["spec"]["tasks"], strict=True):
        encoded = params_of(task)["inputs"]
        assert "$" not in encoded
        assert decode_inputs_param(encoded) == step.inputs


def test_dependency_closure_is_the_workflows(corpus_workflow: ir.Workflow, docs: list[dict[str, Any]]) -> None:
    for step, task in zip(corpus_workflow.steps, docs[1]["spec"]["tasks"], strict=True):
        assert task["name"] == step.name
        assert task.get("runAfter", []) == list(step.run_after)
        implied = {m for _, text in strings([task.get("params"), task.get("when")]) for m in TASK_REF.findall(text)}
        assert set(task.get("runAfter", [])) | implied == set(step.dependencies), step.name


def test_retries_timeouts_workspaces_carried(corpus_workflow: ir.Workflow, docs: list[dict[str, Any]]) -> None:
    for step, task in zip(corpus_workflow.steps, docs[1]["spec"]["tasks"], strict=True):
        assert task.get("retries", 0) == step.retries
        assert parse_duration(task["timeout"])[0] == step.timeout_seconds
        bound = task.get("workspaces", [])
        # The shared workspace, then one workspace per Secret/ConfigMap the step mounts.
        mounts = [{"name": m.volume, "workspace": m.volume} for m in mounts_of(step)]
        assert bound == ([{"name": "workspace", "workspace": "workspace"}] if step.uses_workspace else []) + mounts
        assert params_of(task)["actionImage"] == step.image
    run = docs[2]["spec"]
    assert parse_duration(run["timeouts"]["pipeline"])[0] == corpus_workflow.timeout_seconds
    bindings = [b for b in run.get("workspaces", []) if b["name"] == "workspace"]
    if corpus_workflow.workspace is None:
        assert bindings == [] and "workspace" not in [w["name"] for w in docs[1]["spec"].get("workspaces", [])]
    else:
        (binding,) = bindings
        claim = binding["volumeClaimTemplate"]["spec"]
        assert claim["resources"]["requests"]["storage"] == corpus_workflow.workspace.size
        assert claim.get("storageClassName") == corpus_workflow.workspace.storage_class_name
        assert claim["accessModes"] == ["ReadWriteOnce"]


def test_guards_become_when_expressions(corpus_workflow: ir.Workflow, docs: list[dict[str, Any]]) -> None:
    tasks = {t["name"]: t for t in docs[1]["spec"]["tasks"]}
    for step in corpus_workflow.steps:
        whens = tasks[step.name].get("when", [])
        assert len(whens) == len(step.guards)
        for guard, when in zip(step.guards, whens, strict=True):
            assert when["operator"] == {"==": "in", "!=": "notin"}.get(guard.op, guard.op)
            assert when["values"] == [to_text(v) for v in guard.values]
            ref = guard.left_ref
            if ref is None:
                assert when["input"] == to_text(guard.left_literal)
            elif ref.kind == "step":
                index = int(re.fullmatch(rf"\$\(tasks\.{ref.step}\.results\.guardValues\[(\d+)\]\)",
                                         when["input"]).group(1))  # type: ignore[union-attr]
                assert params_of(tasks[str(ref.step)])["guardKeys"][index] == ref.key
            elif ref.kind == "workflow":
                assert when["input"] == f"$(params.workflow{ref.key.capitalize()})"
            else:
                assert when["input"] == "/workspace"


def test_every_key_a_consumer_reads_is_required_of_its_producer(corpus_workflow: ir.Workflow,
                                                                docs: list[dict[str, Any]]) -> None:
    tasks = {t["name"]: t for t in docs[1]["spec"]["tasks"]}
    for step in corpus_workflow.steps:
        required = params_of(tasks[step.name]).get("requiredOutputs", [])
        assert required == list(corpus_workflow.consumed_outputs(step.name))
        assert set(params_of(tasks[step.name]).get("guardKeys", [])) <= set(required)
    (publish,) = [s for s in docs[0]["spec"]["steps"] if s["name"] == "publish-outputs"]
    assert publish["args"][-2:] == ["--required-outputs", "$(params.requiredOutputs[*])"]
    (param,) = [p for p in docs[0]["spec"]["params"] if p["name"] == "requiredOutputs"]
    assert (param["type"], param["default"]) == ("array", [])


def test_service_accounts_per_action_type(corpus_workflow: ir.Workflow, docs: list[dict[str, Any]]) -> None:
    run = docs[2]["spec"]
    specs = {s["pipelineTaskName"]: s for s in run["taskRunSpecs"]}
    assert list(specs) == [s.name for s in corpus_workflow.steps]
    for step in corpus_workflow.steps:
        if corpus_workflow.service_account_name is None:
            contract = corpus_workflow.contracts.get(step.action_type)
            named = contract.service_account_name if contract is not None else None  # upstream entries
            assert specs[step.name]["serviceAccountName"] == named or action_service_account(
                step.action_type, step.image)
        else:
            assert "serviceAccountName" not in specs[step.name]
            assert run["taskRunTemplate"]["serviceAccountName"] == corpus_workflow.service_account_name


def test_every_step_meets_the_restricted_profile(docs: list[dict[str, Any]]) -> None:
    pods = tekton_pod_specs(docs[0], docs[2])  # the run's template, and each task's merged over it
    assert pods
    for pod in pods:
        assert len(pod["containers"]) == 3
        assert check_restricted(pod) == []


def test_no_param_in_any_script(docs: list[dict[str, Any]]) -> None:
    scripts = [s["script"] for s in docs[0]["spec"]["steps"] if "script" in s]
    assert len(scripts) == 1
    assert all("$(params" not in s and "$(" not in s for s in scripts)


def test_array_params_only_as_whole_args() -> None:
    (task, _, _) = pipeline_manifests(ir.Workflow(name="w", steps=(ir.Step(name="s", action_type="a", image="i",
                                                                          inputs={}),)))
    arrays = {p["name"] for p in task["spec"]["params"] if p["type"] == "array"}
    for step in task["spec"]["steps"]:
        for path, text in strings({k: v for k, v in step.items() if k != "args"}):
            assert not any(f"params.{a}" in text for a in arrays), path
        for arg in step.get("args", []):
            assert arg in {f"$(params.{a}[*])" for a in arrays} or not arg.startswith("$(")


def test_helper_image_is_an_option() -> None:
    wf = ir.Workflow(name="w", steps=(ir.Step(name="s", action_type="a", image="i", inputs={}),))
    assert re.fullmatch(r"ghcr\.io/kubernaut/kubernaut@sha256:[0-9a-f]{64}", DEFAULT_HELPER_IMAGE)
    custom = "registry.example/kubernaut@sha256:" + "1" * 64
    steps = pipeline_manifests(wf, TektonOptions(helper_image=custom))[0]["spec"]["steps"]
    assert [s["image"] for s in steps] == [custom, "$(params.actionImage)", custom]


def test_full_output_starts_with_the_shared_rbac(corpus_workflow: ir.Workflow) -> None:
    """A Tekton-only cluster still gets the per-action-type accounts its TaskRun pods run under."""
    full = compile_workflow(corpus_workflow)
    rbac = rbac_for(corpus_workflow)
    assert full == [*rbac, *pipeline_manifests(corpus_workflow)]
    accounts = {d["metadata"]["name"] for d in rbac if d["kind"] == "ServiceAccount"}
    # Accounts a contract names (upstream entries) are the operator's: kubernaut emits none.
    accounts |= {c.service_account_name for c in corpus_workflow.contracts.values() if c.service_account_name}
    run = full[-1]["spec"]
    named = {s["serviceAccountName"] for s in run.get("taskRunSpecs", []) if "serviceAccountName" in s}
    if corpus_workflow.service_account_name is None:
        assert named and named <= accounts
    else:
        assert rbac == [] and run["taskRunTemplate"]["serviceAccountName"] == corpus_workflow.service_account_name
