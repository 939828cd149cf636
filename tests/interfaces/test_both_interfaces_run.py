"""Both container interfaces executed for real on both engines, from the emitted manifests.

``golden/env-action`` chains a ``kubernaut`` action (``kubernaut/echo``: the Job's script or the
meta-Task's script runs ``/action-entrypoint``, here the local echo entrypoint, with
``ACTION_INPUTS``) and an ``env`` action (``acme/patch-config``: its image's own entrypoint, a
shell script, one variable per declared input, outputs through ``$KUBERNAUT_OUTPUTS``). Both
engines must show the action the same variables and give identical statuses.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from interface_harness import ENGINES, GOLDEN, ROOT, final, install_image, load, run_workflow, steps

from kubernaut.actions import LOCAL_ENTRYPOINTS

HERE = Path(__file__).resolve().parent
CONTRACTS = ROOT / "tests" / "interfaces" / "contracts"
EXPECTED_ENV = {
    "TARGET_NAME": "web-1",  # from a reference, resolved at run time
    "MODE": "merge",  # the contract's default
    "REPLICAS": "3",  # numbers and booleans as their JSON text
    "RATIO": "0.5",
    "DRY_RUN": "false",
    "LABELS": '{"tier":"gold $$HOME","owner":"ops"}',  # objects as compact JSON, every '$' kept
    "GIT_PASSWORD": "<unset>",  # nothing undeclared
    "ACTION_INPUTS": "<unset>",  # not the kubernaut interface
    "ARGS": "",  # the image's own entrypoint, no args
}


def _entrypoints(tmp_path: Path) -> dict[str, list[str]]:
    local = install_image({"/usr/bin/patch-config": HERE / "patch_config_entrypoint.sh"}, tmp_path / "image")
    return {"acme/patch-config": ["sh", local["/usr/bin/patch-config"]],
            "kubernaut/echo": list(LOCAL_ENTRYPOINTS["kubernaut/echo"])}


def _comparable(wfe: dict[str, Any]) -> dict[str, Any]:
    status = copy.deepcopy(wfe["status"])
    # specHash: the digest of each workflow's own spec, which differs in engine and image.
    for key in ("engine", "startTime", "completionTime", "conditions", "specHash"):
        status.pop(key, None)
    for step in status["steps"]:
        for key in ("startTime", "completionTime"):
            step.pop(key, None)
    return status


def test_both_interfaces_give_the_same_results_on_both_engines(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    doc = load(GOLDEN / "env-action" / "workflow.yaml")
    seen: dict[str, dict[str, str]] = {}
    results = {}
    for engine in ENGINES:
        seen_dir = tmp_path / engine
        seen_dir.mkdir()
        monkeypatch.setenv("SEEN_DIR", str(seen_dir))
        wfe = final(run_workflow(doc, engine, _entrypoints(tmp_path), [CONTRACTS]), doc)
        assert wfe["status"]["phase"] == "Succeeded", wfe["status"]
        text = (seen_dir / "patch.env").read_text()
        seen[engine] = dict(line.split("=", 1) for line in text.splitlines())
        results[engine] = _comparable(wfe)
    assert seen["jobs"] == EXPECTED_ENV
    assert seen["tekton"] == EXPECTED_ENV
    assert results["jobs"] == results["tekton"]
    by_name = steps({"status": results["jobs"]})
    # The env action's outputs (written to $KUBERNAUT_OUTPUTS) reach the next step.
    assert by_name["patch"]["outputs"] == {"patched": True, "revision": "web-1-r3"}
    assert by_name["report"]["outputs"] == {"revision": "web-1-r3"}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_reference_fed_value_breaking_a_constraint_fails_before_the_action(
        engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = load(GOLDEN / "env-action" / "workflow.yaml")
    doc["spec"]["steps"][0]["inputs"]["target"] = "Web_1"  # breaks TARGET_NAME's pattern
    monkeypatch.setenv("SEEN_DIR", str(tmp_path))
    sim = run_workflow(doc, engine, _entrypoints(tmp_path), [CONTRACTS])
    wfe = final(sim, doc)
    patch = steps(wfe)["patch"]
    assert wfe["status"]["phase"] == "Failed"
    assert patch["phase"] == "Failed"
    assert patch["message"] == ("the inputs of step 'patch' break the contract of 'acme/patch-config': input "
                                "'TARGET_NAME' = 'Web_1' does not match the pattern '^[a-z0-9-]+$'")
    assert not (tmp_path / "patch.env").exists()  # the action never ran
    if engine == "jobs":  # V1 checks in the controller: no Job, no pod
        jobs = [j["metadata"]["name"] for j in sim.cluster.objects("Job")]
        assert not any("patch" in name for name in jobs)
        assert patch["failure"]["reason"] == "InvalidInputs"


def test_outputs_file_is_the_one_channel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What an env action prints is its log, never its outputs: only $KUBERNAUT_OUTPUTS counts."""
    script = tmp_path / "print-only.sh"
    script.write_text('#!/bin/sh\necho \'{"patched": false, "revision": "from-stdout"}\'\n'
                      'printf \'{"patched": true, "revision": "from-file"}\' > "$KUBERNAUT_OUTPUTS"\n')
    doc = load(GOLDEN / "env-action" / "workflow.yaml")
    for engine in ENGINES:
        entrypoints = {**_entrypoints(tmp_path), "acme/patch-config": ["sh", str(script)]}
        wfe = final(run_workflow(doc, engine, entrypoints, [CONTRACTS]), doc)
        assert steps(wfe)["patch"]["outputs"] == {"patched": True, "revision": "from-file"}, engine
        assert json.dumps(steps(wfe)["report"]["outputs"]) == '{"revision": "from-file"}'
