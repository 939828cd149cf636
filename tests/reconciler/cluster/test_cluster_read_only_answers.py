"""Request bodies copied in once, answers shared with clients that never edit them (issue 13).

A request body is taken in as one read-only copy, checked to be JSON on the same walk; a client
made with ``read_only_answers`` (kubernaut's controllers, the simulators) is answered with the
stored snapshot itself, any other caller with a private copy, as a real API server's would be.
"""

from __future__ import annotations

import copy
import json
import random
from typing import TYPE_CHECKING, Any

import pytest

from reconciler.cluster import BadRequest
from reconciler.cluster import server_side_apply as server_side_apply_module
from reconciler.cluster import snapshots as snapshots_module
from reconciler.cluster import validation as validation_module
from reconciler.cluster.memory import MemoryCluster
from reconciler.cluster.snapshots import FrozenDict, FrozenList, freeze, frozen_json

if TYPE_CHECKING:
    from conftest import Builders


def _answers(cluster: MemoryCluster, make: Builders, read_only: bool) -> list[dict[str, Any]]:
    client = cluster.client("c", read_only_answers=read_only)
    created = client.create(make.configmap("a"))
    return [
        created,
        client.get("v1", "ConfigMap", "a", "default"),
        client.list("v1", "ConfigMap").items[0],
        client.update({**copy.deepcopy(created), "data": {"key": "new"}}),
        client.apply(make.configmap("b")),
        client.create(make.workflow(), dry_run=True),
        client.patch_status("workflowexecution.kubernaut.ai/v1alpha1", "WorkflowExecution", "wf", "default",
                            {"phase": "Running"}) if client.create(make.workflow()) else {},
    ]


def test_a_read_only_client_is_answered_with_the_stored_snapshots(cluster: MemoryCluster, make: Builders) -> None:
    answers = _answers(cluster, make, read_only=True)
    assert all(type(answer) is FrozenDict for answer in answers)
    for answer in answers:
        with pytest.raises(TypeError, match="read-only"):
            answer["metadata"]["labels"] = {}
    # Not a copy: the very object the store (and every watcher) holds.
    got = cluster.client("c", read_only_answers=True).get("v1", "ConfigMap", "a", "default")
    assert got is cluster.client("c", read_only_answers=True).get("v1", "ConfigMap", "a", "default")


def test_any_other_caller_gets_a_private_mutable_copy(cluster: MemoryCluster, make: Builders) -> None:
    for answer in _answers(cluster, make, read_only=False):
        assert type(answer) is dict
        answer["metadata"]["labels"] = {"edited": "yes"}  # the caller's own
    assert "labels" not in cluster.get("v1", "ConfigMap", "a", "default")["metadata"]
    assert "labels" not in cluster.get("v1", "ConfigMap", "b", "default")["metadata"]


def test_the_body_is_copied_in_once_and_later_edits_of_it_change_nothing(
        cluster: MemoryCluster, make: Builders, monkeypatch: pytest.MonkeyPatch) -> None:
    walks: list[object] = []
    real = snapshots_module.frozen_json

    def counting(value: object) -> object:
        walks.append(value)
        return real(value)

    monkeypatch.setattr(snapshots_module, "frozen_json", counting)  # the walk's own recursion
    monkeypatch.setattr(validation_module, "frozen_json", counting)  # where a request starts it
    job = make.job("j")
    cluster.client("c", read_only_answers=True).create(job)
    # One walk over the body, one call per nested dict or list (a second copy would double it).
    nested = 0
    stack: list[Any] = [job]
    while stack:
        node = stack.pop()
        children = list(node.values()) if isinstance(node, dict) else node
        nested += 1
        stack.extend(child for child in children if isinstance(child, dict | list))
    assert len(walks) == nested
    job["spec"]["template"]["spec"]["containers"][0]["image"] = "evil"
    job["metadata"]["name"] = "other"
    stored = cluster.get("batch/v1", "Job", "j", "default")
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox"
    # The Job defaulting (selector, pod-template labels) built new parts instead of editing the body.
    assert stored["spec"]["selector"]["matchLabels"]
    assert "labels" not in job["spec"]["template"].get("metadata", {})


def test_frozen_parts_of_a_body_are_taken_as_they_are_and_share_the_stored_version(
        cluster: MemoryCluster, make: Builders) -> None:
    client = cluster.client("c", read_only_answers=True)
    created = client.create(make.job("j", labels={"app": "x"}))
    # Sent back with one label changed, the rest the frozen parts it read.
    updated = client.update({**created, "metadata": {**created["metadata"], "labels": {"app": "y"}}})
    assert updated["spec"] is created["spec"]  # shared, not copied
    assert updated["metadata"]["labels"] == {"app": "y"}
    # An equal part frozen elsewhere is replaced by the stored one: versions keep sharing.
    again = client.update({**updated, "spec": frozen_json(copy.deepcopy(updated["spec"])),
                           "metadata": {**updated["metadata"], "labels": {"app": "z"}}})
    assert again["spec"] is created["spec"]


@pytest.mark.parametrize("bad, where", [
    ({"data": {"when": object()}}, "object.data.when: object is not JSON data"),
    ({"data": {1: "x"}}, "object.data: map keys must be strings, got 1"),
    ({"data": ("a", "b")}, "object.data: tuple is not JSON data"),
])
def test_a_body_that_is_not_json_is_refused_with_where(cluster: MemoryCluster, make: Builders,
                                                       bad: dict[str, Any], where: str) -> None:
    with pytest.raises(BadRequest, match=where.replace("(", r"\(").replace(")", r"\)")):
        cluster.client("c", read_only_answers=True).create({**make.configmap(), **bad})
    assert cluster.objects("ConfigMap") == []


def test_frozen_json_checks_exact_types_and_shares_frozen_parts() -> None:
    shared = freeze({"a": [1, 2]})
    out = frozen_json({"x": shared, "y": [{"z": None}], "n": 1.5})
    assert out["x"] is shared
    assert type(out["y"]) is FrozenList and type(out["y"][0]) is FrozenDict
    with pytest.raises(snapshots_module.NotJson):
        frozen_json({"k": {2, 3}})


def test_apply_deep_copies_only_to_remove_fields(cluster: MemoryCluster, make: Builders,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    copied: list[object] = []
    monkeypatch.setattr(server_side_apply_module.copy, "deepcopy", lambda value, *a: copied.append(value) or value)
    client = cluster.client("c", read_only_answers=True)
    first = client.apply({**make.pipeline_run("pr", labels={"a": "b"}), "extra": {"x": 1}}, field_manager="m")
    again = client.apply({**make.pipeline_run("pr", labels={"a": "b"}), "extra": {"x": 1}}, field_manager="m")
    assert copied == []  # the body, the live object and its managedFields are shared, not copied
    assert again["spec"] is first["spec"]
    monkeypatch.undo()
    dropped = client.apply(make.pipeline_run("pr", labels={"a": "b"}), field_manager="m")
    assert "extra" not in dropped and first["extra"] == {"x": 1}  # removal edits a copy of the live object
    body = make.pipeline_run("pr", labels={"a": "c"})
    client.apply(body, field_manager="m")
    body["spec"]["pipelineRef"]["name"] = "edited later"  # the caller's own body: not shared with the store
    assert cluster.get("tekton.dev/v1", "PipelineRun", "pr", "default")["spec"]["pipelineRef"]["name"] == "p"


def test_managed_fields_below_spec_are_one_shared_tree_across_objects_of_one_shape(
        cluster: MemoryCluster, make: Builders) -> None:
    client = cluster.client("c", read_only_answers=True)
    trees = []
    for name in ("pr-1", "pr-2"):
        owner = client.create(make.workflow(f"owner-of-{name}"))  # each run owned by its own workflow
        run = make.pipeline_run(name)
        run["metadata"]["ownerReferences"] = [make.owner_ref(owner)]
        fields = client.apply(run, field_manager="m")["metadata"]["managedFields"][0]["fieldsV1"]
        trees.append(fields)
    assert trees[0]["f:spec"] is trees[1]["f:spec"]  # one frozen tree, not one per object
    assert trees[0]["f:metadata"] != trees[1]["f:metadata"]  # the owners differ


def test_the_memoised_fields_tree_is_to_fields_v1_in_content_and_order() -> None:
    rng = random.Random(7)
    elements = ["f:a", "f:b", 'k:{"name":"x"}', "v:1", "f:spec"]
    for _ in range(2000):
        fields: set[tuple[str, ...]] = set()
        for _ in range(rng.randint(0, 10)):
            path = tuple(rng.choice(elements) for _ in range(rng.randint(1, 4)))
            fields.update(path[:i] for i in range(1, len(path) + 1))
        expected = server_side_apply_module.to_fields_v1(fields)
        got = server_side_apply_module._frozen_fields_v1(frozenset(fields))
        assert json.dumps(got) == json.dumps(expected)
