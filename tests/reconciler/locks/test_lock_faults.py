"""Issue 12, target locks under faults: the controller restarted at every reconcile boundary, and
API errors with lost responses. Never two holders (two running workflows of the target), no
stuck waiter, creation order kept."""

from __future__ import annotations

import random

import pytest
from locks_scenario import check_serialised, harness

from reconciler.cluster import FaultInjector


def _baseline() -> int:
    h = harness()
    assert h.run()
    check_serialised(h)
    return sum(c.stats.reconciles for c in h.manager.controllers if c.name == "workflowexecutions")


TOTAL = _baseline()


@pytest.mark.parametrize("k", range(1, TOTAL + 1))
def test_restart_after_k_workflow_reconciles(k: int) -> None:
    h = harness()
    h.run_reconciles(k, kubernaut_only=True)
    h.restart()
    assert h.run()
    check_serialised(h)


@pytest.mark.parametrize("seed", range(4))
def test_many_restarts(seed: int) -> None:
    # A new controller after every 3-12 of kubernaut's reconciles (shorter lives starve the keys
    # late in relist order, as in tests/reconciler/engine_jobs/test_faults.py).
    h = harness()
    rnd = random.Random(seed)
    for _ in range(50 * TOTAL):
        if h.settled():
            break
        h.run_reconciles(rnd.randint(3, 12), kubernaut_only=True)
        h.restart()
    assert h.settled()
    assert h.restarts >= 5
    check_serialised(h)


@pytest.mark.parametrize("seed", range(4))
def test_api_errors_and_restarts_together(seed: int) -> None:
    faults = FaultInjector(rate=0.1, lost_response_rate=0.1, seed=50 + seed)
    h = harness(faults)
    rnd = random.Random(seed)
    for _ in range(200):
        if h.settled():
            break
        h.run_reconciles(rnd.randint(3, 15))
        h.restart()
    assert h.run()
    check_serialised(h)


@pytest.mark.parametrize("seed", range(6))
def test_api_errors_and_lost_responses(seed: int) -> None:
    faults = FaultInjector(rate=0.1, lost_response_rate=0.1, seed=seed)
    h = harness(faults)
    assert h.run()
    assert faults.injected > 5
    check_serialised(h)
