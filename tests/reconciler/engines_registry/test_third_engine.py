"""Issue 13's acceptance: a third engine is one new package plus one registration. The test
registers ``argo`` (``fake_argo_engine``) and shows routing, metrics, the compiler's check of
``spec.engine`` (CLI and controller), the assembly with the engine's own controller, the workflow
controller, ``kubernaut run`` with the engine's simulator, ``describe`` and ``route`` take it up
with no other edit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_argo_engine import ARGO, ARGO_ANYWHERE, NAME, SIMULATED, WORKFLOW_KIND, ArgoObserver, Register
from prometheus_client import generate_latest
from typer.testing import CliRunner

from compiler.contracts import load_catalog
from compiler.spec import API_VERSION, KIND
from kubernaut.cli import app as cli
from reconciler.app import AppConfig, install
from reconciler.compile import WorkflowCompiler, compile_object
from reconciler.controller import Key
from reconciler.inspect.engine_objects import StepObjects, step_attempts, workflow_objects
from reconciler.metrics import Metrics
from reconciler.routing import decide, parse_policy
from reconciler.simulation import Simulation
from reconciler.simulation.wiring import simulated_pods
from reconciler.verification import ImagePolicy

ROOT = Path(__file__).resolve().parents[3]
GITOPS = ROOT / "examples" / "gitops-pr.yaml"
IMAGE = "ghcr.io/kubernaut/actions/thing@sha256:" + "c" * 64


def policy_text(engine: str) -> str:
    return f"apiVersion: kubernaut.ai/v1alpha1\nkind: RoutingPolicy\ndefaultEngine: {engine}\n"


def workflow(engine: str = "auto") -> dict[str, object]:
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "wf", "namespace": "team"},
            "spec": {"engine": engine,
                     "steps": [{"name": "a", "actionType": "custom/thing", "image": IMAGE},
                               {"name": "b", "actionType": "custom/thing", "image": IMAGE, "runAfter": ["a"]}]}}


@pytest.fixture(autouse=True)
def _no_simulations_left() -> None:
    SIMULATED.clear()


def test_a_policy_may_name_a_registered_engine_only(register: Register) -> None:
    before = parse_policy("routing.yaml", policy_text(NAME))
    assert before.policy is None
    assert "routing.yaml:3:16: error[KN007]: defaultEngine: 'argo' is not allowed; expected 'jobs' or 'tekton'" \
        in before.render()
    register(ARGO)
    after = parse_policy("routing.yaml", policy_text(NAME))
    assert after.ok and after.policy is not None and after.policy.defaultEngine == NAME
    typo = parse_policy("routing.yaml", policy_text("argoo"))
    assert typo.policy is None
    rendered = typo.render()
    assert "defaultEngine: 'argoo' is not allowed; expected 'jobs', 'tekton' or 'argo'" in rendered
    assert "did you mean 'argo'?" in rendered


def test_routing_falls_back_with_the_engines_own_words_when_the_cluster_lacks_its_kinds(register: Register) -> None:
    register(ARGO)
    policy = parse_policy("routing.yaml", policy_text(NAME)).policy
    assert policy is not None
    wf = WorkflowCompiler(load_catalog()[0]).compile(workflow()).workflow
    assert wf is not None
    served: set[tuple[str, str]] = set()
    missing = decide(wf, "uid-1", policy, lambda api_version, kind: (api_version, kind) in served)
    assert (missing.engine, missing.fallback) == ("jobs", True)
    assert missing.reason == ("no rules; defaultEngine is argo; Argo Workflows is not installed (no argoproj.io "
                              "CRDs): falling back to jobs")
    served.add(("argoproj.io/v1alpha1", "Workflow"))
    chosen = decide(wf, "uid-1", policy, lambda api_version, kind: (api_version, kind) in served)
    assert (chosen.engine, chosen.fallback) == (NAME, False)


def test_metrics_export_the_registered_engines_series(register: Register) -> None:
    assert f'engine="{NAME}"' not in generate_latest(Metrics().registry).decode()
    register(ARGO)
    metrics = Metrics()
    metrics.workflow_started(NAME)
    text = generate_latest(metrics.registry).decode()
    assert f'kubernaut_workflows_started_total{{engine="{NAME}"}} 1.0' in text
    assert f'kubernaut_workflows_finished_total{{engine="{NAME}",outcome="Failed"}} 0.0' in text


def test_a_workflow_routed_to_the_new_engine_runs_on_it(register: Register) -> None:
    register(ARGO_ANYWHERE)
    policy = parse_policy("routing.yaml", policy_text(NAME)).policy
    assert policy is not None
    sim = Simulation()
    metrics = Metrics()
    built = install(sim.manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods,
                                           policy_provider=lambda: policy), metrics=metrics)
    assert list(built.engines) == ["jobs", "tekton", NAME]  # built by the registry from its import path
    # The engine's own controller is installed beside the others the engines declare.
    observers = [c for c in built.engine_controllers if isinstance(c, ArgoObserver)]
    assert len(observers) == 1 and len(built.engine_controllers) >= 2
    sim.cluster.create(workflow())

    def status() -> dict[str, object]:
        return sim.cluster.get(API_VERSION, KIND, "wf", "team").get("status") or {}

    assert sim.run_until(lambda: status().get("phase") == "Succeeded", 60)
    assert status()["engine"] == NAME
    text = generate_latest(metrics.registry).decode()
    assert f'kubernaut_workflows_started_total{{engine="{NAME}"}} 1.0' in text
    assert f'kubernaut_routing_decisions_total{{engine="{NAME}",rule="defaultEngine"}} 1.0' in text
    assert sim.run_until(lambda: Key("team", "wf") in observers[0].seen, 10)


def test_the_cli_offers_and_routes_to_the_new_engine(register: Register, tmp_path: Path) -> None:
    runner = CliRunner()
    refused = runner.invoke(cli, ["run", str(GITOPS), "--engine", "nope"])
    assert refused.exit_code == 2 and "--engine must be one of jobs, tekton, not 'nope'" in refused.stderr
    register(ARGO)
    refused = runner.invoke(cli, ["run", str(GITOPS), "--engine", "nope"])
    assert refused.exit_code == 2 and "--engine must be one of jobs, tekton, argo, not 'nope'" in refused.stderr
    config = tmp_path / "routing.yaml"
    config.write_text(policy_text(NAME))
    routed = runner.invoke(cli, ["route", str(GITOPS), "--config", str(config), "--unavailable", "tekton"])
    assert (routed.exit_code, routed.stdout) == (0, "payment-memory-fix: argo (no rules; defaultEngine is argo)\n")
    fallback = runner.invoke(cli, ["route", str(GITOPS), "--config", str(config), "--unavailable", NAME])
    assert fallback.stdout == ("payment-memory-fix: jobs (no rules; defaultEngine is argo; Argo Workflows is not "
                               "installed (no argoproj.io CRDs): falling back to jobs)\n")
    # The flag of the two-engine days still previews a cluster without any engine's CRDs.
    legacy = runner.invoke(cli, ["route", str(GITOPS), "--config", str(config), "--no-tekton"])
    assert legacy.stdout == fallback.stdout


def test_spec_engine_may_name_a_registered_engine_only(register: Register, tmp_path: Path) -> None:
    runner = CliRunner()
    path = tmp_path / "wf.yaml"
    text = GITOPS.read_text(encoding="utf-8")
    assert "\nspec:\n" in text
    path.write_text(text.replace("\nspec:\n", f"\nspec:\n  engine: {NAME}\n", 1), encoding="utf-8")
    refused = runner.invoke(cli, ["validate", str(path)])
    assert refused.exit_code == 1
    assert "error[KN007]: spec.engine: 'argo' is not allowed; expected 'auto', 'jobs' or 'tekton'" in refused.stderr
    # The controller compiles with the same names: it refuses the workflow (SpecInvalid) as validate does.
    assert not compile_object(workflow(NAME), load_catalog()[0]).ok
    register(ARGO)
    assert runner.invoke(cli, ["validate", str(path)]).exit_code == 0
    assert compile_object(workflow(NAME), load_catalog()[0]).ok
    path.write_text(text.replace("\nspec:\n", "\nspec:\n  engine: argoo\n", 1), encoding="utf-8")
    typo = runner.invoke(cli, ["validate", str(path)])
    assert typo.exit_code == 1
    assert "spec.engine: 'argoo' is not allowed; expected 'auto', 'jobs', 'tekton' or 'argo'" in typo.stderr
    assert "did you mean 'argo'?" in typo.stderr


def test_kubernaut_run_adds_the_engines_simulator(register: Register) -> None:
    register(ARGO_ANYWHERE)
    result = CliRunner().invoke(cli, ["run", str(GITOPS), "--engine", NAME, "--output", "json"])
    assert result.exit_code == 0, result.stderr
    assert len(SIMULATED) == 1  # the registry's simulator, loaded by name for this run only
    assert '"engine": "argo"' in result.stdout and '"phase": "Succeeded"' in result.stdout


def test_describe_finds_the_step_objects_where_the_registry_points(register: Register) -> None:
    wfe = {**workflow(), "status": {"engine": NAME}}
    source = Simulation().cluster
    assert step_attempts(source, wfe, "a") == StepObjects(None) and workflow_objects(NAME) == ()
    register(ARGO)
    found = step_attempts(source, wfe, "a")
    assert found.parent is not None and (found.parent.kind, found.parent.name) == (WORKFLOW_KIND, "wf")
    assert [child.name for child in found.parent.children] == ["wf-a"]
    assert workflow_objects(NAME) == (WORKFLOW_KIND,)


def test_the_controller_refuses_an_unregistered_engine_with_a_reason_and_an_event() -> None:
    sim = Simulation()
    install(sim.manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods))
    sim.cluster.create(workflow(NAME))

    def status() -> dict[str, Any]:
        return sim.cluster.get(API_VERSION, KIND, "wf", "team").get("status") or {}

    assert sim.run_until(lambda: status().get("phase") == "Failed", 60)
    compiled = next(c for c in status()["conditions"] if c["type"] == "Compiled")
    assert compiled["reason"] == "SpecInvalid"
    assert "error[KN007]: spec.engine: 'argo' is not allowed; expected 'auto', 'jobs' or 'tekton'" \
        in compiled["message"]
    events = sim.cluster.list("v1", "Event", "team").items
    assert any(e.get("reason") == "SpecInvalid" and "spec.engine: 'argo'" in str(e.get("message")) for e in events)
