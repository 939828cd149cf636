"""Property-based: for any DAG of steps, names and inputs, the jobs target emits valid objects."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.kube_schema import validate_kube
from support.pss import check_restricted, pod_specs_of

from compiler import ir
from targets.common.naming import is_dns1123_label
from targets.jobs import compile_workflow, unescape_env_value

LABEL = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)
ACTION_TYPES = st.sampled_from(["kubernaut/echo", "kubernetes/scale_deployment", "acme.io/Odd_Type.v2",
                                "x/" + "very-long-" * 8])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)
CONTRACT = ir.ContractInfo(
    action_type="kubernetes/scale_deployment",
    resources=ir.Resources(requests={"cpu": "50m"}),
    permissions=(ir.PolicyRule(apiGroups=("apps",), resources=("deployments",), verbs=("get",)),),
)


@st.composite
def workflows(draw: st.DrawFn) -> ir.Workflow:
    names = draw(st.lists(LABEL, min_size=1, max_size=5, unique=True))
    steps = []
    for index, name in enumerate(names):
        earlier = names[:index]
        dependencies = tuple(draw(st.lists(st.sampled_from(earlier), unique=True, max_size=2))) if earlier else ()
        steps.append(ir.Step(
            name=name, action_type=draw(ACTION_TYPES),
            image="registry.example/a@sha256:" + "0" * 64,
            inputs=draw(st.dictionaries(st.text(min_size=1, max_size=8), JSON, max_size=4)),
            uses_workspace=draw(st.booleans()), retries=draw(st.integers(0, 5)),
            timeout_seconds=draw(st.integers(1, 86_400)), dependencies=dependencies,
        ))
    uses = any(s.uses_workspace for s in steps)
    return ir.Workflow(
        name=draw(LABEL), namespace=draw(st.none() | LABEL), steps=tuple(steps),
        workspace=ir.WorkspaceSpec() if uses else None,
        service_account_name=draw(st.none() | st.just("mine")),
        contracts={CONTRACT.action_type: CONTRACT},
    )


def _env(job: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wf=workflows())
def test_any_workflow_compiles_to_valid_restricted_objects(wf: ir.Workflow) -> None:
    docs = compile_workflow(wf)
    assert docs == compile_workflow(wf), "deterministic"
    jobs = [d for d in docs if d["kind"] == "Job"]
    assert len(jobs) == len(wf.steps)
    names = set()
    for doc in docs:
        assert is_dns1123_label(doc["metadata"]["name"])
        assert (doc["kind"], doc["metadata"]["name"]) not in names
        names.add((doc["kind"], doc["metadata"]["name"]))
        if doc["kind"] != "ActionExecution":
            assert validate_kube(doc) == [], doc["kind"]
        for pod in pod_specs_of(doc):
            assert check_restricted(pod) == []
    for job, step in zip(jobs, wf.steps, strict=True):
        assert json.loads(unescape_env_value(_env(job)["ACTION_INPUTS"])) == step.inputs
    assert any(d["kind"] == "PersistentVolumeClaim" for d in docs) == any(s.uses_workspace for s in wf.steps)
