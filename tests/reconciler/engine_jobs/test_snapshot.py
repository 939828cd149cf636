"""Issue 15 item 1 / issue 13 "compile once": every Job is built from the verified snapshot (the
ActionExecution's ``spec.jobTemplate``), never from a later edit of the WorkflowExecution. Where the
CRD's immutability rule is not enforced (simulated here by switching MemoryCluster's CEL rules
off), an edited spec makes the workflow fail closed (``SpecModified``): the edited image or service
account never runs, with or without a controller restart, and no step starts from the edit."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from jobs_engine_harness import AE, IMAGE, OTHER_IMAGE, Harness, echo_step, outcomes, workflow

from reconciler.cluster import validation
from reconciler.inspect.engine_objects import step_attempts
from targets.jobs import job_from_template

FAIL_FIRST = "steps: {a: [{result: failed, message: boom}, {}]}"
Edit = Callable[[dict[str, Any]], None]


@pytest.fixture
def no_crd_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """An API server without the CRD's transition rule (CRDs of an older release, or none)."""
    monkeypatch.setattr(validation, "rule_violation", lambda *args, **kwargs: None)


def _image(spec: dict[str, Any]) -> None:
    spec["steps"][0]["image"] = OTHER_IMAGE


def _account(spec: dict[str, Any]) -> None:
    spec["serviceAccountName"] = "cluster-admin-sa"


def _edit(h: Harness, name: str, edit: Edit) -> None:
    wfe = copy.deepcopy(h.wfe(name))
    edit(wfe["spec"])
    h.cluster.update(wfe)


def _pod_specs(h: Harness) -> list[dict[str, Any]]:
    return [j.obj["spec"]["template"]["spec"] for j in h.job_creations()]


@pytest.mark.usefixtures("no_crd_rules")
@pytest.mark.parametrize("restart", [False, True], ids=["same-process", "after-restart"])
@pytest.mark.parametrize("edit", [_image, _account], ids=["image", "serviceAccountName"])
def test_an_edit_between_attempts_never_runs(edit: Edit, restart: bool) -> None:
    h = Harness(outcomes=outcomes(FAIL_FIRST), default_duration=5.0)
    h.create(workflow("pinned", echo_step("a", retries=2)))
    assert h.manager.run_until(lambda: len(h.job_creations()) >= 1, max_virtual_seconds=60)
    _edit(h, "pinned", edit)
    if restart:
        h.restart()
    assert h.run()
    h.manager.run_until_idle()
    pods = _pod_specs(h)
    assert pods and all(p["containers"][0]["image"] == IMAGE for p in pods)
    assert all(p["serviceAccountName"] != "cluster-admin-sa" for p in pods)
    status = h.status("pinned")
    assert (status["phase"], status["failureDetails"]["reason"]) == ("Failed", "SpecModified")
    assert status["message"].startswith("the spec changed after the workflow started")
    assert h.steps("pinned")["a"][0] == "Cancelled"
    (ae,) = h.objects("ActionExecution")  # the attempt that ran when the edit came is stopped
    assert ae["status"]["phase"] == "Cancelled"
    assert [e["image"] for e in ae["status"]["attemptHistory"]] == [IMAGE] * len(pods)
    assert ("Warning", "SpecModified") in {(t, r) for t, r, _ in h.events("pinned")}


@pytest.mark.usefixtures("no_crd_rules")
def test_a_step_not_started_yet_is_never_created_from_an_edit() -> None:
    h = Harness(default_duration=5.0)
    h.create(workflow("later", echo_step("a") + echo_step("b", after=["a"])))
    assert h.manager.run_until(lambda: len(h.job_creations()) >= 1, max_virtual_seconds=60)
    _edit(h, "later", lambda spec: spec["steps"][1].update(image=OTHER_IMAGE))
    assert h.run()
    h.manager.run_until_idle()
    assert [a["spec"]["step"] for a in h.objects("ActionExecution")] == ["a"]
    assert len(h.job_creations()) == 1
    assert {name: phase for name, (phase, _) in h.steps("later").items()} == {"a": "Cancelled", "b": "Skipped"}
    assert h.status("later")["failureDetails"]["reason"] == "SpecModified"


@pytest.mark.usefixtures("no_crd_rules")
def test_cancel_is_the_one_change_that_still_works() -> None:
    h = Harness(default_duration=60.0)
    h.create(workflow("stop", echo_step("a")))
    assert h.manager.run_until(lambda: len(h.job_creations()) >= 1, max_virtual_seconds=60)
    _edit(h, "stop", lambda spec: spec.update(cancel=True))
    assert h.run()
    status = h.status("stop")
    assert (status["phase"], status["message"]) == ("Cancelled", "cancelled: spec.cancel is true")


def test_every_attempt_is_the_job_template_of_its_action_execution() -> None:
    # The plan is compiled once, when the step starts: the attempts are that template with the
    # attempt's number and the verified image, and nothing else.
    h = Harness(outcomes=outcomes("steps: {a: [{result: failed}, {result: failed}, {}]}"))
    h.create(workflow("plan", echo_step("a", retries=2, inputs={"x": 1})))
    assert h.run()
    (ae,) = h.objects("ActionExecution")
    template = ae["spec"]["jobTemplate"]
    jobs = [j.obj for j in h.job_creations()]
    assert [j["metadata"]["name"] for j in jobs] == [e["job"] for e in ae["status"]["attemptHistory"]]
    for attempt, job in enumerate(jobs, start=1):
        expected = job_from_template(template, job["metadata"]["name"], "default", attempt, IMAGE)
        # Compared as planned (the API server adds a selector and its own pod labels).
        assert job["spec"]["template"]["spec"] == expected["spec"]["template"]["spec"]
        assert job["spec"]["activeDeadlineSeconds"] == expected["spec"]["activeDeadlineSeconds"]
        assert job["metadata"]["labels"] == expected["metadata"]["labels"]
        assert job["spec"]["template"]["spec"]["containers"][0]["env"][-1] == {"name": "KUBERNAUT_ATTEMPT",
                                                                              "value": str(attempt)}
    assert h.app.compiler.misses == 1  # the workflow controller's one compile; none per Job


def test_an_action_execution_runs_from_its_spec_alone_without_its_workflow() -> None:
    # No parent read: an ActionExecution whose workflow does not exist (its owner reference
    # names none) still runs every attempt from spec.jobTemplate.
    h = Harness(outcomes=outcomes("steps: {a: [{result: failed}, {}]}"))
    h.create(workflow("source", echo_step("a", retries=1)))
    assert h.run()
    (original,) = h.objects("ActionExecution")
    orphan = {"apiVersion": AE[0], "kind": AE[1],
              "metadata": {"name": "orphan-a", "namespace": "default", "labels": original["metadata"]["labels"]},
              "spec": copy.deepcopy(original["spec"])}
    orphan["metadata"]["labels"] = {**orphan["metadata"]["labels"], "kubernaut.ai/workflow": "orphan",
                                    "kubernaut.ai/step": "a"}
    h.cluster.create(orphan)
    # Its Jobs carry the template's labels (those of "source"), so only its own timer wakes it.
    assert h.manager.run_until(lambda: (h.cluster.get(*AE, "orphan-a", "default").get("status") or {})
                               .get("phase") == "Succeeded", max_virtual_seconds=3600)
    status = h.cluster.get(*AE, "orphan-a", "default")["status"]
    assert [e["image"] for e in status["attemptHistory"]] == [IMAGE, IMAGE]


def test_the_attempt_in_progress_is_shown_by_inspect() -> None:
    # The ActionExecution has no status while attempt 1 runs (one write per outcome): describe,
    # inspect and logs still find its Job, by its deterministic name.
    h = Harness(default_duration=60.0)
    h.create(workflow("busy", echo_step("a")))
    assert h.manager.run_until(lambda: len(h.job_creations()) >= 1, max_virtual_seconds=60)
    (ae,) = h.objects("ActionExecution")
    assert not ae.get("status")
    found = step_attempts(h.cluster, h.wfe("busy"), "a")
    assert [(a.number, a.runner.name) for a in found.attempts] == [(1, h.job_creations()[0].name)]
    assert found.parent is not None and found.parent.state == "Running"
