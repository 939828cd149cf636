"""Issue 15 item 1 on V2: a running tekton workflow whose spec is edited underneath (possible only
where the CRD's immutability rule is not enforced; simulated by switching MemoryCluster's CEL
rules off) fails closed with ``SpecModified``, as on V1 (tests/reconciler/engine_jobs/test_snapshot.py).

What the engine does: it cancels the PipelineRun (``spec.status: Cancelled``, so Tekton cancels the
running TaskRun and starts no other), and nothing is built from the edit: no new or changed
Pipeline or PipelineRun, no TaskRun, and the edited image appears in none of them."""

from __future__ import annotations

import copy
import json

import pytest
from tekton_engine_harness import IMAGE, Harness, condition, outcomes, thing, workflow

from reconciler.cluster import validation
from reconciler.workflow_controller import FINALIZER

OTHER_IMAGE = "ghcr.io/kubernaut/actions/other@sha256:" + "b" * 64
SLOW = outcomes("""
    steps:
      first: [{duration: 2s}]
      long: [{duration: 10m}]
""")
STEPS = thing("first") + thing("long", after=["first"]) + thing("last", after=["long"])


@pytest.fixture(autouse=True)
def no_crd_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """An API server without the CRD's transition rule (CRDs of an older release, or none)."""
    monkeypatch.setattr(validation, "rule_violation", lambda *args, **kwargs: None)


@pytest.mark.parametrize("restart", [False, True], ids=["same-process", "after-restart"])
@pytest.mark.parametrize("step", [1, 2], ids=["running-step", "later-step"])
def test_an_image_edit_of_a_running_v2_workflow_fails_it_closed(step: int, restart: bool) -> None:
    h = Harness(outcomes=SLOW)
    h.create(workflow("edited", STEPS))
    assert h.run_until(lambda: h.steps("edited").get("long") == ("Running", 1))
    wfe = copy.deepcopy(h.wfe("edited"))
    wfe["spec"]["steps"][step]["image"] = OTHER_IMAGE
    h.cluster.update(wfe)
    edit_rv = int(h.cluster.resource_version)
    if restart:
        h.restart()
    assert h.run()
    h.manager.run_until_idle()

    status = h.status("edited")
    assert (status["phase"], status["failureDetails"]["reason"]) == ("Failed", "SpecModified")
    assert status["message"].startswith("the spec changed after the workflow started")
    assert h.steps("edited") == {"first": ("Succeeded", 1), "long": ("Cancelled", 1), "last": ("Skipped", 0)}
    assert any(t == "Warning" and r == "SpecModified" for t, r, _ in h.events("edited"))
    assert FINALIZER not in (h.wfe("edited")["metadata"].get("finalizers") or [])
    # The run is cancelled, and Tekton cancels the TaskRun that ran.
    pr = h.pipelinerun("edited")
    assert pr["spec"]["status"] == "Cancelled"
    assert condition(pr)[1] == "Cancelled"
    taskruns = h.taskruns("edited")
    assert sorted(taskruns) == ["first", "long"]
    assert taskruns["long"]["spec"]["status"] == "TaskRunCancelled"
    # Nothing was created from the edit, and nothing kubernaut wrote carries the edited image.
    created = [s for s in h.seen() if s.type == "ADDED" and s.kind in ("Pipeline", "PipelineRun", "TaskRun")]
    assert all(s.rv < edit_rv for s in created)
    written = [s.obj for s in h.seen() if s.kind in ("Pipeline", "PipelineRun", "TaskRun")]
    assert any(IMAGE in json.dumps(obj) for obj in written)  # images are spelled out in these objects
    assert all(OTHER_IMAGE not in json.dumps(obj) for obj in written)
    specs = [s.obj["spec"] for s in h.seen("PipelineRun")]
    assert all({k: v for k, v in spec.items() if k != "status"} == specs[0] for spec in specs)
