"""Helpers of the Tekton simulation's tests (imported by name: conftest puts this directory on
sys.path): compile a workflow with the real front end and the
tekton target, create its Task, Pipeline and PipelineRun in a MemoryCluster, run the Manager
until the PipelineRun finishes, and read what came out."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler import ir
from compiler.contracts import load_catalog
from compiler.frontend import compile_files, compile_source
from kubernaut.actions import LOCAL_ENTRYPOINTS
from reconciler.simulation import Simulation, parse_outcomes
from reconciler.simulation.tekton import TektonSimulators, add_tekton, run_finished
from targets.tekton import compile_workflow

ROOT = Path(__file__).resolve().parents[3]
NS = "ns"
TEKTON = "tekton.dev/v1"


def workflow_yaml(steps: str, *, name: str = "wf", namespace: str = NS, extra_spec: str = "") -> str:
    body = textwrap.indent(textwrap.dedent(steps).strip("\n"), "    ")
    extra = textwrap.indent(textwrap.dedent(extra_spec).strip("\n"), "  ") + "\n" if extra_spec else ""
    return ("apiVersion: workflowexecution.kubernaut.ai/v1alpha1\nkind: WorkflowExecution\n"
            f"metadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n{extra}  steps:\n{body}\n")


def lower(steps: str, **kwargs: Any) -> ir.Workflow:
    catalog, problems = load_catalog()
    assert problems == []
    result = compile_source("test.yaml", workflow_yaml(steps, **kwargs).encode(), catalog)
    errors = [d.headline() for d in result.diagnostics if d.is_error]
    assert not errors, errors
    (wf,) = result.workflows
    return wf


def lower_file(path: Path) -> ir.Workflow:
    result = compile_files([path])
    assert result.ok, [d.headline() for d in result.diagnostics]
    (wf,) = result.workflows
    return wf


ECHO = "kubernaut/echo"
ECHO_IMAGE = "ghcr.io/kubernaut/actions/echo@sha256:" + "0" * 64


def echo_step(name: str, inputs: str = "{}", extra: str = "") -> str:
    """One kubernaut/echo step as workflow YAML (``extra``: more keys, one per line)."""
    lines = [f"- name: {name}", f"  actionType: {ECHO}", f"  image: {ECHO_IMAGE}", f"  inputs: {inputs}"]
    lines += [f"  {line}" for line in textwrap.dedent(extra).strip("\n").splitlines() if line.strip()]
    return "\n".join(lines) + "\n"


@dataclass
class TektonRun:
    """One workflow's Tekton objects on a simulated cluster."""

    sim: Simulation
    tekton: TektonSimulators
    workflow: ir.Workflow
    objects: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return self.workflow.name

    @property
    def namespace(self) -> str:
        return self.workflow.namespace or NS

    def create(self, *, skip: tuple[str, ...] = (), pr_patch: Callable[[dict[str, Any]], None] | None = None) -> None:
        for obj in self.objects:
            if obj["kind"] in skip:
                continue
            if obj["kind"] == "PipelineRun" and pr_patch is not None:
                pr_patch(obj)
            self.sim.cluster.create(obj)

    def run(self, max_seconds: float = 6 * 3600) -> dict[str, Any]:
        assert self.sim.run_until(lambda: run_finished(self.pr()), max_seconds), self.pr().get("status")
        return self.pr()

    def pr(self) -> dict[str, Any]:
        return self.sim.cluster.get(TEKTON, "PipelineRun", self.name, self.namespace)

    def taskrun(self, task: str) -> dict[str, Any]:
        (found,) = self.sim.cluster.list(TEKTON, "TaskRun", self.namespace,
                                         {"tekton.dev/pipelineTask": task}).items
        return found

    def taskruns(self) -> dict[str, dict[str, Any]]:
        items = self.sim.cluster.list(TEKTON, "TaskRun", self.namespace).items
        return {tr["metadata"]["labels"]["tekton.dev/pipelineTask"]: tr for tr in items}

    def outputs(self, task: str) -> Any:
        return json.loads(result(self.taskrun(task), "outputs"))

    def skipped(self) -> dict[str, str]:
        return {s["name"]: s["reason"] for s in self.pr()["status"].get("skippedTasks") or []}


def result(taskrun: dict[str, Any], name: str) -> Any:
    for entry in taskrun["status"].get("results") or []:
        if entry["name"] == name:
            return entry["value"]
    raise KeyError(name)


def condition(obj: dict[str, Any]) -> tuple[str, str, str]:
    """(status, reason, message) of the Succeeded condition of an object or of a bare status
    (a ``retriesStatus`` entry)."""
    status = obj if "conditions" in obj else obj.get("status") or {}
    (cond,) = [c for c in status.get("conditions") or [] if c["type"] == "Succeeded"]
    return cond["status"], cond["reason"], cond["message"]


def make_run(workflow: ir.Workflow, outcomes: str | None = None, **kwargs: Any) -> TektonRun:
    """A prepared TektonRun; ``outcomes``: an outcomes document (YAML), ``kwargs`` go to Simulation."""
    loaded = parse_outcomes(textwrap.dedent(outcomes)).outcomes if outcomes else None
    sim = Simulation(outcomes=loaded, entrypoints=kwargs.pop("entrypoints", LOCAL_ENTRYPOINTS), **kwargs)
    return TektonRun(sim, add_tekton(sim), workflow, compile_workflow(workflow))


def reason(obj: dict[str, Any]) -> str | None:
    """The Succeeded condition's reason, None while there is none."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond["type"] == "Succeeded":
            return str(cond["reason"])
    return None
