"""The shipped deploy/config/routing-*.yaml express every stage of the seed's Phase 3 rollout.

Each stage is checked against the seed's own ``shouldUseTekton`` for that week, on the shipped
example workflows (compiled by the real front end) and on synthetic shapes around the thresholds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from compiler import ir
from compiler.frontend import compile_files
from reconciler.routing import RoutingPolicy, decide, derived_uid, has_dependencies

ROOT = Path(__file__).resolve().parents[3]
STAGES = ["routing-v1-only", "routing-week1-gitops", "routing-week3-multistep", "routing-week7-full",
          "routing-rollback"]
Factory = Callable[..., ir.Workflow]
Loader = Callable[[str], RoutingPolicy]


def seed_should_use_tekton(stage: str, wf: ir.Workflow) -> bool:
    """The seed's shouldUseTekton() for each stage, transcribed from its Go snippets."""
    if stage == "routing-week1-gitops":
        return wf.workflow_type == "gitops-pr-creation"
    if stage == "routing-week3-multistep":
        return len(wf.steps) > 3 or has_dependencies(wf)
    return stage == "routing-week7-full"  # v1-only and rollback: never


@pytest.fixture(scope="module")
def example_workflows() -> dict[str, ir.Workflow]:
    result = compile_files(sorted((ROOT / "examples").glob("*.yaml")))
    assert result.ok
    return {wf.name: wf for wf in result.workflows}


def synthetic(workflow: Factory) -> list[ir.Workflow]:
    return [
        workflow(1), workflow(3), workflow(4), workflow(2, chained=True),
        workflow(1, workflow_type="gitops-pr-creation"),  # a one-step GitOps workflow
        workflow(4, chained=True, workflow_type="gitops-pr-creation"),
        workflow(3, workflow_type="single-action"),
    ]


def test_every_stage_is_shipped_and_valid(shipped_policy: Loader) -> None:
    shipped = {p.stem for p in (ROOT / "deploy" / "config").glob("routing-*.yaml")}
    assert set(STAGES) <= shipped
    for stage in STAGES:
        shipped_policy(stage)


@pytest.mark.parametrize("stage", STAGES)
def test_stage_routes_like_the_seed(stage: str, shipped_policy: Loader, workflow: Factory,
                                    example_workflows: dict[str, ir.Workflow]) -> None:
    policy = shipped_policy(stage)
    for wf in [*example_workflows.values(), *synthetic(workflow)]:
        decision = decide(wf, derived_uid(wf.namespace, wf.name), policy, True)
        expected = "tekton" if seed_should_use_tekton(stage, wf) else "jobs"
        assert decision.engine == expected, (stage, wf.name, len(wf.steps), decision.reason)


def test_named_examples_per_stage(shipped_policy: Loader, example_workflows: dict[str, ir.Workflow]) -> None:
    def engines(stage: str) -> dict[str, str]:
        policy = shipped_policy(stage)
        return {name: decide(wf, derived_uid(wf.namespace, name), policy, True).engine
                for name, wf in example_workflows.items()}

    gitops, parallel, single = "payment-memory-fix", "payment-oom-mitigation", "payment-scale-up"
    week1 = engines("routing-week1-gitops")
    assert (week1[gitops], week1[parallel], week1[single]) == ("tekton", "jobs", "jobs")
    week3 = engines("routing-week3-multistep")
    assert (week3[gitops], week3[parallel], week3[single]) == ("tekton", "tekton", "jobs")
    assert set(engines("routing-week7-full").values()) == {"tekton"}
    assert set(engines("routing-v1-only").values()) == {"jobs"}
    assert set(engines("routing-rollback").values()) == {"jobs"}


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_strands_a_workflow_without_tekton(stage: str, shipped_policy: Loader,
                                                    example_workflows: dict[str, ir.Workflow]) -> None:
    policy = shipped_policy(stage)
    for wf in example_workflows.values():
        decision = decide(wf, derived_uid(wf.namespace, wf.name), policy, False)
        assert decision.engine == "jobs"
        assert decision.fallback == seed_should_use_tekton(stage, wf)
