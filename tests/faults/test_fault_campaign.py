"""Issue 15, item 6: the fault campaign, small and bounded. Workflows of every outcome (success,
retries then success, failure after retries, attempts timing out, cancellation; some waiting
for a shared target's lock) run on both engines under 20% API errors, 10% lost responses, 30% of
watch rounds ending in 410 Gone and random controller restarts, faults reaching kubernaut's
requests only. Exactly the right final phases and attempts, no duplicate Job/PipelineRun, no
leak, and convergence within a virtual-time bound (see ``campaign.py`` for the invariants)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from campaign import SHAPES, Campaign, CampaignConfig, Report

ENGINES = ("jobs", "tekton")
WORKFLOWS = 15  # three of each shape
#: Every workflow final and cleaned up well before its 1-hour timeout (the steps take seconds;
#: a lost wake-up shows as a workflow waiting for that timeout).
BOUND = 1800.0


@pytest.fixture(autouse=True)
def quiet() -> Iterator[None]:
    # Thousands of injected faults each log a warning; they are expected here.
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def run(engine: str, seed: int, **options: object) -> Report:
    config = CampaignConfig(workflows=WORKFLOWS, engine=engine, seed=seed, max_virtual_seconds=BOUND,
                            **options)  # type: ignore[arg-type]
    report = Campaign(config).run()
    assert report.converged and report.deleted, "\n".join(report.lines())
    return report


def assert_clean(report: Report) -> None:
    assert report.wrong == [], "\n".join(report.lines())
    assert report.duplicates == [], "\n".join(report.lines())
    assert report.leaks == [], "\n".join(report.lines())
    assert report.phases == report.expected_phases


@pytest.mark.parametrize("engine", ENGINES)
def test_without_faults_every_workflow_ends_as_its_script_says(engine: str) -> None:
    # The expectations themselves are right: a clean run meets them.
    report = run(engine, 0, error_rate=0.0, lost_response_rate=0.0, watch_expiry_rate=0.0, restart_every=None)
    assert_clean(report)
    assert report.faults == {} and report.restarts == 0
    assert dict(report.expected_phases) == {"Succeeded": 6, "Failed": 6, "Cancelled": 3}
    assert len(SHAPES) * 3 == WORKFLOWS


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("engine", ENGINES)
def test_api_errors_lost_responses_410s_and_restarts_change_nothing(engine: str, seed: int) -> None:
    report = run(engine, seed)
    assert_clean(report)
    # The faults really happened (the test would pass vacuously otherwise).
    for fault in ("500", "409", "429", "timeout", "lost response", "watch expired"):
        assert report.faults[fault] > 0, (fault, report.faults)
    assert report.relists_after_expiry > 0
    assert report.restarts >= 2


@pytest.mark.parametrize("engine", ENGINES)
def test_410s_alone_cost_no_time(engine: str) -> None:
    # Every third watch round ends in 410 and the informers re-list; nothing waits for a timer.
    calm = run(engine, 5, error_rate=0.0, lost_response_rate=0.0, watch_expiry_rate=0.0, restart_every=None)
    expiring = run(engine, 5, error_rate=0.0, lost_response_rate=0.0, restart_every=None)
    assert_clean(expiring)
    assert expiring.relists_after_expiry > 10
    assert expiring.virtual_seconds == calm.virtual_seconds
