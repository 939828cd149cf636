"""Issue 15 item 1: a workflow frees the Lease it took, not the one its current spec names.

Where the CRD's immutability rule is not enforced (simulated by switching MemoryCluster's CEL
rules off), an edit of ``spec.targetResource`` makes a running workflow fail ``SpecModified``;
its release must still free the original target's Lease (recorded on the workflow when it was
labelled), at once and not only when another workflow takes it over."""

from __future__ import annotations

import copy

import pytest
from jobs_engine_harness import Harness, outcomes
from locks_scenario import SCRIPT, remediation, running_at_once

from compiler import ir
from reconciler.cluster import validation
from reconciler.locks import LEASE_ANNOTATION, lease_name

PAYMENTS = ir.TargetRef(kind="Deployment", name="payments", namespace="default")


@pytest.fixture(autouse=True)
def no_crd_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """An API server without the CRD's transition rule (CRDs of an older release, or none)."""
    monkeypatch.setattr(validation, "rule_violation", lambda *args, **kwargs: None)


def _retarget(h: Harness, name: str) -> None:
    wfe = copy.deepcopy(h.wfe(name))
    wfe["spec"]["targetResource"]["name"] = "checkout"
    h.cluster.update(wfe)


def _holder(h: Harness, target: ir.TargetRef) -> str | None:
    lease = h.cluster.get("coordination.k8s.io/v1", "Lease", lease_name(target), target.namespace)
    return (lease.get("spec") or {}).get("holderIdentity")


def _started(h: Harness, name: str) -> bool:
    return bool((h.wfe(name).get("status") or {}).get("engine"))


def test_a_retargeted_workflow_frees_the_lease_it_took() -> None:
    h = Harness(outcomes=outcomes(SCRIPT))
    h.create(remediation("first"))
    assert h.manager.run_until(lambda: len(h.job_creations()) >= 1, max_virtual_seconds=60)
    assert (_holder(h, PAYMENTS) or "").startswith("default/first/")
    assert h.wfe("first")["metadata"]["annotations"][LEASE_ANNOTATION] == f"default/{lease_name(PAYMENTS)}"
    _retarget(h, "first")
    assert h.run()
    assert h.status("first")["failureDetails"]["reason"] == "SpecModified"
    # Freed by the release itself (no other workflow exists to take it over), and no Lease was
    # ever made for the edited target.
    assert _holder(h, PAYMENTS) is None
    assert [lease["metadata"]["name"] for lease in h.objects("Lease")] == [lease_name(PAYMENTS)]


def test_a_waiter_on_the_original_target_starts_after_the_edit() -> None:
    h = Harness(outcomes=outcomes(SCRIPT))
    h.create(remediation("first"))
    h.clock.advance(1.0)
    h.create(remediation("second"))
    assert h.manager.run_until(lambda: len(h.job_creations()) >= 1
                               and h.status("second").get("phase") == "Pending", max_virtual_seconds=60)
    _retarget(h, "first")
    assert h.manager.run_until(lambda: _started(h, "second"), max_virtual_seconds=60)
    assert (_holder(h, PAYMENTS) or "").startswith("default/second/")
    assert h.run()
    assert (h.status("first")["phase"], h.status("second")["phase"]) == ("Failed", "Succeeded")
    assert running_at_once(h) == 1
    assert _holder(h, PAYMENTS) is None
