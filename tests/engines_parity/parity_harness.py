"""Run one workflow on both engines — through the library and through ``kubernaut run`` — and
compare what users see: the WorkflowExecution's status, minus times and ``status.engine``."""

from __future__ import annotations

import copy
import json
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from compiler.contracts import load_catalog
from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND
from kubernaut.actions import LOCAL_ENTRYPOINTS
from kubernaut.cli import app
from reconciler.app import AppConfig, install
from reconciler.simulation import Simulation, parse_outcomes
from reconciler.simulation.tekton import add_tekton
from reconciler.simulation.wiring import simulated_pods
from reconciler.status import TERMINAL_WORKFLOW_PHASES
from reconciler.verification import ImagePolicy
from reconciler.workflow_controller import FINALIZER

ENGINES = ("jobs", "tekton")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: Contracts of the parity workflows' own action types (non-retryable exit codes, resource bounds).
CONTRACTS = HERE / "contracts"
_TIMES = ("startTime", "completionTime", "lastTransitionTime")


@dataclass(frozen=True)
class Scenario:
    """A workflow file and an outcomes document (YAML text, or None: run the entrypoints)."""

    id: str
    workflow: Path
    outcomes: str | None = None

    def document(self) -> dict[str, Any]:
        return yaml.safe_load(self.workflow.read_text())

    def outcomes_text(self) -> str | None:
        return textwrap.dedent(self.outcomes).lstrip() if self.outcomes else None


def run_library(scenario: Scenario, engine: str) -> dict[str, Any]:
    """The final WorkflowExecution after running on ``engine`` with kubernaut's controllers on
    an embedded cluster with both simulations (what ``kubernaut run`` wires up, without the CLI)."""
    text = scenario.outcomes_text()
    sim = Simulation(outcomes=parse_outcomes(text).outcomes if text else None, entrypoints=LOCAL_ENTRYPOINTS)
    add_tekton(sim)
    catalog, problems = load_catalog([CONTRACTS])
    assert not problems, problems
    install(sim.manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods, catalog=catalog))
    doc = copy.deepcopy(scenario.document())
    doc["spec"]["engine"] = engine
    created = sim.cluster.create(doc)
    name, namespace = created["metadata"]["name"], created["metadata"]["namespace"]

    def finished() -> bool:
        wfe = sim.cluster.get(WFE_API_VERSION, WFE_KIND, name, namespace)
        return ((wfe.get("status") or {}).get("phase") in TERMINAL_WORKFLOW_PHASES
                and FINALIZER not in (wfe["metadata"].get("finalizers") or []))

    assert sim.run_until(finished, 4 * 3600), f"{scenario.id} did not finish on {engine}"
    return sim.cluster.get(WFE_API_VERSION, WFE_KIND, name, namespace)


def run_cli(scenario: Scenario, engine: str, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    """``kubernaut run FILE --engine E --output json [--simulate OUTCOMES]``: exit code and output."""
    args = ["run", str(scenario.workflow), "--engine", engine, "--output", "json", "--contracts", str(CONTRACTS)]
    text = scenario.outcomes_text()
    if text:
        path = tmp_path / f"{scenario.id}-outcomes.yaml"
        path.write_text(text)
        args += ["--simulate", str(path)]
    result = CliRunner().invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout)


def comparable(wfe: Mapping[str, Any]) -> dict[str, Any]:
    """The status users compare: no times, no ``engine`` (nor ``specHash``: the specs differ in
    ``spec.engine``)."""
    status = copy.deepcopy(dict(wfe.get("status") or {}))
    status.pop("engine", None)
    status.pop("specHash", None)
    for key in _TIMES:
        status.pop(key, None)
    for step in status.get("steps") or []:
        for key in _TIMES:
            step.pop(key, None)
    for condition in status.get("conditions") or []:
        condition.pop("lastTransitionTime", None)
    return status


def differences(jobs: Mapping[str, Any], tekton: Mapping[str, Any]) -> list[str]:
    """Readable differences between two comparable statuses (empty when identical)."""
    out = [f"{key}: jobs={jobs.get(key)!r} tekton={tekton.get(key)!r}"
           for key in sorted(set(jobs) | set(tekton)) if key != "steps" and jobs.get(key) != tekton.get(key)]
    for a, b in zip(jobs.get("steps") or [], tekton.get("steps") or [], strict=False):
        if a != b:
            out.append(f"step {a.get('name')}: jobs={a!r}\n{' ' * (6 + len(str(a.get('name'))))}tekton={b!r}")
    if len(jobs.get("steps") or []) != len(tekton.get("steps") or []):
        out.append("different step counts")
    return out


def summary(wfe: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    return {s["name"]: (s["phase"], s["attempts"]) for s in (wfe.get("status") or {}).get("steps") or []}
