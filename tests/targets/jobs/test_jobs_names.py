"""Names: knative ChildName everywhere, DNS-1123 labels of at most 63 characters, no collisions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler import ir
from targets.common.naming import is_dns1123_label
from targets.jobs import names

LABEL = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)


@pytest.mark.parametrize(("action_type", "slug"), [
    ("git/clone", "git-clone"),
    ("kubernetes/scale_deployment", "kubernetes-scale-deployment"),
    ("acme.io/Custom_Remediation.v2", "acme-io-custom-remediation-v2"),
    ("/weird//", "weird"),
    ("€€€", "action"),
])
def test_action_type_slug(action_type: str, slug: str) -> None:
    assert names.action_type_slug(action_type) == slug
    assert names.rbac_name(action_type) == "kubernaut-" + slug


def test_long_action_types_are_shortened_with_a_hash() -> None:
    long = "vendor.example.com/" + "remediate-" * 10
    name = names.rbac_name(long)
    assert len(name) == 63 and is_dns1123_label(name)
    assert name != names.rbac_name(long + "x")
    assert is_dns1123_label(names.action_type_slug(long))


def test_the_seed_names(workflow: Callable[..., ir.Workflow], step: Callable[..., ir.Step]) -> None:
    wf = workflow(step("git-clone", uses_workspace=True), name="workflow-xyz")
    s = wf.steps[0]
    assert names.workspace_claim_name(wf) == "workflow-xyz-workspace"  # the seed's example
    # <workflow>-<step>, plus a digest of the pair: "workflow-xyz"/"git-clone" could also be split
    # as "workflow"/"xyz-git-clone" (issue #15).
    assert names.action_execution_name(wf, s) == "workflow-xyz-git-clone-15ba2e"
    assert [names.job_name(wf, s, n) for n in (1, 2, 10)] == [
        "workflow-xyz-git-clone-15ba2e-1", "workflow-xyz-git-clone-15ba2e-2", "workflow-xyz-git-clone-15ba2e-10"]
    with pytest.raises(ValueError, match="numbered from 1"):
        names.job_name(wf, s, 0)


def test_service_account_is_the_workflows_when_set(workflow: Callable[..., ir.Workflow],
                                                  step: Callable[..., ir.Step]) -> None:
    s = step("a", action_type="git/clone")
    assert names.service_account_name(workflow(s), s) == "kubernaut-git-clone"
    assert names.service_account_name(workflow(s, service_account_name="mine"), s) == "mine"


@given(wf_name=LABEL, step_names=st.lists(LABEL, min_size=1, max_size=6, unique=True),
       attempt=st.integers(min_value=1, max_value=99))
def test_child_names_are_valid_and_distinct(wf_name: str, step_names: list[str], attempt: int) -> None:
    wf = ir.Workflow(name=wf_name, steps=tuple(ir.Step(name=n, action_type="t", image="i", inputs={})
                                                for n in step_names))
    executions = [names.action_execution_name(wf, s) for s in wf.steps]
    jobs = [names.job_name(wf, s, attempt) for s in wf.steps]
    for name in [names.workspace_claim_name(wf), *executions, *jobs]:
        assert is_dns1123_label(name), name
    assert len(set(executions)) == len(executions)
    assert len(set(jobs)) == len(jobs)
