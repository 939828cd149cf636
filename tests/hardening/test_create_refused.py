"""Issue #15, item 5: when the API server refuses to create a step's Job (V1) or the workflow's
PipelineRun (V2), the cause reaches the status at once — a quota is retried with backoff and the
status says so; a 422 (or any refusal that a retry cannot change) fails the step with the reason —
instead of nothing happening until the workflow's timeout."""

from __future__ import annotations

from typing import Any

import pytest
from refusal_harness import RefusingHarness, quota_error
from support.workflows import step, workflow

from reconciler.cluster import ApiError, Invalid

ENGINES = ("jobs", "tekton")
#: What each engine creates to run a step, and so what the API server refuses.
CREATED = {"jobs": "Job", "tekton": "PipelineRun"}


def _workflow(name: str, engine: str) -> dict[str, Any]:
    return workflow(name, step("only", inputs={"x": 1}) + step("next", after=["only"]), spec=f"engine: {engine}")


def _invalid(obj: dict[str, Any]) -> ApiError:
    return Invalid(f'{obj["kind"]}.batch "{obj["metadata"]["name"]}" is invalid: spec.template.spec.containers[0]'
                   '.resources.requests: Invalid value: "2": must be less than or equal to cpu limit')


@pytest.mark.parametrize("engine", ENGINES)
def test_an_invalid_create_fails_the_step_at_once_with_the_api_servers_reason(engine: str) -> None:
    h = RefusingHarness()
    h.refuse(CREATED[engine], _invalid)
    h.create(_workflow("refused", engine))
    assert h.run()
    status = h.status("refused")
    assert status["phase"] == "Failed"
    only = h.step("refused", "only")
    assert only["phase"] == "Failed"
    assert only["failure"]["reason"] == "Forbidden"
    assert "the API server refused to create" in only["message"]
    assert "422 Invalid" in only["message"] and "must be less than or equal to cpu limit" in only["message"]
    assert h.step("refused", "next")["phase"] == "Skipped"
    assert status["failureDetails"]["reason"] == "Forbidden"
    # At once: not after the step's (10m) or the workflow's (1h) timeout, and refused once only.
    assert len(h.refused) == 1
    assert h.events("Forbidden")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_quota_is_retried_with_backoff_and_the_status_says_so(engine: str) -> None:
    h = RefusingHarness()
    kind = CREATED[engine]
    h.refuse(kind, lambda obj: quota_error(kind, obj["metadata"]["name"]))
    h.create(_workflow("quota", engine))
    h.run_for(120)
    status = h.status("quota")
    assert status["phase"] == "Running"
    said = h.step("quota", "only")["message"] if engine == "jobs" else status["message"]
    assert said.startswith("waiting: the API server refused to create"), said
    assert "exceeded quota" in said and "retrying in" in said
    assert h.events("CreateRetrying")
    # Backoff: far fewer tries than seconds waited, and the waits grow.
    tries = len(h.refused)
    assert 3 <= tries <= 20, tries
    h.allow(kind)
    assert h.run()
    assert h.status("quota")["phase"] == "Succeeded"
    assert h.step("quota", "only")["message"] is None or not h.step("quota", "only")["message"].startswith("waiting")
    assert not (h.status("quota").get("message") or "").startswith("waiting")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_forbidden_create_that_is_not_a_quota_fails_at_once(engine: str) -> None:
    h = RefusingHarness()
    h.refuse(CREATED[engine], lambda obj: ApiError(403, "Forbidden", 'admission webhook "policy.example" denied '
                                                   "the request: images from this registry are not allowed"))
    h.create(_workflow("denied", engine))
    assert h.run()
    only = h.step("denied", "only")
    assert (only["phase"], only["failure"]["reason"]) == ("Failed", "Forbidden")
    assert "denied the request" in only["message"]
    assert len(h.refused) == 1
