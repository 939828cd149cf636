"""What the controllers send is cheap to build and to take in (issue 13), byte for byte the same.

* an ActionExecution's spec is built as a plain dict, in the model's field order, not through
  the pydantic model (``targets.jobs.actionexecution``);
* a step's plan (``spec.jobTemplate``), a Pipeline and a PipelineRun are frozen like the last one
  of their kind (``reconciler.engines.shared_parts``): the parts equal to it are its read-only
  objects, which the API server takes in without a walk and stores shared;
* a workflow status write carries the stored, read-only entry of every step that did not change.

Each test checks the shape (which objects are shared, which model is called), never a time.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from support.golden_contracts import contract_dirs

from compiler import ir
from compiler.frontend import compile_files
from compiler.spec import API_VERSION, KIND
from reconciler.app import AppConfig, install
from reconciler.cluster.memory import MemoryCluster
from reconciler.cluster.snapshots import FrozenDict, FrozenList
from reconciler.engines.shared_parts import LastFrozen
from reconciler.simulation import Simulation
from reconciler.simulation.tekton import add_tekton
from reconciler.simulation.wiring import simulated_pods
from reconciler.verification import ImagePolicy
from targets.jobs import actionexecution
from targets.jobs.actionexecution import action_execution, action_execution_spec

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "golden").glob("*/workflow.yaml")) + sorted((ROOT / "examples").glob("*.yaml"))
IMAGE = "ghcr.io/kubernaut/actions/thing@sha256:" + "c" * 64
STEPS = (("a", ()), ("b", ("a",)), ("c", ("a",)))


def _workflows() -> list[Any]:
    found = []
    for path in SOURCES:
        result = compile_files([path], contract_dirs(path))
        found.extend(pytest.param(wf, id=f"{path.parent.name}/{path.name}:{wf.name}") for wf in result.workflows)
    return found


# -- the ActionExecution spec without the model ----------------------------------------------------

@pytest.mark.parametrize("wf", _workflows())
def test_the_spec_is_the_models_json_byte_for_byte(wf: ir.Workflow) -> None:
    for step in wf.steps:
        expected = action_execution_spec(wf, step).model_dump(mode="json", exclude_none=True)
        assert json.dumps(action_execution(wf, step)["spec"]) == json.dumps(expected)


def _step(wf: ir.Workflow, inputs: dict[str, Any]) -> tuple[ir.Workflow, ir.Step]:
    step = wf.steps[0].model_copy(update={"inputs": inputs})
    return wf.model_copy(update={"steps": (step, *wf.steps[1:])}), step


def test_a_plain_json_step_never_goes_through_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    wf, step = _step(_workflows()[0].values[0], {"n": 1, "x": 1.5, "deep": [{"k": None}, True]})

    def refuse(*_: object) -> None:
        raise AssertionError("the spec went through the pydantic model")

    monkeypatch.setattr(actionexecution, "action_execution_spec", refuse)
    spec = action_execution(wf, step)["spec"]
    assert spec["inputs"] == {"n": 1, "x": 1.5, "deep": [{"k": None}, True]}
    assert spec["inputs"] is not step.inputs and spec["inputs"]["deep"] is not step.inputs["deep"]


@pytest.mark.parametrize("inputs", [{"x": math.inf}, {"x": [math.nan]}, {"x": (1, 2)}, {"x": {1: "a"}}],
                         ids=["inf", "nan-in-list", "tuple", "int-key"])
def test_what_is_not_plain_json_takes_the_models_path(inputs: dict[str, Any]) -> None:
    wf, step = _step(_workflows()[0].values[0], inputs)
    expected = action_execution_spec(wf, step).model_dump(mode="json", exclude_none=True)
    assert json.dumps(action_execution(wf, step)["spec"]) == json.dumps(expected)


# -- LastFrozen ------------------------------------------------------------------------------------

def test_equal_parts_are_the_last_bodys_objects_and_the_rest_is_new() -> None:
    last = LastFrozen()
    first = last.freeze("k", {"name": "one", "policy": {"rules": [{"a": 1}]}, "tasks": [{"n": "x"}, {"n": "y"}]})
    body = {"name": "two", "policy": {"rules": [{"a": 1}]}, "tasks": [{"n": "x"}, {"n": "z"}]}
    second = last.freeze("k", body)
    assert type(second) is FrozenDict and second == body
    assert second["policy"] is first["policy"] and second["tasks"][0] is first["tasks"][0]
    assert second["tasks"][1] is not first["tasks"][1] and type(second["tasks"]) is FrozenList
    assert type(body["policy"]) is dict  # the body given is left as it is
    other = last.freeze("other", {"policy": {"rules": [{"a": 1}]}})
    assert other["policy"] is not first["policy"]  # another key shares nothing


def test_the_oldest_key_goes_when_full() -> None:
    last = LastFrozen(max_entries=2)
    kept = last.freeze("a", {"v": {"x": 1}})
    last.freeze("b", {"v": {"x": 1}})
    last.freeze("a", {"v": {"x": 1}})  # "a" used again: "b" is now the oldest
    last.freeze("c", {"v": {"x": 1}})
    assert len(last) == 2
    assert last.freeze("a", {"v": {"x": 1}})["v"] is kept["v"]
    with pytest.raises(ValueError, match="at least 1"):
        LastFrozen(max_entries=0)


# -- the engines' bodies, stored shared ------------------------------------------------------------

def _doc(name: str, engine: str) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name, "namespace": "shared"},
            "spec": {"engine": engine,
                     "steps": [{"name": step, "actionType": "custom/thing", "image": IMAGE, "runAfter": list(after),
                                "usesWorkspace": step == "a"} for step, after in STEPS]}}


def _run(engine: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Simulation, list[dict[str, Any]]]:
    """Two workflows to the end; the status bodies kubernaut sent for its WorkflowExecutions."""
    sent: list[dict[str, Any]] = []
    patch_status = MemoryCluster.patch_status

    def recording(self: MemoryCluster, api_version: str, kind: str, name: str, namespace: str | None,
                  status: dict[str, Any], **kwargs: Any) -> Any:
        if kind == KIND:
            sent.append(status)
        return patch_status(self, api_version, kind, name, namespace, status, **kwargs)

    monkeypatch.setattr(MemoryCluster, "patch_status", recording)
    sim = Simulation()
    if engine == "tekton":
        add_tekton(sim)
    install(sim.manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods),
            cluster=sim.cluster.client("kubernaut"))
    names = ["wf-0", "wf-1"]
    for name in names:
        sim.cluster.create(_doc(name, engine))
    assert sim.run_until(lambda: all(
        (sim.cluster.get(API_VERSION, KIND, name, "shared").get("status") or {}).get("phase") == "Succeeded"
        for name in names), 3600)
    return sim, sent


def _stored(sim: Simulation, api_version: str, kind: str, name: str) -> Any:
    return sim.controllers_cluster.get(api_version, kind, name, "shared")  # the stored snapshot itself


def test_two_workflows_step_plans_share_their_equal_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    sim, _ = _run("jobs", monkeypatch)
    plans = [ae["spec"]["jobTemplate"]["spec"] for ae in sim.controllers_cluster.list(
        "actionexecution.kubernaut.ai/v1alpha1", "ActionExecution", "shared").items
        if ae["spec"]["step"] == "b"]
    first, second = plans
    assert first != second  # each names its own workflow...
    assert second["podFailurePolicy"] is first["podFailurePolicy"]  # ...and shares what is the same
    pod, other = first["template"]["spec"], second["template"]["spec"]
    assert other["securityContext"] is pod["securityContext"]
    assert other["containers"][0]["securityContext"] is pod["containers"][0]["securityContext"]
    assert other["containers"][0]["command"] is pod["containers"][0]["command"]


def test_two_workflows_pipelines_share_their_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    sim, _ = _run("tekton", monkeypatch)
    first, second = (_stored(sim, "tekton.dev/v1", "Pipeline", name) for name in ("wf-0", "wf-1"))
    assert first["spec"]["tasks"] is second["spec"]["tasks"]
    runs = [_stored(sim, "tekton.dev/v1", "PipelineRun", name)["spec"] for name in ("wf-0", "wf-1")]
    assert runs[0]["params"] != runs[1]["params"]
    assert runs[0]["workspaces"] is runs[1]["workspaces"]


@pytest.mark.parametrize("engine", ["jobs", "tekton"])
def test_a_status_write_carries_the_stored_entries_of_unchanged_steps(engine: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _, sent = _run(engine, monkeypatch)
    mine = [body for body in sent if any(s["phase"] != "Pending" for s in body["steps"])]
    shared = [entry for body in mine for entry in body["steps"] if type(entry) is FrozenDict]
    changed = [entry for body in mine for entry in body["steps"] if type(entry) is dict]
    # Every write changes a step or two; the steps it leaves as they were are sent as stored.
    assert shared and changed
    # The first step, finished early, is new in the one write per workflow that says so, and
    # sent as stored in every later one.
    first = [body["steps"][0] for body in mine if body["steps"][0]["phase"] == "Succeeded"]
    assert len(first) > 2 and sum(type(entry) is dict for entry in first) == 2
