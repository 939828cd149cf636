"""The in-cluster controller's helper image: ``--helper-image`` / the ConfigMap key ``helperImage``
reach the V2 engine; with the unreleased placeholder no TaskRun pod is ever created: a workflow
routed to tekton runs on jobs (``EngineFallback``), one that asked for tekton fails with a reason
and a ``HelperImageUnset`` Event. ``kubernaut run`` simulates the helper steps and is unaffected."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from support.workflows import step
from tekton_engine_harness import ALL_TEKTON, Harness, policy, wfe_condition, workflow
from typer.testing import CliRunner

from kubernaut.cli import app
from kubernaut.cli.commands.controller import HELPER_IMAGE_ENV
from reconciler.app import App, AppConfig
from reconciler.cluster.memory import MemoryCluster
from reconciler.service import ServiceConfig, serve
from reconciler.simulation.wiring import simulated_pods
from reconciler.verification import ImagePolicy
from targets.release import HELPER_IMAGE, is_placeholder
from targets.tekton import interface as i

ROOT = Path(__file__).resolve().parents[2]
BUILT = "registry.example:5000/ops/kubernaut@sha256:" + "4f" * 32
TWO_STEPS = step("a", inputs={"x": 1}) + step("b", inputs={"x": "$(steps.a.outputs.x)"})


def in_cluster(helper_image: str) -> Harness:
    """The controllers as ``kubernaut controller`` assembles them, routing everything to tekton."""
    config = AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods, helper_image=helper_image,
                       require_released_helper=True)
    return Harness(config=config, policy_provider=lambda: policy(ALL_TEKTON))


def test_a_routed_workflow_runs_on_jobs_when_no_helper_image_is_set() -> None:
    h = in_cluster(HELPER_IMAGE)
    h.create(workflow("routed", TWO_STEPS, spec=""))
    assert h.run(max_seconds=600)
    status = h.status("routed")
    assert (status["phase"], status["engine"]) == ("Succeeded", "jobs")
    state, reason, message = wfe_condition(status, "EngineFallback")
    assert (state, reason) == ("True", "EngineUnavailable")
    assert message.startswith("no rules; defaultEngine is tekton; the tekton engine has no helper image")
    assert "--helper-image" in message and message.endswith("falling back to jobs")
    assert ("Warning", "EngineFallback", message) in h.events("routed")
    assert h.objects("PipelineRun") == [] and h.objects("Task") == []


def test_a_workflow_that_asked_for_tekton_fails_with_the_reason() -> None:
    h = in_cluster(HELPER_IMAGE)
    h.create(workflow("asked", TWO_STEPS, spec="engine: tekton"))
    assert h.run(max_seconds=600)
    status = h.status("asked")
    assert (status["phase"], status["engine"]) == ("Failed", "tekton")
    assert status["message"].startswith("the workflow cannot start on the tekton engine: the tekton engine has no "
                                        "helper image: " + HELPER_IMAGE)
    assert "--helper-image" in status["message"] and "helperImage" in status["message"]
    assert wfe_condition(status, "Succeeded")[:2] == ("False", "Failed")
    assert [s["phase"] for s in status["steps"]] == ["Skipped", "Skipped"]
    assert [e for e in h.events("asked") if e[1] == "HelperImageUnset"] == [
        ("Warning", "HelperImageUnset", status["message"].removeprefix("the workflow cannot start on the tekton "
                                                                       "engine: "))]
    # Nothing that could sit in ImagePullBackOff: no Task, no run, no TaskRun.
    assert h.objects("Task") == [] and h.objects("PipelineRun") == [] and h.objects("TaskRun") == []


def test_a_configured_helper_image_runs_every_helper_step() -> None:
    h = in_cluster(BUILT)
    h.create(workflow("routed", TWO_STEPS, spec=""))
    assert h.run(max_seconds=600)
    assert (h.status("routed")["phase"], h.status("routed")["engine"]) == ("Succeeded", "tekton")
    (task,) = h.objects("Task")
    images = {s["name"]: s["image"] for s in task["spec"]["steps"]}
    assert images[i.STEP_RESOLVE] == images[i.STEP_PUBLISH] == BUILT


def test_the_embedded_cluster_runs_v2_with_the_placeholder() -> None:
    # kubernaut run: simulated TaskRuns pull nothing, so the placeholder must not stop them.
    assert is_placeholder(HELPER_IMAGE)
    result = CliRunner().invoke(app, ["run", str(ROOT / "examples" / "echo-data-passing.yaml"), "--engine", "tekton"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stdout + result.stderr


def _serve_once(helper_image: str) -> App:
    """``serve`` as ``kubernaut controller`` calls it, stopped as soon as the controllers exist."""
    stop = threading.Event()
    ready: list[App] = []

    def on_ready(app: App) -> None:
        ready.append(app)
        stop.set()

    serve(MemoryCluster(), ServiceConfig(metrics_port=None, leader_elect=False, image_policy="skip",
                                         helper_image=helper_image), stop, on_ready=on_ready)
    return ready[0]


def test_the_service_hands_its_helper_image_to_the_v2_engine(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="reconciler.service")
    configured = _serve_once(BUILT).engines["tekton"]
    assert configured.options.helper_image == BUILT  # type: ignore[attr-defined]
    assert configured.unavailable is None  # type: ignore[attr-defined]
    assert caplog.messages == []
    unset = _serve_once(HELPER_IMAGE).engines["tekton"]
    assert unset.unavailable is not None and "--helper-image" in unset.unavailable  # type: ignore[attr-defined]
    (warning,) = caplog.messages  # said once, at start, in the controller's log
    assert warning.startswith(f"no helper image is configured ({HELPER_IMAGE} is the placeholder")
    assert "--helper-image" in warning


def _controller_params(args: list[str]) -> dict[str, Any]:
    command = typer.main.get_command(app).commands["controller"]  # type: ignore[attr-defined]
    return dict(command.make_context("controller", args).params)


def test_the_deployment_feeds_the_configmap_key_to_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    deployment = yaml.safe_load((ROOT / "deploy" / "controller" / "deployment.yaml").read_text())
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    (env,) = [e for e in container["env"] if e["name"] == HELPER_IMAGE_ENV]
    ref = env["valueFrom"]["configMapKeyRef"]
    config = yaml.safe_load((ROOT / "deploy" / "controller" / "config.yaml").read_text())
    assert ref["name"] == config["metadata"]["name"] and ref["key"] in config["data"]
    assert not ref.get("optional")  # a missing key stops the pod with a clear reason, not a wrong default
    monkeypatch.setenv(HELPER_IMAGE_ENV, BUILT)
    assert _controller_params(container["args"][1:])["helper_image"] == BUILT
    monkeypatch.delenv(HELPER_IMAGE_ENV)
    assert _controller_params([])["helper_image"] == HELPER_IMAGE


def test_a_malformed_helper_image_stops_the_controller_with_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["controller", "--helper-image", "ghcr.io/kubernaut/kubernaut:latest",
                                      "--kubeconfig", "/nonexistent"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.startswith("kubernaut: --helper-image: image 'ghcr.io/kubernaut/kubernaut:latest' is not "
                                    "pinned by digest")
