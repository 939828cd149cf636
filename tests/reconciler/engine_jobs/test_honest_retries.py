"""Issue 12, honest retries on V1: a contract's non-retryable exit codes end the step at once
(the Job's podFailurePolicy FailJob), a pod disruption is not an attempt (Ignore), a step's
resources override reaches its container."""

from __future__ import annotations

from pathlib import Path

from jobs_engine_harness import Harness, echo_step, outcomes, workflow

from compiler.contracts import load_catalog
from reconciler.app import AppConfig
from reconciler.simulation.wiring import simulated_pods
from reconciler.verification import ImagePolicy

CONTRACTS = Path(__file__).resolve().parents[2] / "engines_parity" / "contracts"


def harness(script: str) -> Harness:
    catalog, problems = load_catalog([CONTRACTS])
    assert not problems
    return Harness(outcomes=outcomes(script), config=AppConfig(image_policy=ImagePolicy("skip"),
                                                               pod_lookup=simulated_pods, catalog=catalog))


def remediation(**fields: object) -> dict[str, object]:
    return workflow("fix", echo_step("fix", action_type="parity/remediate", retries=2, **fields)  # type: ignore[arg-type]
                    + echo_step("after", after=["fix"]))


def test_a_non_retryable_exit_code_fails_the_job_by_its_pod_failure_policy_and_is_not_retried() -> None:
    h = harness("steps: {fix: [{result: failed, exitCode: 3, message: 'deployment not found'}]}")
    h.create(remediation())
    assert h.run()
    assert h.steps("fix") == {"fix": ("Failed", 1), "after": ("Skipped", 0)}
    (job,) = h.objects("Job", "fix")
    failed = next(c for c in job["status"]["conditions"] if c["type"] == "Failed")
    assert failed["reason"] == "PodFailurePolicy" and "matching FailJob rule at index 0" in failed["message"]
    assert h.step("fix", "fix")["failure"] == {"reason": "ActionFailed", "exitCode": 3,
                                               "message": "deployment not found", "retryable": False}


def test_a_retryable_exit_code_is_retried() -> None:
    h = harness("steps: {fix: [{result: failed, exitCode: 1}, {outputs: {}}]}")
    h.create(remediation())
    assert h.run()
    assert h.steps("fix")["fix"] == ("Succeeded", 2)


def test_a_disruption_is_not_an_attempt() -> None:
    h = harness("""
        steps:
          fix: [{result: failed, reason: Disrupted}, {outputs: {ok: "yes"}}]
    """)
    h.create(remediation())
    assert h.run()
    assert h.steps("fix")["fix"] == ("Succeeded", 1)
    (job,) = [j for j in h.objects("Job", "fix") if j["metadata"]["labels"]["kubernaut.ai/step"] == "fix"]
    # One Job (one attempt), two pods: the disrupted one and the one the Ignore rule allowed.
    pods = [p for p in h.objects("Pod") if p["metadata"]["labels"].get("job-name") == job["metadata"]["name"]]
    disrupted = [p for p in pods if any(c["type"] == "DisruptionTarget" for c in p["status"]["conditions"])]
    assert (len(pods), len(disrupted)) == (2, 1)
    assert job["status"].get("failed") is None  # an ignored failure is not counted


def test_an_oom_kill_is_reported_and_retried() -> None:
    h = harness("steps: {fix: [{result: failed, reason: OOMKilled}, {outputs: {}}]}")
    h.create(remediation())
    assert h.run()
    assert h.steps("fix")["fix"] == ("Succeeded", 2)
    history = h.objects("ActionExecution", "fix")
    entry = next(a for a in history if a["spec"]["step"] == "fix")["status"]["attemptHistory"][0]
    assert entry["failure"]["reason"] == "OOMKilled" and entry["failure"]["exitCode"] == 137


def test_a_step_resources_override_reaches_its_container() -> None:
    h = harness("steps: {}")
    h.create(remediation(resources={"limits": {"memory": "128Mi"}, "requests": {"cpu": "200m"}}))
    assert h.run()
    job = next(j for j in h.objects("Job", "fix") if j["metadata"]["labels"]["kubernaut.ai/step"] == "fix")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == {"requests": {"cpu": "200m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}
