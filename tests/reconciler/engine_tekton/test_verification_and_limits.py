"""The image policy on V2 (every step image checked before the PipelineRun exists), workflows the
tekton target cannot express, and the engine's metrics."""

from __future__ import annotations

import json
from typing import Any

from support.verifiers import FakeVerifier
from tekton_engine_harness import IMAGE, Harness, outcomes, step, thing, workflow

from reconciler.app import AppConfig
from reconciler.simulation.wiring import simulated_pods
from reconciler.status import NOT_RUN_WORKFLOW_FAILED
from reconciler.verification import ImagePolicy

OTHER_IMAGE = "ghcr.io/kubernaut/actions/other@sha256:" + "b" * 64



def harness(policy: ImagePolicy) -> Harness:
    return Harness(config=AppConfig(image_policy=policy, pod_lookup=simulated_pods))


STEPS = step("good", inputs={"x": 1}) + step("evil", image=OTHER_IMAGE) + step("after", after=["evil"])


def test_a_rejected_image_fails_the_workflow_before_any_pipelinerun() -> None:
    verifier = FakeVerifier(rejected={OTHER_IMAGE})
    h = harness(ImagePolicy("verify", verifier))
    h.create(workflow("signed", STEPS))
    assert h.run()
    message = f"image verification failed for {OTHER_IMAGE}: no valid signature from the kubernaut release key"
    status = h.status("signed")
    assert (status["phase"], status["message"]) == ("Failed", message)
    # The whole run is one PipelineRun: nothing runs when any of its images is rejected.
    assert h.steps("signed") == {"good": ("Skipped", 0), "evil": ("Failed", 0), "after": ("Skipped", 0)}
    assert h.messages("signed") == {"good": NOT_RUN_WORKFLOW_FAILED, "evil": message, "after": NOT_RUN_WORKFLOW_FAILED}
    assert not h.objects("PipelineRun") and not h.objects("Pipeline")
    assert ("Warning", "SignatureVerificationFailed", message) in h.events("signed")
    assert h.step("signed", "evil")["failure"]["reason"] == "SignatureVerificationFailed"


def test_verified_images_run_with_the_accounts_their_steps_use() -> None:
    verifier = FakeVerifier()
    h = harness(ImagePolicy("verify", verifier))
    h.create(workflow("one", STEPS))
    assert h.run()
    assert h.status("one")["phase"] == "Succeeded"
    assert sorted(verifier.calls) == sorted([IMAGE, IMAGE, OTHER_IMAGE])
    (run,) = h.objects("PipelineRun")
    accounts = {s["pipelineTaskName"]: s.get("serviceAccountName") for s in run["spec"]["taskRunSpecs"]}
    assert [(c.namespace, c.service_account) for c in verifier.contexts] == [
        ("default", accounts[name]) for name in ("good", "evil", "after")]


ECHO_CONTRACT = b"""
apiVersion: kubernaut.ai/v1alpha1
kind: ActionContract
metadata: {name: kubernaut/echo}
spec:
  inputs:
    - {name: x, type: integer, required: true}
"""


def test_literal_inputs_are_checked_against_the_verified_images_contract() -> None:
    h = harness(ImagePolicy("verify", FakeVerifier(contracts={IMAGE: ECHO_CONTRACT})))
    h.create(workflow("typed", step("a", inputs={"x": 1}) + step("b", inputs={"x": "$(steps.a.outputs.x)"})
                      + step("c", inputs={"x": "one"})))
    assert h.run()
    message = f"the inputs of step 'c' do not fit the contract of {IMAGE}: input 'x' must be integer, not string"
    assert h.status("typed")["message"] == message
    assert h.step("typed", "c")["failure"]["reason"] == "InvalidInputs"
    assert not h.objects("PipelineRun")


def test_references_are_left_to_run_time() -> None:
    h = harness(ImagePolicy("verify", FakeVerifier(contracts={IMAGE: ECHO_CONTRACT})))
    h.create(workflow("deferred", step("a", inputs={"x": 1}) + step("b", inputs={"x": "$(steps.a.outputs.x)"})))
    assert h.run()
    assert h.status("deferred")["phase"] == "Succeeded"


def test_verify_without_a_verifier_fails_closed() -> None:
    h = harness(ImagePolicy("verify"))
    h.create(workflow("unverified", step("a")))
    assert h.run()
    assert h.steps("unverified") == {"a": ("Failed", 0)}
    assert "no verifier is configured" in h.status("unverified")["message"]
    assert not h.objects("PipelineRun")


def test_a_verifier_that_cannot_decide_is_asked_again_and_nothing_runs_meanwhile() -> None:
    verifier = FakeVerifier(unreachable_times=3)
    h = harness(ImagePolicy("verify", verifier))
    h.create(workflow("later", step("a")))
    assert h.run_until(lambda: len(verifier.calls) >= 3)
    assert not h.objects("PipelineRun")
    assert h.run()
    assert h.steps("later") == {"a": ("Succeeded", 1)}
    assert len(verifier.calls) == 4
    assert ("Warning", "ImageVerificationRetrying", f"image verification of {IMAGE} could not be completed: "
            "registry unreachable; retrying, nothing runs meanwhile") in h.events("later")


def test_a_workflow_tekton_cannot_express_fails_with_the_diagnostic() -> None:
    h = Harness()
    h.create(workflow("odd", step("a", inputs={"x": "1"}) + step("b", when=["$(steps.a.outputs.x) == '$$(y)'"])))
    assert h.run()
    status = h.status("odd")
    assert status["phase"] == "Failed"
    assert status["message"].startswith("the workflow cannot run on the tekton engine: step 'b': guard ")
    assert h.steps("odd") == {"a": ("Skipped", 0), "b": ("Skipped", 0)}
    assert not h.objects("PipelineRun")


def test_metrics_are_labelled_with_the_engine() -> None:
    h = Harness(outcomes=outcomes("steps: {b: [{result: failed}]}"))
    h.create(workflow("ok", thing("a")))
    h.create(workflow("ko", thing("a") + thing("b", after=["a"])))
    assert h.run()
    text = h.app.metrics.exposition().decode()
    assert 'kubernaut_workflows_started_total{engine="tekton"} 2.0' in text
    assert 'kubernaut_workflows_finished_total{engine="tekton",outcome="Succeeded"} 1.0' in text
    assert 'kubernaut_workflows_finished_total{engine="tekton",outcome="Failed"} 1.0' in text
    assert 'kubernaut_step_duration_seconds_count{action_type="custom/thing",engine="tekton",outcome="Succeeded"} 2.0' \
        in text


SIGNED_BOUNDED = b"""
apiVersion: kubernaut.ai/v1alpha1
kind: ActionContract
metadata: {name: kubernaut/echo}
spec:
  inputs:
    - {name: x, type: integer, maximum: 5}
    - {name: y, type: integer}
"""


def _input_schema(pipeline: dict[str, Any], task: str) -> Any:
    (found,) = [t for t in pipeline["spec"]["tasks"] if t["name"] == task]
    (param,) = [p for p in found["params"] if p["name"] == "inputSchema"]
    return json.loads(param["value"].replace("\\u0024", "$"))


def test_references_are_checked_in_the_taskrun_against_the_signed_contract() -> None:
    # The catalog's kubernaut/echo takes any inputs; the image's signed contract bounds x. The value
    # of x exists only inside the TaskRun, so resolve-inputs must check it against the signed one.
    h = harness(ImagePolicy("verify", FakeVerifier(contracts={IMAGE: SIGNED_BOUNDED})))
    h.create(workflow("bounded", step("a", inputs={"y": 9}) + step("b", inputs={"x": "$(steps.a.outputs.y)"})))
    assert h.run()
    (pipeline,) = h.objects("Pipeline")
    assert _input_schema(pipeline, "b")["inputs"] == [{"name": "x", "type": "integer", "required": False, "maximum": 5},
                                                   {"name": "y", "type": "integer", "required": False}]
    assert h.steps("bounded") == {"a": ("Succeeded", 1), "b": ("Failed", 1)}
    assert h.step("bounded", "b")["message"].endswith("input 'x' = 9 is above the maximum 5")
    assert h.step("bounded", "b")["failure"]["reason"] == "InvalidInputs"


def test_images_of_one_action_type_with_different_signed_inputs_are_refused() -> None:
    other = SIGNED_BOUNDED.replace(b"maximum: 5", b"maximum: 6")
    h = harness(ImagePolicy("verify", FakeVerifier(contracts={IMAGE: SIGNED_BOUNDED, OTHER_IMAGE: other})))
    h.create(workflow("mixed", step("a", inputs={"y": 1}) + step("b", image=OTHER_IMAGE, inputs={"y": 2})))
    assert h.run()
    assert h.status("mixed")["message"] == ("the images of steps 'a' and 'b' implement 'kubernaut/echo' with "
                                            "different signed input declarations")
    assert not h.objects("PipelineRun")
