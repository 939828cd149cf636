"""Issue 6 acceptance: the same workflows and the same scripted outcomes give the same status on
``jobs`` (V1) and ``tekton`` (V2) — phases, attempts, outputs, messages, conditions — through the
library and through ``kubernaut run --output json``. Only times and ``status.engine`` differ.

One difference is real and pinned here rather than hidden: a TaskRun does not carry what a
failing action (or a failing kubernaut helper step) printed, so a *failed* step's message differs
(docs/engines.md, "Where V2 cannot say what V1 says"). Those scenarios compare everything else
exactly, assert both texts, and keep a strict xfail on full equality so that closing the gap shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from parity_harness import (
    FAILURE_MASK,
    HERE,
    ROOT,
    Scenario,
    comparable,
    differences,
    run_cli,
    run_library,
    summary,
)

SCRIPTED = HERE / "workflows" / "scripted.yaml"
NOT_RUN = ("Skipped", 0)


@dataclass(frozen=True)
class Case:
    scenario: Scenario
    phase: str
    steps: dict[str, tuple[str, int]]
    #: (V1's message, V2's message) of the failed step, when the known gap applies.
    gap: tuple[str, str] | None = None


CASES = [
    Case(Scenario("echo-example", ROOT / "examples" / "echo-data-passing.yaml"), "Succeeded",
         {"produce": ("Succeeded", 1), "consume": ("Succeeded", 1), "only-when-enabled": ("Succeeded", 1),
          "never": NOT_RUN}),
    Case(Scenario("rich-data-passing", HERE / "workflows" / "rich-data-passing.yaml"), "Succeeded",
         {"source": ("Succeeded", 1), "left": ("Succeeded", 1), "right": ("Succeeded", 1), "join": ("Succeeded", 1),
          "disabled": NOT_RUN, "after-disabled": ("Succeeded", 1), "reads-disabled": NOT_RUN, "cascade": NOT_RUN,
          "cascade-deeper": NOT_RUN, "equals-on-skipped": NOT_RUN, "differs-on-skipped": NOT_RUN,
          "identity-guard": ("Succeeded", 1)}),
    Case(Scenario("retry-succeeds-on-attempt-3", SCRIPTED, """
        steps:
          flaky:
            - {result: failed, message: "connection reset"}
            - {result: failed, message: "connection reset again", exitCode: 3}
            - {result: succeeded, outputs: {target: payments, sha: abc123, changed: "true"}, duration: 5s}
          slow: [{duration: 20s}]
     """), "Succeeded",
         {"prepare": ("Succeeded", 1), "flaky": ("Succeeded", 3), "slow": ("Succeeded", 1),
          "report": ("Succeeded", 1), "notify": ("Succeeded", 1), "cleanup": ("Succeeded", 1)}),
    Case(Scenario("retries-exhausted", SCRIPTED, """
        steps:
          flaky: [{result: failed, message: "permission denied"}]
          slow: [{duration: 20s}]
     """), "Failed",
         {"prepare": ("Succeeded", 1), "flaky": ("Failed", 3), "slow": ("Succeeded", 1),
          "report": NOT_RUN, "notify": NOT_RUN, "cleanup": NOT_RUN},
         gap=("permission denied", "the action exited with code 1")),
    Case(Scenario("failure-stops-the-workflow", SCRIPTED, """
        steps:
          slow: [{result: failed, message: "disk full", exitCode: 28}]
          flaky: [{outputs: {target: payments, sha: abc123, changed: "false"}, duration: 20s}]
     """), "Failed",
         {"prepare": ("Succeeded", 1), "flaky": ("Succeeded", 1), "slow": ("Failed", 1),
          "report": NOT_RUN, "notify": NOT_RUN, "cleanup": NOT_RUN},
         gap=("disk full", "the action exited with code 28")),
    Case(Scenario("attempt-timeout-then-success", SCRIPTED, """
        steps:
          flaky:
            - {duration: 1m}
            - {outputs: {target: payments, sha: abc123, changed: "false"}, duration: 2s}
     """), "Succeeded",
         {"prepare": ("Succeeded", 1), "flaky": ("Succeeded", 2), "slow": ("Succeeded", 1),
          "report": ("Succeeded", 1), "notify": NOT_RUN, "cleanup": ("Succeeded", 1)}),
    Case(Scenario("attempt-timeouts-exhausted", SCRIPTED, """
        steps:
          flaky: [{duration: 1m}]
     """), "Failed",
         {"prepare": ("Succeeded", 1), "flaky": ("Failed", 3), "slow": ("Succeeded", 1),
          "report": NOT_RUN, "notify": NOT_RUN, "cleanup": NOT_RUN}),
    Case(Scenario("workflow-timeout", SCRIPTED, """
        steps:
          slow: [{duration: 1h}]
     """), "Failed",
         {"prepare": ("Succeeded", 1), "flaky": ("Succeeded", 1), "slow": ("Cancelled", 1),
          "report": ("Succeeded", 1), "notify": NOT_RUN, "cleanup": NOT_RUN}),
    Case(Scenario("outputs-too-large", SCRIPTED, """
        steps:
          prepare: [{outputs: {target: "%s"}}]
     """ % ("x" * 4100)), "Failed",
         {"prepare": ("Failed", 1), "flaky": NOT_RUN, "slow": NOT_RUN, "report": NOT_RUN, "notify": NOT_RUN,
          "cleanup": NOT_RUN},
         gap=("outputs exceed the 4096-byte termination-message limit (4113 bytes)",
              '"step-publish-outputs" exited with code 1')),
    Case(Scenario("read-output-not-produced", SCRIPTED, """
        steps:
          flaky: [{outputs: {target: payments, changed: "true"}}]
     """), "Failed",
         {"prepare": ("Succeeded", 1), "flaky": ("Failed", 3), "slow": ("Succeeded", 1), "report": NOT_RUN,
          "notify": NOT_RUN, "cleanup": NOT_RUN},
         gap=("step 'flaky' did not produce output 'sha' (read by later steps)",
              '"step-publish-outputs" exited with code 1')),
]
GAPS = [c for c in CASES if c.gap is not None]


def _ids(cases: list[Case]) -> list[str]:
    return [c.scenario.id for c in cases]


def _check(case: Case, jobs: dict[str, object], tekton: dict[str, object]) -> None:
    for engine, wfe in (("jobs", jobs), ("tekton", tekton)):
        status = wfe["status"]
        assert isinstance(status, dict)
        assert (status["phase"], status["engine"]) == (case.phase, engine), engine
        assert summary(wfe) == case.steps, engine
    mask = case.gap is not None
    found = differences(comparable(jobs, mask_failures=mask), comparable(tekton, mask_failures=mask))
    assert not found, "\n".join(found)
    if case.gap is not None:
        for wfe, expected in zip((jobs, tekton), case.gap, strict=True):
            status = wfe["status"]
            assert isinstance(status, dict)
            (failed,) = [s for s in status["steps"] if s["phase"] == "Failed"]
            assert failed["message"] == expected
            assert status["message"] == expected


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_library_runs_agree(case: Case) -> None:
    _check(case, run_library(case.scenario, "jobs"), run_library(case.scenario, "tekton"))


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_kubernaut_run_agrees(case: Case, tmp_path: Path) -> None:
    jobs_code, jobs = run_cli(case.scenario, "jobs", tmp_path)
    tekton_code, tekton = run_cli(case.scenario, "tekton", tmp_path)
    assert jobs_code == tekton_code == (0 if case.phase == "Succeeded" else 1)
    _check(case, jobs, tekton)
    # The CLI runs the very loop the library does.
    assert comparable(tekton) == comparable(run_library(case.scenario, "tekton"))


@pytest.mark.xfail(strict=True, reason="known gap: a TaskRun does not carry a failing action's or helper's "
                                       "own message (docs/engines.md)")
@pytest.mark.parametrize("case", GAPS, ids=_ids(GAPS))
def test_failed_step_messages_agree_too(case: Case) -> None:
    jobs, tekton = run_library(case.scenario, "jobs"), run_library(case.scenario, "tekton")
    assert comparable(jobs) == comparable(tekton)


def test_the_mask_only_hides_failure_messages() -> None:
    wfe = {"status": {"engine": "jobs", "message": "boom", "startTime": "t",
                      "conditions": [{"type": "Succeeded", "message": "boom", "lastTransitionTime": "t"},
                                     {"type": "Compiled", "message": "2 step(s)"}],
                      "steps": [{"name": "a", "phase": "Failed", "message": "boom", "startTime": "t"},
                                {"name": "b", "phase": "Skipped", "message": "not run: workflow failed"}]}}
    assert comparable(wfe, mask_failures=True) == {
        "message": FAILURE_MASK,
        "conditions": [{"type": "Succeeded", "message": FAILURE_MASK}, {"type": "Compiled", "message": "2 step(s)"}],
        "steps": [{"name": "a", "phase": "Failed", "message": FAILURE_MASK},
                  {"name": "b", "phase": "Skipped", "message": "not run: workflow failed"}]}
