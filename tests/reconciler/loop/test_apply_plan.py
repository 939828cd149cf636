"""Diff-based apply against MemoryCluster: plan -> execute, create / no-op / patch / prune."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.apply import (
    Action,
    ObjectKey,
    diff_owned,
    execute,
    observe,
    ownership_selector,
    plan,
    sync,
)
from reconciler.cluster import Invalid, ServerError, is_transient
from reconciler.cluster.memory import MemoryCluster

SELECTOR = ownership_selector("wf")
KINDS = [("batch/v1", "Job"), ("v1", "ConfigMap"), ("v1", "ServiceAccount")]


def labels(**extra: str) -> dict[str, str]:
    return {**SELECTOR, **extra}


def job(name: str = "wf-step-a", image: str = "img@sha256:1", env: str = "{}") -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "ns", "labels": labels(), "annotations": {"a": "1"}},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": 600,
            "template": {
                "metadata": {"labels": labels()},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "action",
                        "image": image,
                        "env": [{"name": "ACTION_INPUTS", "value": env}, {"name": "B", "value": "2"}],
                        "resources": {"requests": {"cpu": "10m"}},
                    }],
                },
            },
        },
    }


def config_map(name: str = "wf-cm", data: dict[str, str] | None = None, **extra_labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "ns", "labels": labels(**extra_labels)},
            "data": data if data is not None else {"a": "1"}}


def shared_service_account() -> dict[str, Any]:
    # Per-action-type RBAC is shared by all workflows: managed-by label, no workflow label.
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "kubernaut-action-git-clone", "namespace": "ns",
                         "labels": {"app.kubernetes.io/managed-by": "kubernaut"}}}


@pytest.fixture
def cluster() -> MemoryCluster:
    return MemoryCluster(seed=7)


def do_sync(cluster: MemoryCluster, desired: list[dict[str, Any]], **kw: Any) -> tuple[Any, Any]:
    return sync(cluster, desired, owned_selector=SELECTOR, prune_kinds=KINDS, namespace="ns", **kw)


def test_first_plan_creates_everything_in_desired_order(cluster: MemoryCluster) -> None:
    the_plan, result = do_sync(cluster, [config_map(), job()])
    assert [c.action for c in the_plan.changes] == [Action.CREATE, Action.CREATE]
    assert [c.key.kind for c in the_plan.changes] == ["ConfigMap", "Job"]
    assert result.created == [ObjectKey("v1", "ConfigMap", "ns", "wf-cm"),
                              ObjectKey("batch/v1", "Job", "ns", "wf-step-a")]
    assert cluster.get("batch/v1", "Job", "wf-step-a", "ns")["spec"]["backoffLimit"] == 0
    # Created through server-side apply: the fields are owned by kubernaut's field manager.
    managers = [e["manager"] for e in cluster.get("v1", "ConfigMap", "wf-cm", "ns")["metadata"]["managedFields"]]
    assert managers == ["kubernaut"]


def test_second_plan_is_all_no_op_and_writes_nothing(cluster: MemoryCluster) -> None:
    desired = [config_map(), job()]
    do_sync(cluster, desired)
    revision = cluster.resource_version
    cluster.reset_requests()
    the_plan, result = do_sync(cluster, desired)
    assert the_plan.converged and not the_plan.has_changes
    assert [c.action for c in the_plan.changes] == [Action.NOOP, Action.NOOP]
    assert result.written == [] and result.unchanged
    assert cluster.resource_version == revision
    assert {r.verb for r in cluster.requests} == {"list"}  # read only, no write of any kind


def test_executing_an_identical_apply_is_a_server_no_op(cluster: MemoryCluster) -> None:
    """Even when forced through execute (a stale plan), re-applying the same object commits
    nothing: the request log shows a no-op apply and the resourceVersion does not move."""
    desired = [job()]
    do_sync(cluster, desired)
    before = cluster.get("batch/v1", "Job", "wf-step-a", "ns")
    stale = plan(desired, [], owned_selector=SELECTOR)  # believes the Job is absent
    assert stale.creates
    cluster.reset_requests()
    result = execute(cluster, stale)
    after = cluster.get("batch/v1", "Job", "wf-step-a", "ns")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    applies = [r for r in cluster.requests if r.verb == "apply"]
    assert len(applies) == 1 and applies[0].no_op and applies[0].status_code == 200
    assert result.created == [ObjectKey("batch/v1", "Job", "ns", "wf-step-a")]


def test_server_defaulted_fields_cause_no_diff(cluster: MemoryCluster) -> None:
    """The Job gets a generated selector and pod-template labels from the server, plus uid,
    generation, managedFields, and later a status: none of that is a difference."""
    desired = job()
    do_sync(cluster, [desired])
    cluster.patch_status("batch/v1", "Job", "wf-step-a", "ns", {"active": 1, "startTime": "2026-01-01T00:00:00Z"})
    live = cluster.get("batch/v1", "Job", "wf-step-a", "ns")
    assert "selector" in live["spec"] and "controller-uid" in live["spec"]["template"]["metadata"]["labels"]
    assert diff_owned(desired, live) == []


def test_defaults_inside_list_items_cause_no_diff() -> None:
    """A server filling in defaults inside containers (terminationMessagePath, imagePullPolicy,
    a default port protocol) must not look like a change: lists of maps compare on the desired keys."""
    desired = job()
    live = copy.deepcopy(desired)
    container = live["spec"]["template"]["spec"]["containers"][0]
    container.update(terminationMessagePath="/dev/termination-log", imagePullPolicy="IfNotPresent")
    container["env"][0]["extra"] = "x"
    live["spec"]["template"]["spec"]["dnsPolicy"] = "ClusterFirst"
    live["metadata"].update(uid="u", resourceVersion="9", generation=3, creationTimestamp="t")
    live["status"] = {"active": 1}
    assert diff_owned(desired, live) == []


def test_keyed_list_extras_added_by_others_are_ignored_but_order_is_not_a_diff() -> None:
    desired = job()
    live = copy.deepcopy(desired)
    env = live["spec"]["template"]["spec"]["containers"][0]["env"]
    env.reverse()
    env.append({"name": "INJECTED_BY_WEBHOOK", "value": "1"})
    live["spec"]["template"]["spec"]["containers"].append({"name": "istio-proxy", "image": "proxy"})
    assert diff_owned(desired, live) == []


def test_real_changes_are_reported_readably(cluster: MemoryCluster) -> None:
    do_sync(cluster, [config_map(), job()])
    changed_job = job(image="img@sha256:2")
    the_plan = plan([config_map(data={"a": "2", "b": "3"}), changed_job],
                    observe(cluster, [config_map(), changed_job], owned_selector=SELECTOR, namespace="ns"),
                    owned_selector=SELECTOR)
    assert [c.action for c in the_plan.changes] == [Action.PATCH, Action.PATCH]
    cm_change, job_change = the_plan.changes
    assert cm_change.diff == ('~ .data.a: "1" -> "2"', '+ .data.b: "3"')  # sorted by path
    assert job_change.diff == (
        '~ .spec.template.spec.containers[name=action].image: "img@sha256:1" -> "img@sha256:2"',)
    text = the_plan.render()
    assert "~ patch ConfigMap ns/wf-cm (v1)" in text
    assert text.endswith("Plan: 0 to create, 2 to patch, 0 to delete, 0 unchanged.")


def test_patch_applies_and_converges(cluster: MemoryCluster) -> None:
    do_sync(cluster, [config_map()])
    the_plan, result = do_sync(cluster, [config_map(data={"a": "2"})])
    assert the_plan.patches and result.written == [ObjectKey("v1", "ConfigMap", "ns", "wf-cm")]
    assert cluster.get("v1", "ConfigMap", "wf-cm", "ns")["data"] == {"a": "2"}
    assert do_sync(cluster, [config_map(data={"a": "2"})])[0].converged


def test_field_removed_from_desired_is_a_diff_and_gets_removed(cluster: MemoryCluster) -> None:
    """Projection alone cannot see a field kubernaut no longer sets; managedFields can."""
    do_sync(cluster, [config_map(data={"a": "1", "b": "2"}, team="x")])
    the_plan, _ = do_sync(cluster, [config_map(data={"a": "1"})])
    (change,) = the_plan.changes
    assert change.action is Action.PATCH
    assert change.diff == ("- .data.b: set by kubernaut before, no longer desired",
                           "- .metadata.labels.team: set by kubernaut before, no longer desired")
    live = cluster.get("v1", "ConfigMap", "wf-cm", "ns")
    assert live["data"] == {"a": "1"} and "team" not in live["metadata"]["labels"]
    assert do_sync(cluster, [config_map(data={"a": "1"})])[0].converged


def test_fields_of_other_managers_are_not_ours_to_remove(cluster: MemoryCluster) -> None:
    do_sync(cluster, [config_map()])
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "wf-cm", "namespace": "ns"},
                   "data": {"theirs": "1"}}, field_manager="someone-else")
    assert do_sync(cluster, [config_map()])[0].converged
    assert cluster.get("v1", "ConfigMap", "wf-cm", "ns")["data"] == {"a": "1", "theirs": "1"}


def test_prune_deletes_owned_objects_no_longer_desired(cluster: MemoryCluster) -> None:
    do_sync(cluster, [config_map(), config_map("wf-old"), job()])
    the_plan, result = do_sync(cluster, [config_map(), job()])
    assert [(c.action, c.key.name) for c in the_plan.changes] == [
        (Action.NOOP, "wf-cm"), (Action.NOOP, "wf-step-a"), (Action.DELETE, "wf-old")]
    assert result.deleted == [ObjectKey("v1", "ConfigMap", "ns", "wf-old")]
    assert [o["metadata"]["name"] for o in cluster.objects("ConfigMap")] == ["wf-cm"]


def test_prune_never_touches_shared_or_foreign_objects(cluster: MemoryCluster) -> None:
    cluster.create(shared_service_account())
    cluster.create(config_map("other-workflow") | {"metadata": {
        "name": "other-workflow", "namespace": "ns", "labels": ownership_selector("other")}})
    cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "unlabelled", "namespace": "ns"}})
    the_plan, result = do_sync(cluster, [config_map()])
    assert not the_plan.deletes and result.deleted == []
    assert len(cluster.objects("ConfigMap")) == 3 and len(cluster.objects("ServiceAccount")) == 1


def test_shared_objects_can_be_desired_without_a_workflow_label(cluster: MemoryCluster) -> None:
    desired = [shared_service_account(), config_map()]
    do_sync(cluster, desired)
    the_plan, _ = do_sync(cluster, desired)
    assert the_plan.converged
    # Dropping it from desired does not delete it: no workflow label, not ours to prune.
    the_plan, _ = do_sync(cluster, [config_map()])
    assert not the_plan.deletes and cluster.objects("ServiceAccount")


def test_owned_selector_without_the_workflow_label_is_refused() -> None:
    with pytest.raises(ValueError, match=r"kubernaut\.ai/workflow"):
        plan([], [], owned_selector={"app.kubernetes.io/managed-by": "kubernaut"})


def test_duplicate_desired_objects_are_refused() -> None:
    with pytest.raises(ValueError, match="desired twice"):
        plan([config_map(), config_map()], [], owned_selector=SELECTOR)


def test_desired_object_without_namespace_matches_the_defaulted_one(cluster: MemoryCluster) -> None:
    bare = config_map()
    del bare["metadata"]["namespace"]
    sync(cluster, [bare], owned_selector=SELECTOR, prune_kinds=KINDS)
    the_plan, _ = sync(cluster, [bare], owned_selector=SELECTOR, prune_kinds=KINDS)
    assert the_plan.converged  # neither re-created nor pruned
    assert cluster.get("v1", "ConfigMap", "wf-cm", "default")


def test_terminating_object_waits_instead_of_patching(cluster: MemoryCluster) -> None:
    finalized = config_map() | {"metadata": {**config_map()["metadata"], "finalizers": ["example.com/hold"]}}
    do_sync(cluster, [finalized])
    cluster.delete("v1", "ConfigMap", "wf-cm", "ns")
    the_plan, result = do_sync(cluster, [finalized])
    (change,) = the_plan.changes
    assert change.action is Action.NOOP and change.waiting and not the_plan.converged
    assert "being deleted" in the_plan.render()
    assert result.written == []
    # Pruning skips it too: deleting again changes nothing.
    assert not do_sync(cluster, [])[0].deletes


def test_dry_run_persists_nothing(cluster: MemoryCluster) -> None:
    do_sync(cluster, [config_map("wf-old")])
    revision = cluster.resource_version
    the_plan, result = do_sync(cluster, [config_map(), job()], dry_run=True)
    assert len(the_plan.creates) == 2 and len(the_plan.deletes) == 1
    assert result.dry_run and result.written == []
    assert result.objects[ObjectKey("batch/v1", "Job", "ns", "wf-step-a")]["spec"]["selector"]  # server view
    assert cluster.resource_version == revision
    assert [o["metadata"]["name"] for o in cluster.objects("ConfigMap")] == ["wf-old"]


def test_deleting_what_is_already_gone_is_success(cluster: MemoryCluster) -> None:
    do_sync(cluster, [config_map("wf-old")])
    the_plan = plan([], observe(cluster, [], owned_selector=SELECTOR, prune_kinds=KINDS, namespace="ns"),
                    owned_selector=SELECTOR)
    cluster.delete("v1", "ConfigMap", "wf-old", "ns")
    result = execute(cluster, the_plan)
    assert result.deleted == [] and result.unchanged == [ObjectKey("v1", "ConfigMap", "ns", "wf-old")]


def test_api_errors_surface_unchanged_for_the_loop_to_route(cluster: MemoryCluster) -> None:
    do_sync(cluster, [job()])
    with pytest.raises(Invalid, match="immutable"):  # a Job's pod template cannot change: spec error
        do_sync(cluster, [job(image="img@sha256:2")])
    from reconciler.cluster import FaultInjector

    cluster.faults = FaultInjector()
    cluster.faults.schedule("apply", 503)
    with pytest.raises(ServerError) as caught:
        do_sync(cluster, [job(), config_map()])
    assert is_transient(caught.value)


def test_numbers_compare_as_json_numbers_but_booleans_stay_booleans() -> None:
    desired = config_map() | {"spec": {"n": 3, "flag": True}}
    assert diff_owned(desired, desired | {"spec": {"n": 3.0, "flag": True}}) == []
    assert diff_owned(desired, desired | {"spec": {"n": 3, "flag": 1}}) != []


def test_finalizers_compare_as_a_set() -> None:
    desired = config_map()
    desired["metadata"]["finalizers"] = ["kubernaut.ai/cleanup"]
    live = copy.deepcopy(desired)
    live["metadata"]["finalizers"] = ["other.io/x", "kubernaut.ai/cleanup"]
    assert diff_owned(desired, live) == []
    live["metadata"]["finalizers"] = ["other.io/x"]
    assert diff_owned(desired, live) == ['+ .metadata.finalizers[0]: "kubernaut.ai/cleanup"']
