"""Issue #15, item 8: outputs at the 4096-byte boundary behave on ``kubernaut run``'s simulated
kubelet as on a real cluster, and the same on both engines.

The kubelet keeps the *last* 4096 bytes of a termination message (``tail.ReadAtMost``), so an
action printing 4096 bytes of JSON and a newline loses its opening ``{`` on a real V1 cluster. The
simulation now cuts the same end; the SDK refuses outputs whose printed text (newline included)
exceeds 4096 bytes; V2's ``publish-outputs`` counts the printed text too. So at 4095 bytes of JSON
V1 succeeds, at 4096 and 4097 both engines fail with an outputs-size reason — the SDK's own error
when the action uses it. (V2's results envelope lowers its own limit below 4095, as before.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND
from kubernaut.sdk import MAX_OUTPUT_BYTES
from reconciler.app import AppConfig, install
from reconciler.simulation import Simulation
from reconciler.simulation.process import kubelet_termination_file, termination_message
from reconciler.simulation.tekton import add_tekton
from reconciler.simulation.wiring import simulated_pods
from reconciler.status import TERMINAL_WORKFLOW_PHASES
from reconciler.verification import ImagePolicy
from reconciler.workflow_controller import FINALIZER
from targets.common.outputs import OUTPUTS_LIMIT

IMAGE = "registry.example/print@sha256:" + "a" * 64
ENGINES = ("jobs", "tekton")
SIZES = (4095, 4096, 4097)

# Prints one JSON object of exactly SIZE bytes: with print() (a newline after it, like most
# actions) or through the SDK.
RAW = "import json, sys\nsize = int(sys.argv[1])\nprint(json.dumps({'v': 'x' * (size - 8)}, separators=(',', ':')))\n"
SDK = ("import sys\nfrom kubernaut.sdk import run_action\nsize = int(sys.argv[1])\n"
       "sys.exit(run_action(lambda inputs: {'v': 'x' * (size - 8)}))\n")


def _workflow(name: str, engine: str) -> dict[str, Any]:
    return {
        "apiVersion": WFE_API_VERSION, "kind": WFE_KIND,
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"engine": engine, "steps": [
            {"name": "big", "actionType": "custom/print", "image": IMAGE, "retries": 0}]},
    }


def _run(script: Path, size: int, engine: str) -> dict[str, Any]:
    sim = Simulation(entrypoints={"custom/print": (sys.executable, str(script), str(size))})
    add_tekton(sim)
    install(sim.manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods))
    created = sim.cluster.create(_workflow(f"out-{size}", engine))
    name = created["metadata"]["name"]

    def finished() -> bool:
        wfe = sim.cluster.get(WFE_API_VERSION, WFE_KIND, name, "default")
        return ((wfe.get("status") or {}).get("phase") in TERMINAL_WORKFLOW_PHASES
                and FINALIZER not in (wfe["metadata"].get("finalizers") or []))

    assert sim.run_until(finished, 3600), f"{name} did not finish on {engine}"
    status = sim.cluster.get(WFE_API_VERSION, WFE_KIND, name, "default")["status"]
    (step,) = status["steps"]
    return step  # type: ignore[no-any-return]


def test_the_sdk_and_the_outputs_check_agree_on_the_limit() -> None:
    assert MAX_OUTPUT_BYTES == OUTPUTS_LIMIT == 4096


def test_the_simulated_kubelet_keeps_the_last_4096_bytes() -> None:
    printed = json.dumps({"v": "x" * (4096 - 8)}, separators=(",", ":")) + "\n"
    assert len(printed.encode()) == 4097
    kept = kubelet_termination_file(printed)
    assert kept == printed[1:]  # the '{' is gone, as on a real node
    assert termination_message(printed, "", 0, "File") == printed[1:]
    assert kubelet_termination_file("é" * 3000).encode() == ("é" * 2048).encode()  # never half a character


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("size", SIZES)
def test_printed_outputs_at_the_boundary(tmp_path: Path, engine: str, size: int) -> None:
    script = tmp_path / "raw.py"
    script.write_text(RAW)
    step = _run(script, size, engine)
    if engine == "jobs" and size + 1 <= OUTPUTS_LIMIT:
        assert step["phase"] == "Succeeded", step
        assert step["outputs"] == {"v": "x" * (size - 8)}
    else:
        # V2 carries the outputs inside Tekton's results envelope, which takes some of the 4096
        # bytes: its limit is lower, and said so (docs/action-sdk.md).
        assert step["phase"] == "Failed", step
        assert step["failure"]["reason"] == "InvalidOutputs"
        assert step["message"].startswith("outputs exceed the 4096-byte termination-message limit"), step


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("size", SIZES)
def test_sdk_outputs_at_the_boundary(tmp_path: Path, engine: str, size: int) -> None:
    script = tmp_path / "sdk_action.py"
    script.write_text(SDK)
    step = _run(script, size, engine)
    if size + 1 <= MAX_OUTPUT_BYTES:
        if engine == "tekton":  # within the SDK's limit, above the results envelope's (see above)
            assert step["message"].startswith("outputs exceed the 4096-byte termination-message limit: as Tekton "
                                              "results"), step
        else:
            assert step["phase"] == "Succeeded", step
            assert len(json.dumps(step["outputs"], separators=(",", ":")).encode()) == size
    else:
        # The SDK refuses before printing anything: a clear reason instead of a cut '{'.
        assert step["phase"] == "Failed", step
        assert step["message"] == (f"error: outputs are {size} bytes; with the newline that ends them they exceed "
                                   "the 4096-byte termination-message limit (at most 4095 bytes of JSON; write "
                                   "large data to the workspace instead)"), step
