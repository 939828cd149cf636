"""Issue 12, target locks: one running workflow per target, waiters Pending with TargetLocked in
creation order, ``lockPolicy: fail`` -> Deduplicated, a Lease named from the target's hash."""

from __future__ import annotations

from jobs_engine_harness import Harness, echo_step, outcomes, workflow
from locks_scenario import SCRIPT, check_serialised, harness, remediation, running_at_once

from compiler import ir
from reconciler.locks import LOCK_LABEL, lease_name, lock_key


def test_three_workflows_on_one_target_run_one_at_a_time_in_creation_order() -> None:
    h = harness()
    assert h.run()
    check_serialised(h)


def test_waiters_are_pending_with_target_locked_naming_the_holder() -> None:
    h = harness()
    h.run_reconciles(12)
    first, second = h.status("first"), h.status("second")
    assert first["phase"] == "Running"
    assert second["phase"] == "Pending"
    ready = next(c for c in second["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "TargetLocked"
    assert "default/first" in ready["message"] and "Deployment default/payments" in ready["message"]
    # The lock is a Lease in the target's namespace, named from the target's hash, held and owned
    # by the running workflow.
    target = ir.TargetRef(kind="Deployment", name="payments", namespace="default")
    (lease,) = h.objects("Lease")
    assert lease["metadata"]["name"] == lease_name(target) == f"kubernaut-target-{lock_key(target)}"
    assert lease["spec"]["holderIdentity"].startswith("default/first/")
    owner = h.cluster.get("workflowexecution.kubernaut.ai/v1alpha1", "WorkflowExecution", "first", "default")
    assert lease["metadata"]["ownerReferences"][0]["uid"] == owner["metadata"]["uid"]
    assert owner["metadata"]["labels"][LOCK_LABEL] == lock_key(target)


def test_lock_policy_fail_ends_a_second_workflow_at_once_as_deduplicated() -> None:
    h = Harness(outcomes=outcomes(SCRIPT))
    h.create(remediation("first"))
    h.clock.advance(1.0)
    h.create(remediation("second", policy="fail"))
    assert h.run()
    assert h.status("first")["phase"] == "Succeeded"
    dup = h.status("second")
    assert dup["phase"] == "Failed"
    assert dup["failureDetails"]["reason"] == "Deduplicated"
    assert "locked by WorkflowExecution default/first" in dup["message"]
    assert next(c for c in dup["conditions"] if c["type"] == "Succeeded")["reason"] == "Deduplicated"
    assert h.steps("second") == {"fix": ("Skipped", 0), "check": ("Skipped", 0)}
    assert not h.objects("ActionExecution", "second")


def test_different_targets_do_not_wait_for_each_other() -> None:
    h = Harness(outcomes=outcomes(SCRIPT))
    h.create(remediation("a"))
    h.create(remediation("b", target="targetResource: {kind: Deployment, name: checkout}"))
    assert h.run()
    assert running_at_once(h) == 2


def test_a_deleted_holder_releases_the_lock() -> None:
    h = harness(names=("first", "second"))
    h.run_reconciles(12)
    assert h.status("first")["phase"] == "Running"
    h.cluster.delete("workflowexecution.kubernaut.ai/v1alpha1", "WorkflowExecution", "first", "default")
    assert h.run()
    assert h.status("second")["phase"] == "Succeeded"
    assert running_at_once(h) == 1


def test_a_lease_whose_holder_is_gone_is_taken_over() -> None:
    # The holder vanished without releasing (its finalizer was removed by hand, say).
    h = Harness(outcomes=outcomes(SCRIPT))
    target = ir.TargetRef(kind="Deployment", name="payments", namespace="default")
    h.cluster.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                      "metadata": {"name": lease_name(target), "namespace": "default"},
                      "spec": {"holderIdentity": "default/ghost/0000"}})
    h.create(remediation("first"))
    assert h.run()
    assert h.status("first")["phase"] == "Succeeded"


def test_workflows_without_a_target_are_not_locked() -> None:
    h = Harness(outcomes=outcomes(SCRIPT))
    h.create(workflow("free", echo_step("fix")))
    assert h.run()
    assert not h.objects("Lease")
