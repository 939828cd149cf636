"""Regression (fault campaign): a cancel whose status write fails is retried, and the retry still
says "cancelled" for the steps that never ran.

The first try stops the running step (its ActionExecution or TaskRun ends Cancelled), then its
status write fails. The retry observes that Cancelled step, the engine writes the steps after it
off as "not run: workflow failed" (Skipped), and the cancel used to keep that: a Cancelled
workflow whose unstarted steps claimed a failure that never happened, unlike a cancel that
succeeds at once ("not run: workflow cancelled", Cancelled)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from campaign import WFE_KIND, Campaign, CampaignConfig

from reconciler.cluster import FaultInjector


@pytest.fixture(autouse=True)
def quiet() -> Iterator[None]:
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def cancelled_workflow_steps(engine: str, fail_first_cancel_write: bool) -> dict[str, tuple[str, int, str]]:
    # Five workflows, one of each shape; the fifth is cancelled while its long step runs.
    campaign = Campaign(CampaignConfig(workflows=5, engine=engine, error_rate=0.0, lost_response_rate=0.0,
                                       watch_expiry_rate=0.0, restart_every=None, delete_at_end=False))
    faults: FaultInjector = campaign.faults
    update = campaign.user.update

    def cancel(obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        answer = update(obj, **options)
        if fail_first_cancel_write:  # the next status write of a workflow is the cancel's
            faults.schedule("patch_status", 500, kind=WFE_KIND)
        return answer

    campaign.user.update = cancel  # type: ignore[method-assign]
    report = campaign.run()
    assert report.converged
    if fail_first_cancel_write:
        assert faults.counts["500"] == 1
    status = next(w for w in campaign.cluster.objects(WFE_KIND) if w["metadata"]["name"].endswith("cancelled"))
    assert status["status"]["phase"] == "Cancelled"
    return {s["name"]: (s["phase"], s["attempts"], s["message"]) for s in status["status"]["steps"]}


@pytest.mark.parametrize("engine", ["jobs", "tekton"])
def test_a_retried_cancel_reports_the_unstarted_steps_as_cancelled(engine: str) -> None:
    expected = {"hold": ("Cancelled", 1, "cancelled"), "build": ("Cancelled", 0, "not run: workflow cancelled")}
    assert cancelled_workflow_steps(engine, fail_first_cancel_write=False) == expected
    assert cancelled_workflow_steps(engine, fail_first_cancel_write=True) == expected
