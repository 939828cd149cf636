"""Issues 6 and 12 acceptance: the same workflows and the same scripted outcomes give the same
status on ``jobs`` (V1) and ``tekton`` (V2) — phases, attempts, outputs, messages, conditions and
failure details (``status.failureDetails``, ``steps[].failure``) — through the library and through
``kubernaut run --output json``. Only times and ``status.engine`` differ.

A failed step's message is the action's own last stderr lines on both engines: V1 reads them from
the Job's termination message, V2 from the ``failure`` result in the failed step's
``terminated.message`` (docs/engines.md). Helper failures (outputs refused) read the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from parity_harness import (
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
REMEDIATE = HERE / "workflows" / "remediate.yaml"
ECHO_IMAGE = "ghcr.io/kubernaut/actions/echo@sha256:092c79e8f80e559e404bcf660c48f3522b67aba9ff1484b0367e1a4ddef7431d"
NOT_RUN = ("Skipped", 0)


def _failure(step: str | None, reason: str, message: str, exit_code: int | None = None,
             retryable: bool = True) -> dict[str, object]:
    found = {"step": step, "reason": reason, "exitCode": exit_code, "message": message, "retryable": retryable}
    return {k: v for k, v in found.items() if v is not None}


@dataclass(frozen=True)
class Case:
    scenario: Scenario
    phase: str
    steps: dict[str, tuple[str, int]]
    #: ``status.failureDetails`` of a failed workflow (both engines).
    failure: dict[str, object] | None = None


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
         failure=_failure("flaky", "ActionFailed", "permission denied", 1)),
    Case(Scenario("failure-stops-the-workflow", SCRIPTED, """
        steps:
          slow: [{result: failed, message: "disk full", exitCode: 28}]
          flaky: [{outputs: {target: payments, sha: abc123, changed: "false"}, duration: 20s}]
     """), "Failed",
         {"prepare": ("Succeeded", 1), "flaky": ("Succeeded", 1), "slow": ("Failed", 1),
          "report": NOT_RUN, "notify": NOT_RUN, "cleanup": NOT_RUN},
         failure=_failure("slow", "ActionFailed", "disk full", 28)),
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
          "report": NOT_RUN, "notify": NOT_RUN, "cleanup": NOT_RUN},
         failure=_failure("flaky", "DeadlineExceeded", "attempt 3 timed out after 30s")),
    Case(Scenario("workflow-timeout", SCRIPTED, """
        steps:
          slow: [{duration: 1h}]
     """), "Failed",
         {"prepare": ("Succeeded", 1), "flaky": ("Succeeded", 1), "slow": ("Cancelled", 1),
          "report": ("Succeeded", 1), "notify": NOT_RUN, "cleanup": NOT_RUN},
         failure=_failure(None, "DeadlineExceeded", "workflow timed out after 600s", retryable=True)),
    Case(Scenario("outputs-too-large", SCRIPTED, """
        steps:
          prepare: [{outputs: {target: "%s"}}]
     """ % ("x" * 4100)), "Failed",
         {"prepare": ("Failed", 1), "flaky": NOT_RUN, "slow": NOT_RUN, "report": NOT_RUN, "notify": NOT_RUN,
          "cleanup": NOT_RUN},
         failure=_failure("prepare", "InvalidOutputs",
                          "outputs exceed the 4096-byte termination-message limit (4113 bytes)", 0)),
    Case(Scenario("read-output-not-produced", SCRIPTED, """
        steps:
          flaky: [{outputs: {target: payments, changed: "true"}}]
     """), "Failed",
         {"prepare": ("Succeeded", 1), "flaky": ("Failed", 3), "slow": ("Succeeded", 1), "report": NOT_RUN,
          "notify": NOT_RUN, "cleanup": NOT_RUN},
         failure=_failure("flaky", "InvalidOutputs", "step 'flaky' did not produce output 'sha' (read by later steps)",
                          0)),
    Case(Scenario("non-retryable-exit-code", REMEDIATE, """
        steps:
          fix: [{result: failed, exitCode: 3, message: "deployment payments not found"}]
     """), "Failed",
         {"check": ("Succeeded", 1), "fix": ("Failed", 1), "verify": NOT_RUN},
         failure=_failure("fix", "ActionFailed", "deployment payments not found", 3, retryable=False)),
    Case(Scenario("retryable-then-non-retryable", REMEDIATE, """
        steps:
          fix:
            - {result: failed, message: "connection reset"}
            - {result: failed, exitCode: 4, message: "credentials refused"}
            - {outputs: {target: payments}}
     """), "Failed",
         {"check": ("Succeeded", 1), "fix": ("Failed", 2), "verify": NOT_RUN},
         failure=_failure("fix", "ActionFailed", "credentials refused", 4, retryable=False)),
    Case(Scenario("oom-killed", REMEDIATE, """
        steps:
          fix: [{result: failed, reason: OOMKilled}]
     """), "Failed",
         {"check": ("Succeeded", 1), "fix": ("Failed", 3), "verify": NOT_RUN},
         failure=_failure("fix", "OOMKilled", "the action ran out of memory and was killed (exit code 137)", 137)),
    Case(Scenario("image-pull-failed", REMEDIATE, """
        steps:
          fix: [{result: failed, reason: ImagePullBackOff}]
     """), "Failed",
         {"check": ("Succeeded", 1), "fix": ("Failed", 3), "verify": NOT_RUN},
         failure=_failure("fix", "ImagePullFailed", f'ImagePullBackOff: Back-off pulling image "{ECHO_IMAGE}"')),
    Case(Scenario("create-container-config-error", REMEDIATE, """
        steps:
          fix: [{result: failed, reason: CreateContainerConfigError, message: 'secret "git-token" not found'}]
     """), "Failed",
         {"check": ("Succeeded", 1), "fix": ("Failed", 1), "verify": NOT_RUN},
         failure=_failure("fix", "CreateContainerConfigError",
                          'CreateContainerConfigError: secret "git-token" not found', retryable=False)),
    Case(Scenario("last-lines-of-a-long-failure", REMEDIATE, """
        steps:
          fix:
            - result: failed
              exitCode: 2
              message: "step 1\\nstep 2\\n\\nstep 3\\nstep 4\\nstep 5\\nerror: rollout stuck"
     """), "Failed",
         {"check": ("Succeeded", 1), "fix": ("Failed", 3), "verify": NOT_RUN},
         failure=_failure("fix", "ActionFailed", "step 2\nstep 3\nstep 4\nstep 5\nerror: rollout stuck", 2)),
]


def _ids(cases: list[Case]) -> list[str]:
    return [c.scenario.id for c in cases]


def _check(case: Case, jobs: dict[str, object], tekton: dict[str, object]) -> None:
    for engine, wfe in (("jobs", jobs), ("tekton", tekton)):
        status = wfe["status"]
        assert isinstance(status, dict)
        assert (status["phase"], status["engine"]) == (case.phase, engine), engine
        assert summary(wfe) == case.steps, engine
        assert status.get("failureDetails") == case.failure, engine
        if case.failure is not None and "step" in case.failure:
            (failed,) = [s for s in status["steps"] if s["name"] == case.failure["step"]]
            expected = {k: v for k, v in case.failure.items() if k != "step"}
            assert failed["failure"] == expected, engine
            assert failed["message"] == case.failure["message"], engine
    found = differences(comparable(jobs), comparable(tekton))
    assert not found, "\n".join(found)


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


def test_every_failure_reason_in_the_cases_is_documented() -> None:
    documented = (ROOT / "docs" / "running.md").read_text()
    for case in CASES:
        if case.failure is not None:
            assert f"`{case.failure['reason']}`" in documented, case.failure["reason"]


def test_a_disruption_is_not_an_attempt_on_v1_but_is_one_on_tekton() -> None:
    # The one difference Tekton forces on honest retries (docs/engines.md, "Honest retries on
    # Tekton"): a TaskRun has no podFailurePolicy, so an evicted pod uses up a retry there.
    scenario = Scenario("disrupted", REMEDIATE, """
        steps:
          fix: [{result: failed, reason: Disrupted}, {outputs: {target: fixed}}]
    """)
    jobs, tekton = run_library(scenario, "jobs"), run_library(scenario, "tekton")
    assert summary(jobs)["fix"] == ("Succeeded", 1)
    assert summary(tekton)["fix"] == ("Succeeded", 2)
    assert jobs["status"]["phase"] == tekton["status"]["phase"] == "Succeeded"
