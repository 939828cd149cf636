"""reconciler.engines.in_sync: a shared object found in sync is not diffed again while its
version (uid, resourceVersion) and the desired object stay the same (issue 13: every workflow's
start diffed the same meta-Task and ServiceAccounts against the same versions)."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest

import reconciler.apply
from reconciler.apply import MANAGED_BY, MANAGED_BY_LABEL, WORKFLOW_LABEL, Action, execute
from reconciler.cluster import NotFound
from reconciler.cluster.memory import MemoryCluster
from reconciler.engines.in_sync import InSync

NS = "default"
SELECTOR = {MANAGED_BY_LABEL: MANAGED_BY, WORKFLOW_LABEL: "wf"}


def _account(annotation: str = "one") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "runner", "namespace": NS, "annotations": {"note": annotation}}}


def _config() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "per-workflow", "namespace": NS, "labels": dict(SELECTOR)}, "data": {"k": "v"}}


def _observed(cluster: MemoryCluster, desired: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for obj in desired:
        with contextlib.suppress(NotFound):  # not created yet
            found.append(cluster.get(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], NS))
    return found


@pytest.fixture
def diffs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the objects ``reconciler.apply.plan`` diffs."""
    seen: list[str] = []
    original = reconciler.apply.diff_owned

    def counted(desired: dict[str, Any], observed: dict[str, Any], **kwargs: Any) -> list[str]:
        seen.append(desired["metadata"]["name"])
        return original(desired, observed, **kwargs)

    monkeypatch.setattr(reconciler.apply, "diff_owned", counted)
    return seen


def _plan(in_sync: InSync, cluster: MemoryCluster, desired: list[dict[str, Any]]) -> reconciler.apply.Plan:
    return in_sync.plan(desired, _observed(cluster, desired), owned_selector=SELECTOR, default_namespace=NS)


def test_an_object_found_in_sync_is_not_diffed_again_at_the_same_version(diffs: list[str]) -> None:
    cluster, in_sync = MemoryCluster(), InSync()
    execute(cluster, _plan(in_sync, cluster, [_account()]))  # created: nothing diffed yet
    assert diffs == []
    assert [c.action for c in _plan(in_sync, cluster, [_account()]).changes] == [Action.NOOP]
    assert diffs == ["runner"]
    for _ in range(3):  # the same version, the same desired object: left out of the plan
        assert _plan(in_sync, cluster, [_account(), _config()]).creates[0].key.name == "per-workflow"
    assert diffs == ["runner"]


def test_another_version_or_another_desired_object_is_diffed_again(diffs: list[str]) -> None:
    cluster, in_sync = MemoryCluster(), InSync()
    execute(cluster, _plan(in_sync, cluster, [_account()]))
    _plan(in_sync, cluster, [_account()])
    assert diffs == ["runner"]
    # Someone changed the live object (a new resourceVersion): diffed, and put back.
    live = copy.deepcopy(cluster.get("v1", "ServiceAccount", "runner", NS))
    live["metadata"]["annotations"]["note"] = "edited"
    cluster.update(live)
    changed = _plan(in_sync, cluster, [_account()])
    assert [c.action for c in changed.changes] == [Action.PATCH] and diffs == ["runner", "runner"]
    execute(cluster, changed)
    assert _plan(in_sync, cluster, [_account()]).noops and diffs == ["runner"] * 3
    # A new desired object at the same version: diffed, and patched.
    assert [c.action for c in _plan(in_sync, cluster, [_account("two")]).changes] == [Action.PATCH]
    assert diffs == ["runner"] * 4


def test_a_recreated_object_is_diffed_again(diffs: list[str]) -> None:
    cluster, in_sync = MemoryCluster(), InSync()
    execute(cluster, _plan(in_sync, cluster, [_account()]))
    _plan(in_sync, cluster, [_account()])
    cluster.delete("v1", "ServiceAccount", "runner", NS)
    execute(cluster, _plan(in_sync, cluster, [_account()]))  # created again: another uid
    assert _plan(in_sync, cluster, [_account()]).noops
    assert diffs == ["runner", "runner"]


def test_it_is_bounded() -> None:
    cluster, in_sync = MemoryCluster(), InSync(max_entries=2)
    accounts = [{**_account(), "metadata": {**_account()["metadata"], "name": f"a{i}"}} for i in range(4)]
    execute(cluster, _plan(in_sync, cluster, accounts))
    _plan(in_sync, cluster, accounts)
    assert len(in_sync._seen) == 2
