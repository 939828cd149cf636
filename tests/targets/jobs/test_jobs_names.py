"""Names: knative ChildName everywhere, DNS-1123 labels of at most 63 characters, no collisions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler import ir
from targets.common.naming import is_dns1123_label
from targets.jobs import names

from .conftest import IMAGE

LABEL = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)


@pytest.mark.parametrize(("action_type", "readable"), [
    ("git/clone", "git-clone"),
    ("kubernetes/scale_deployment", "kubernetes-scale-deployment"),
    ("acme.io/Custom_Remediation.v2", "acme-io-custom-remediation-v2"),
    ("/weird//", "weird"),
    ("€€€", "action"),
])
def test_action_type_slug_is_readable_plus_a_digest(action_type: str, readable: str) -> None:
    slug = names.action_type_slug(action_type)
    assert slug.startswith(readable + "-") and len(slug) == len(readable) + 9
    name = names.rbac_name(action_type, IMAGE)
    assert name.startswith(f"kubernaut-{readable}-") and len(name) == len(readable) + 23
    assert is_dns1123_label(slug) and is_dns1123_label(name)


def test_the_account_name_is_pinned() -> None:
    # The preview, both targets and the controllers compute it: changing it renames every account.
    assert names.action_type_slug("git/clone") == "git-clone-37af50c0"
    assert names.rbac_name("kubernetes/scale_deployment", "r@sha256:" + "a" * 64) == \
        "kubernaut-kubernetes-scale-deployment-89c6838ba4c9"


def test_look_alike_action_types_get_their_own_names() -> None:
    # Issue 15: `kubernetes.scale-deployment` must not share the Role of `kubernetes/scale_deployment`.
    look_alikes = ["kubernetes/scale_deployment", "kubernetes.scale-deployment", "Kubernetes/Scale_Deployment",
                   "kubernetes-scale-deployment", "kubernetes/scale/deployment"]
    assert len({names.rbac_name(t, IMAGE) for t in look_alikes}) == len(look_alikes)
    assert len({names.action_type_slug(t) for t in look_alikes}) == len(look_alikes)


def test_another_image_of_the_action_type_gets_another_account() -> None:
    # The permissions are granted to the image digest the workflow was compiled with.
    other = IMAGE.rpartition("@")[0] + "@sha256:" + "b" * 64
    assert names.rbac_name("git/clone", IMAGE) != names.rbac_name("git/clone", other)
    # The digest, not the repository, identifies the image.
    assert names.rbac_name("git/clone", IMAGE) == names.rbac_name("git/clone", "mirror.example/x@" +
                                                                   IMAGE.rpartition("@")[2])


def test_long_action_types_are_shortened_with_a_hash() -> None:
    long = "vendor.example.com/" + "remediate-" * 10
    name = names.rbac_name(long, IMAGE)
    assert len(name) == 63 and is_dns1123_label(name)
    assert name != names.rbac_name(long + "x", IMAGE)
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
    assert names.service_account_name(workflow(s), s) == names.rbac_name("git/clone", IMAGE)
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
