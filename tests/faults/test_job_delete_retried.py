"""Regression (issue 15, item 6): "a failed Job delete after an attempt ends is never retried".

An attempt whose container never starts (ImagePullBackOff) is failed by the ActionExecution
controller, recorded first, then its Job is deleted. When that delete failed, the next reconcile
saw the attempt recorded as ended and went on (a retry, or the final phase): the Job stayed,
its pod pending, until its activeDeadlineSeconds."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Iterator

import pytest
from campaign import IMAGE, KUBERNAUT, NAMESPACE

from compiler.spec import API_VERSION, KIND
from reconciler.app import AppConfig, install
from reconciler.cluster import FaultInjector
from reconciler.simulation import Simulation, parse_outcomes
from reconciler.simulation.wiring import simulated_pods
from reconciler.status import TERMINAL_WORKFLOW_PHASES
from reconciler.verification import ImagePolicy

OUTCOMES = parse_outcomes(textwrap.dedent("""
    steps:
      pull: [{result: failed, reason: ImagePullBackOff}]
""")).outcomes


@pytest.fixture(autouse=True)
def quiet() -> Iterator[None]:
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def running_jobs_after_the_workflow_failed(retries: int, failed_deletes: int) -> list[str]:
    sim = Simulation(outcomes=OUTCOMES)
    install(sim.manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods),
            cluster=sim.cluster.client(KUBERNAUT))
    faults = FaultInjector(clients={KUBERNAUT})
    faults.schedule("delete", 500, kind="Job", times=failed_deletes)
    sim.cluster.faults = faults
    sim.cluster.create({"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "wf", "namespace": NAMESPACE},
                        "spec": {"steps": [{"name": "pull", "actionType": "custom/thing", "image": IMAGE,
                                            "retries": retries, "timeout": "1h"}]}})

    def failed() -> bool:
        wfe = sim.cluster.get(API_VERSION, KIND, "wf", NAMESPACE)
        return (wfe.get("status") or {}).get("phase") in TERMINAL_WORKFLOW_PHASES

    assert sim.run_until(failed, max_seconds=600)
    ended = sim.clock.monotonic()
    sim.run_until(lambda: sim.clock.monotonic() > ended + 120, max_seconds=120)  # well before the 1h deadline
    assert sim.cluster.get(API_VERSION, KIND, "wf", NAMESPACE)["status"]["phase"] == "Failed"
    running = [job["metadata"]["name"] for job in sim.cluster.objects("Job")
               if not job["metadata"].get("deletionTimestamp")
               and not any(c.get("status") == "True" for c in (job.get("status") or {}).get("conditions") or [])]
    assert faults.counts["500"] == failed_deletes or running
    return running


@pytest.mark.parametrize("retries", [0, 1])
def test_the_delete_of_an_ended_attempts_job_is_retried_until_it_is_gone(retries: int) -> None:
    assert running_jobs_after_the_workflow_failed(retries, failed_deletes=0) == []
    assert running_jobs_after_the_workflow_failed(retries, failed_deletes=2) == []
