"""Run a workflow on both engines' simulations with *real* action processes.

The simulations run each action container as the kubelet would: the container's env (after the
kubelet's ``$(VAR)`` expansion and, on V2, Tekton's substitutions and step results), the
container's ``command``/``args`` or — for an ``env`` action, which sets neither — the image's own
``ENTRYPOINT``. The "image" here is a local entrypoint script per action type, run under ``sh``.
"""

from __future__ import annotations

import copy
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from compiler.contracts import load_catalog
from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND
from reconciler.app import AppConfig, install
from reconciler.simulation import Simulation
from reconciler.simulation.tekton import add_tekton
from reconciler.simulation.wiring import simulated_pods
from reconciler.status import TERMINAL_WORKFLOW_PHASES
from reconciler.verification import ImagePolicy
from reconciler.workflow_controller import FINALIZER

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "golden"
UPSTREAM = ROOT / "tests" / "data" / "kubernaut-upstream"
ENGINES = ("jobs", "tekton")


def image_entrypoint(dockerfile: Path) -> list[str]:
    """The exec-form ``ENTRYPOINT`` of a Dockerfile (what the kubelet runs when a container sets
    no ``command``)."""
    found = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", dockerfile.read_text(), re.MULTILINE)
    assert found, f"{dockerfile} has no exec-form ENTRYPOINT"
    return list(yaml.safe_load(found.group(1)))


def install_image(files: Mapping[str, Path], root: Path) -> dict[str, str]:
    """Copy an image's scripts under ``root`` (executable); image path -> local path."""
    local: dict[str, str] = {}
    for image_path, source in files.items():
        target = root / image_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        target.chmod(0o755)
        local[image_path] = str(target)
    return local


def run_workflow(doc: Mapping[str, Any], engine: str, entrypoints: Mapping[str, Sequence[str]],
                 contracts: Sequence[Path] = (), objects: Sequence[Mapping[str, Any]] = ()) -> Simulation:
    """Run ``doc`` on ``engine`` until it is final; returns the simulation (cluster included)."""
    sim = Simulation(entrypoints=entrypoints)
    add_tekton(sim)
    catalog, problems = load_catalog(contracts)
    assert not [p for p in problems if p.is_error], problems
    install(sim.manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods, catalog=catalog))
    for obj in objects:
        sim.cluster.create(copy.deepcopy(dict(obj)))
    wfe = copy.deepcopy(dict(doc))
    wfe["spec"]["engine"] = engine
    created = sim.cluster.create(wfe)
    name, namespace = created["metadata"]["name"], created["metadata"]["namespace"]

    def finished() -> bool:
        current = sim.cluster.get(WFE_API_VERSION, WFE_KIND, name, namespace)
        return ((current.get("status") or {}).get("phase") in TERMINAL_WORKFLOW_PHASES
                and FINALIZER not in (current["metadata"].get("finalizers") or []))

    assert sim.run_until(finished, 4 * 3600), f"{name} did not finish on {engine}"
    return sim


def final(sim: Simulation, doc: Mapping[str, Any]) -> dict[str, Any]:
    meta = doc["metadata"]
    return sim.cluster.get(WFE_API_VERSION, WFE_KIND, meta["name"], meta.get("namespace"))


def steps(wfe: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in (wfe.get("status") or {}).get("steps") or []}


def load(path: Path) -> dict[str, Any]:
    return next(d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == WFE_KIND)
