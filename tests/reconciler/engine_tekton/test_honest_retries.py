"""Issue 12, honest retries on V2: Tekton retries every failed TaskRun, so the engine cancels the
retry of an attempt that failed with a non-retryable exit code; the step reads as on V1."""

from __future__ import annotations

from pathlib import Path

from support.workflows import step
from tekton_engine_harness import Harness, outcomes, thing, workflow

from compiler.contracts import load_catalog
from reconciler.app import AppConfig
from reconciler.simulation.wiring import simulated_pods
from reconciler.verification import ImagePolicy

CONTRACTS = Path(__file__).resolve().parents[2] / "engines_parity" / "contracts"


def test_the_retry_of_a_non_retryable_failure_is_cancelled() -> None:
    catalog, problems = load_catalog([CONTRACTS])
    assert not problems
    h = Harness(outcomes=outcomes("""
        steps:
          fix:
            - {result: failed, exitCode: 3, message: "deployment not found"}
            - {outputs: {target: fixed}, duration: 1m}
    """), config=AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods, catalog=catalog))
    h.create(workflow("fix", step("fix", action_type="parity/remediate", retries=2, inputs={"target": "x"})
                      + thing("after", after=["fix"]), spec="engine: tekton"))
    assert h.run()
    assert h.steps("fix") == {"fix": ("Failed", 1), "after": ("Skipped", 0)}
    assert h.step("fix", "fix")["failure"] == {"reason": "ActionFailed", "exitCode": 3,
                                               "message": "deployment not found", "retryable": False}
    taskrun = h.taskruns("fix")["fix"]
    # Tekton started the retry; kubernaut cancelled it before its one-minute success.
    assert taskrun["spec"]["status"] == "TaskRunCancelled"
    assert len(taskrun["status"]["retriesStatus"]) == 1
    condition = next(c for c in taskrun["status"]["conditions"] if c["type"] == "Succeeded")
    assert condition["reason"] == "TaskRunCancelled"
    assert h.status("fix")["failureDetails"]["step"] == "fix"
